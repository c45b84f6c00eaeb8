import type { DataConfig } from '../../shared/config.js';
import { COLUMN_DEFAULTS } from '../../shared/config-defaults.js';
import type { Label } from '../../shared/data-report.js';
import { type ChatMessage, conversationProblem, toMessages } from '../chat/messages.js';
import { DataError, type Source, typeName } from './errors.js';
import { at, present, text } from './fields.js';
import { seq2seqColumns, seq2seqExample, seq2seqFields } from './seq2seq-rows.js';

/**
 * Examples as the rest of the engine sees them, and the mapping from a file's row (a JSON object
 * or a CSV/TSV row under its header) to one, with the type checks that turn a wrong value into
 * an error naming the field, the line and what was expected.
 */
export type { Label };

export interface TextExample {
  kind: 'text';
  text: string;
  pair?: string;
  /** Absent for causal-lm and for multi-label rows. */
  label?: Label;
  /** Multi-label classification: the row's label column holds a list (possibly empty). */
  labels?: Label[];
  source: Source;
}

export interface TokensExample {
  kind: 'tokens';
  tokens: string[];
  tags: Label[];
  source: Source;
}

/**
 * SQuAD layout: answer i is `answers.text[i]`, found at `answers.answer_start[i]` of `context`.
 * Files count answer_start in characters (code points, Python's string indices, as SQuAD does);
 * here it is a JavaScript string index (UTF-16 units), converted at load: the two differ after a
 * character beyond the BMP (an emoji, some CJK), and the tokenizer's offsets are UTF-16 indices.
 */
export interface QaExample {
  kind: 'qa';
  id?: string;
  question: string;
  context: string;
  answers: { text: string[]; answer_start: number[] };
  source: Source;
}

/** Supervised fine-tuning, `prompt-completion` rows: the loss may cover the completion only. */
export interface CompletionExample {
  kind: 'completion';
  prompt: string;
  completion: string;
  source: Source;
}

/** Supervised fine-tuning, `messages` rows (OpenAI chat format, or ShareGPT converted). */
export interface ChatExample {
  kind: 'chat';
  messages: ChatMessage[];
  source: Source;
}

/**
 * Translation and summarization rows: a source text and the target the model learns to write, from
 * two columns or from Hugging Face's `translation: {<source_lang>: …, <target_lang>: …}`.
 */
export interface Seq2SeqExample {
  kind: 'seq2seq';
  sourceText: string;
  targetText: string;
  source: Source;
}

export type Example = TextExample | TokensExample | QaExample | CompletionExample | ChatExample | Seq2SeqExample;

/** Field names in the files, from the config (QA uses the fixed SQuAD names). */
export interface Columns {
  text: string;
  pair?: string;
  label: string;
  tokens: string;
  tags: string;
  /** Translation and summarization: the two columns, or the languages of a `translation` field. */
  seq2seq?: { source: string; target: string; from: 'columns' | 'translation' };
}

export const QA_FIELDS = { id: 'id', question: 'question', context: 'context', answers: 'answers' } as const;

/** TRL's column names of the supervised fine-tuning formats (fixed, as TRL fixes them). */
export const SFT_FIELDS = {
  prompt: 'prompt',
  completion: 'completion',
  messages: 'messages',
  /** ShareGPT's list of {from, value}, read as messages. */
  conversations: 'conversations',
} as const;

/**
 * The column names of a data config (or of command-line flags shaped like one), defaults filled in.
 * A resolved config has only the columns its task reads, so the others come from the defaults here.
 */
export function columnsFor(cfg: Partial<DataConfig>): Columns {
  return {
    text: cfg.text_column ?? COLUMN_DEFAULTS.text_column,
    ...(cfg.text_pair_column ? { pair: cfg.text_pair_column } : {}),
    label: cfg.label_column ?? COLUMN_DEFAULTS.label_column,
    tokens: cfg.tokens_column ?? COLUMN_DEFAULTS.tokens_column,
    tags: cfg.tags_column ?? COLUMN_DEFAULTS.tags_column,
    ...seq2seqColumns(cfg),
  };
}

