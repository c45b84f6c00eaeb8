import { COLUMN_DEFAULTS } from './config-defaults.js';

/**
 * The tasks a config may name (`task:`), once: their descriptions (completion and hover) and the
 * data columns each reads, with their defaults. The engine's task registry
 * (src/engine/tasks/registry.ts) is keyed by these names, so a task missing on either side does
 * not compile.
 */
export const TASK_DOCS = {
  'text-classification': {
    description: 'Assign a label to a text or a pair of texts (sentiment, topic, natural language inference).',
    columns: {
      text_column: COLUMN_DEFAULTS.text_column,
      text_pair_column: undefined,
      label_column: COLUMN_DEFAULTS.label_column,
    },
  },
  'token-classification': {
    description: 'Assign a label to each word (named entity recognition, part-of-speech tagging).',
    columns: { tokens_column: COLUMN_DEFAULTS.tokens_column, tags_column: COLUMN_DEFAULTS.tags_column },
  },
  'question-answering': {
    description: 'Extract the span of a context that answers a question.',
    // SQuAD-style rows (question, context, answers) have no column keys.
    columns: {},
  },
  'causal-lm': {
    description: 'Predict the next token: continue pretraining or adapt a decoder to a domain.',
    columns: { text_column: COLUMN_DEFAULTS.text_column },
  },
  'masked-lm': {
    description:
      'Predict masked tokens (BERT-style pre-training): continue pre-training an encoder on domain text, or pre-train one from scratch.',
    columns: { text_column: COLUMN_DEFAULTS.text_column },
  },
  // The seq2seq columns have no defaults: a dataset names its columns, or its languages (source_lang).
  translation: {
    description:
      'Translate a text into another language with an encoder-decoder model (T5, mT5, flan-T5), as run_translation.py trains it.',
    columns: { source_column: undefined, target_column: undefined },
  },
  summarization: {
    description:
      'Write a summary of a text with an encoder-decoder model (T5, flan-T5), as run_summarization.py trains it.',
    columns: { source_column: undefined, target_column: undefined },
  },
} as const satisfies Readonly<
  Record<string, { description: string; columns: Readonly<Record<string, string | undefined>> }>
>;

export type TaskName = keyof typeof TASK_DOCS;

/** Every task name, in the table's order (the schema's enum). */
export const TASK_NAMES = Object.keys(TASK_DOCS) as readonly TaskName[];
