import { CONFIG_DEFAULTS } from './config-defaults.js';
import type { JsonSchema } from './config-schema.js';

/**
 * The config keys of translation and summarization (run_translation.py's and run_summarization.py's
 * arguments), spread into config-schema.ts's data and training sections.
 */
const columnName = { type: 'string', minLength: 1 } as const;

export const SEQ2SEQ_DATA_SCHEMA: Readonly<Record<string, JsonSchema>> = {
  source_column: {
    ...columnName,
    description:
      'translation and summarization: the column holding the input text (with `target_column`). Use these, or `source_lang` and `target_lang`.',
  },
  target_column: {
    ...columnName,
    description: 'translation and summarization: the column holding the text the model learns to write.',
  },
  source_lang: {
    ...columnName,
    description:
      'translation: the source language of rows shaped as Hugging Face translation datasets, `{"translation": {"en": "…", "de": "…"}}` (here `en`), with `target_lang`.',
  },
  target_lang: {
    ...columnName,
    description: "translation: the target language key of the rows' `translation` object (e.g. `de`).",
  },
  source_prefix: {
    type: 'string',
    description:
      'translation and summarization: text put before every source, as T5 was trained with, e.g. `translate English to German: ` or `summarize: `.',
  },
  max_source_length: {
    type: 'integer',
    minimum: 1,
    default: CONFIG_DEFAULTS.data.max_source_length,
    description:
      'translation and summarization: sources (prefix and end-of-sequence token included) are truncated to this many tokens.',
  },
  max_target_length: {
    type: 'integer',
    minimum: 1,
    default: CONFIG_DEFAULTS.data.max_target_length,
    description:
      'translation and summarization: targets (the labels, end-of-sequence token included) are truncated to this many tokens.',
  },
};

export const SEQ2SEQ_TRAINING_SCHEMA: Readonly<Record<string, JsonSchema>> = {
  label_smoothing: {
    type: 'number',
    minimum: 0,
    exclusiveMaximum: 1,
    default: CONFIG_DEFAULTS.training.label_smoothing,
    description:
      "translation and summarization: label smoothing ε, as transformers' `label_smoothing_factor`: the loss is (1 − ε) × the cross-entropy plus ε × the mean negative log-probability over the vocabulary. 0 turns it off.",
  },
};

export const SEQ2SEQ_EVAL_SCHEMA: Readonly<Record<string, JsonSchema>> = {
  generate: {
    type: 'boolean',
    default: CONFIG_DEFAULTS.eval.generate,
    description:
      "translation and summarization: at each evaluation, also decode the validation sources (Seq2SeqTrainer's `predict_with_generate`) and report `bleu` and `chrf` (translation) or `rouge1`, `rouge2`, `rougeL`, `rougeLsum` (summarization), or the ones `eval.metrics` lists, with sample translations in the run's events.",
  },
  num_beams: {
    type: 'integer',
    minimum: 1,
    description:
      "translation and summarization with `eval.generate`: beams of the evaluation's beam search (`generation_num_beams`); 1 is greedy. Defaults to the model's generation config.",
  },
  max_new_tokens: {
    type: 'integer',
    minimum: 1,
    description:
      "translation and summarization with `eval.generate`: tokens generated at most per validation row. Defaults to `data.max_target_length` − 1 (run_translation.py's generation `max_length`, which counts the decoder start token).",
  },
};