/**
 * How a row of a data file reads: `labelled-text` (text, optional pair, label or list of labels),
 * `text` (text only), `tagged-tokens` (a word list and its tags), `squad` (question, context,
 * answers), `prompt-completion` and `messages` (TRL's supervised fine-tuning formats). Each task
 * plugin names the layout its rows have (tasks/<task>/).
 */
export type RowLayout = 'labelled-text' | 'text' | 'tagged-tokens' | 'squad' | 'seq2seq' | SftLayout;

/** The layouts of a language-modelling dataset (`data.format`). */
export type SftLayout = 'text' | 'prompt-completion' | 'messages';
export const SFT_LAYOUTS: readonly SftLayout[] = ['text', 'prompt-completion', 'messages'];

/**
 * The layout of a language-modelling row by its fields, as TRL tells its formats apart:
 * `messages` (or ShareGPT `conversations`), else `prompt` with `completion`, else plain text.
 */
export function detectSftLayout(row: RawRow): SftLayout {
  if (row.get(SFT_FIELDS.messages) !== undefined || row.get(SFT_FIELDS.conversations) !== undefined) return 'messages';
  if (row.get(SFT_FIELDS.prompt) !== undefined && row.get(SFT_FIELDS.completion) !== undefined)
    return 'prompt-completion';
  return 'text';
}

/** What the data pipeline needs to know of a task's data: its rows, and the labels it fixes. */
export interface DataFormat {
  /** `sft`: one of SFT_LAYOUTS, set by data.format or detected from the first training row. */
  rows: RowLayout | 'sft';
  /**
   * `classes`: one label per row, the label set fixed from the training data and the validation
   * split stratified by class; `tags`: per-token tags, with the IOB2 scheme checked.
   */
  labels?: 'classes' | 'tags';
  /**
   * Whether the texts are concatenated and cut into max_length blocks under this data config
   * (masked-lm's group_texts): then no text is truncated, and the data report does not warn that
   * long ones will be.
   */
  grouped?: (data: DataConfig) => boolean;
  /**
   * The length the examples' token counts are compared with in the data report, where it is not
   * data.max_length (translation: data.max_source_length).
   */
  reportedLength?: (data: DataConfig) => number | undefined;
}

/** The fields a row of this layout must have, with the config key that names each (for messages). */
export function requiredFields(layout: RowLayout, c: Columns): { name: string; key: string }[] {
  switch (layout) {
    case 'labelled-text':
      return [
        { name: c.text, key: 'data.text_column' },
        ...(c.pair ? [{ name: c.pair, key: 'data.text_pair_column' }] : []),
        { name: c.label, key: 'data.label_column' },
      ];
    case 'text':
      return [{ name: c.text, key: 'data.text_column' }];
    case 'tagged-tokens':
      return [
        { name: c.tokens, key: 'data.tokens_column' },
        { name: c.tags, key: 'data.tags_column' },
      ];
    case 'squad':
      return [
        { name: QA_FIELDS.question, key: 'SQuAD field' },
        { name: QA_FIELDS.context, key: 'SQuAD field' },
        { name: QA_FIELDS.answers, key: 'SQuAD field' },
      ];
    case 'prompt-completion':
      return [
        { name: SFT_FIELDS.prompt, key: 'data.format prompt-completion' },
        { name: SFT_FIELDS.completion, key: 'data.format prompt-completion' },
      ];
    case 'messages':
      return [{ name: SFT_FIELDS.messages, key: 'data.format messages' }];
    case 'seq2seq':
      return seq2seqFields(c);
  }
}

/** One row of a file: field access by name, and where each field is. */
export interface RawRow {
  get(name: string): unknown;
  /** 1-based CSV field number of `name`; undefined for JSON lines. */
  column(name: string): number | undefined;
  /** The row's field names, for "no such field" messages. */
  fields(): string[];
  source: Source;
  /** CSV/TSV: every value is a string, so labels and arrays are parsed from text. */
  textual: boolean;
}

const INTEGER = /^-?\d+$/;
const DECIMAL = /^-?\d*\.\d+(e[-+]?\d+)?$/i;

/**
 * A label from JSON (string or number) or from CSV text (numbers written as digits become
 * numbers). A non-integer number is a regression target (as run_glue.py decides by a float label
 * column).
 */
function label(v: unknown, row: RawRow, name: string, what: string): Label {
  if (typeof v === 'string') {
    if (v.trim() === '') throw new DataError('empty-text', `${what} is empty`, at(row, name), 'a label');
    if (row.textual && (INTEGER.test(v.trim()) || DECIMAL.test(v.trim()))) {
      const n = Number(v.trim());
      if (Number.isSafeInteger(n) || (DECIMAL.test(v.trim()) && Number.isFinite(n))) return n;
    }
    return v;
  }
  if (typeof v === 'number' && (Number.isSafeInteger(v) || Number.isFinite(v))) return v;
  throw new DataError('wrong-type', `${what} is ${typeName(v)}`, at(row, name), 'a string or a number');
}

/** An array field: JSON arrays as they are; in CSV/TSV a JSON array or space-separated items. */
function list(row: RawRow, name: string, key: string): unknown[] {
  let v = present(row, name, key);
  if (row.textual && typeof v === 'string') {
    const s = v.trim();
    if (s.startsWith('[')) {
      try {
        v = JSON.parse(s);
      } catch {
        throw new DataError('wrong-type', `'${name}' is not a valid JSON array`, at(row, name), 'a JSON array');
      }
    } else {
      v = s === '' ? [] : s.split(/\s+/);
    }
  }
  if (!Array.isArray(v)) throw new DataError('wrong-type', `'${name}' is ${typeName(v)}`, at(row, name), 'an array');
  if (v.length === 0) throw new DataError('empty-text', `'${name}' is empty`, at(row, name), 'at least one item');
  return v;
}

function tokensExample(row: RawRow, c: Columns): TokensExample {
  const rawTokens = list(row, c.tokens, 'data.tokens_column');
  const rawTags = list(row, c.tags, 'data.tags_column');
  const tokens = rawTokens.map((t, i) => {
    if (typeof t !== 'string') {
      throw new DataError('wrong-type', `'${c.tokens}'[${i}] is ${typeName(t)}`, at(row, c.tokens), 'strings');
    }
    return t;
  });
  const tags = rawTags.map((t, i) => label(t, row, c.tags, `'${c.tags}'[${i}]`));
  if (tags.length !== tokens.length) {
    throw new DataError(
      'inconsistent',
      `${tokens.length} tokens but ${tags.length} tags`,
      at(row, c.tags),
      'one tag per token',
    );
  }
  return { kind: 'tokens', tokens, tags, source: row.source };
}

/** The UTF-16 index of code point `n` of `text` (text.length past its end). */
export function utf16Index(text: string, n: number): number {
  let i = 0;
  for (let k = 0; k < n && i < text.length; k++) i += (text.codePointAt(i) as number) > 0xffff ? 2 : 1;
  return n < 0 ? n : i;
}

function qaExample(row: RawRow): QaExample {
  const question = text(row, QA_FIELDS.question, 'SQuAD field');
  const context = text(row, QA_FIELDS.context, 'SQuAD field');
  let answers = present(row, QA_FIELDS.answers, 'SQuAD field');
  const where = at(row, QA_FIELDS.answers);
  const shape = '{"text": [strings], "answer_start": [integers]} of equal lengths';
  if (row.textual && typeof answers === 'string') {
    try {
      answers = JSON.parse(answers);
    } catch {
      throw new DataError('wrong-type', `'answers' is not valid JSON`, where, shape);
    }
  }
  const a = answers as { text?: unknown; answer_start?: unknown };
  const texts = a?.text;
  const starts = a?.answer_start;
  if (
    typeof answers !== 'object' ||
    answers === null ||
    !Array.isArray(texts) ||
    !Array.isArray(starts) ||
    texts.length !== starts.length ||
    !texts.every((t) => typeof t === 'string') ||
    !starts.every((s) => Number.isSafeInteger(s))
  ) {
    throw new DataError('wrong-type', `'answers' is ${typeName(answers)} of the wrong shape`, where, shape);
  }
  const utf16Starts = texts.map((t: string, i) => {
    const s = starts[i] as number;
    const at = utf16Index(context, s);
    const found = context.slice(at, at + t.length);
    if (found !== t) {
      throw new DataError(
        'inconsistent',
        `answers.text[${i}] ${JSON.stringify(t)} is not at answer_start ${s} of the context (found ${JSON.stringify(found)})`,
        where,
        'answer_start to be the character offset of the answer in context',
      );
    }
    return at;
  });
  const id = row.get(QA_FIELDS.id);
  return {
    kind: 'qa',
    ...(typeof id === 'string' || typeof id === 'number' ? { id: String(id) } : {}),
    question,
    context,
    answers: { text: texts as string[], answer_start: utf16Starts },
    source: row.source,
  };
}

/**
 * A conversation row: `messages` ({role, content}) or ShareGPT `conversations` ({from, value}).
 * Every assistant turn must say something: an empty one would train the model to stop at once.
 */
function chatExample(row: RawRow): ChatExample {
  const sharegpt = row.get(SFT_FIELDS.messages) === undefined && row.get(SFT_FIELDS.conversations) !== undefined;
  const name = sharegpt ? SFT_FIELDS.conversations : SFT_FIELDS.messages;
  let value = present(row, name, 'data.format messages');
  if (row.textual && typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      throw new DataError('wrong-type', `'${name}' is not valid JSON`, at(row, name), 'a JSON list of messages');
    }
  }
  const [roleKey, contentKey] = sharegpt ? ['from', 'value'] : ['role', 'content'];
  const problem = conversationProblem(value, name, roleKey, contentKey);
  if (problem) {
    throw new DataError(
      'wrong-type',
      problem,
      at(row, name),
      `a list of {"${roleKey}": string, "${contentKey}": string}`,
    );
  }
  const messages = toMessages(value as Record<string, unknown>[], sharegpt);
  messages.forEach((m, i) => {
    if (m.role === 'assistant' && m.content.trim() === '') {
      throw new DataError('empty-text', `'${name}'[${i}] is an empty assistant turn`, at(row, name), 'a reply');
    }
  });
  return { kind: 'chat', messages, source: row.source };
}

/** Maps a row to an example of the layout, or throws a row-level DataError. */
export function toExample(layout: RowLayout, c: Columns, row: RawRow): Example {
  switch (layout) {
    case 'labelled-text': {
      const t = text(row, c.text, 'data.text_column');
      const pair = c.pair ? text(row, c.pair, 'data.text_pair_column') : undefined;
      const raw = present(row, c.label, 'data.label_column');
      const base = { kind: 'text' as const, text: t, ...(pair === undefined ? {} : { pair }), source: row.source };
      // A JSON array of labels makes the row multi-label (problem_type multi_label_classification).
      if (Array.isArray(raw))
        return { ...base, labels: raw.map((v, i) => label(v, row, c.label, `'${c.label}'[${i}]`)) };
      return { ...base, label: label(raw, row, c.label, `'${c.label}'`) };
    }
    case 'text':
      return { kind: 'text', text: text(row, c.text, 'data.text_column'), source: row.source };
    case 'tagged-tokens':
      return tokensExample(row, c);
    case 'squad':
      return qaExample(row);
    case 'prompt-completion':
      return {
        kind: 'completion',
        prompt: text(row, SFT_FIELDS.prompt, 'data.format prompt-completion'),
        completion: text(row, SFT_FIELDS.completion, 'data.format prompt-completion'),
        source: row.source,
      };
    case 'messages':
      return chatExample(row);
    case 'seq2seq':
      return seq2seqExample(row, c);
  }
}
