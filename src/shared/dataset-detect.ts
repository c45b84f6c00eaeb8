import { detectSftFormat, type SftFormat } from './config-sft-files.js';
import type { TaskName } from './config-tasks.js';
import { languageModellingTask, type ModelSupport, modelSupport } from './model-support.js';

/**
 * Which task a dataset suits and which of its columns each config key should name, from the first
 * rows, for the guided New Fine-tune Config. The column shapes are those the engine reads
 * (src/engine/data/records.ts): string or integer labels are classes, a non-integer number a
 * regression target (as run_glue.py decides), a list of labels multi-label; `tokens`/`tags` lists
 * of one length per row for token classification; SQuAD's `question`/`context`/`answers` for QA;
 * TRL's `messages` or `prompt`/`completion` for chat SFT; source/target texts or Hugging Face's
 * `translation` objects for translation and summarization; text alone for language modelling.
 * Browser-safe: the rows come from src/shared/node/dataset-preview.ts.
 */
export interface DatasetPreview {
  columns: string[];
  /** The first rows: JSON values (JSON Lines), or strings (CSV/TSV, `textual`). */
  rows: Record<string, unknown>[];
  textual: boolean;
}

/** The data.* keys a suggestion sets (format only for causal-lm). */
export interface DataColumns {
  text_column?: string;
  text_pair_column?: string;
  label_column?: string;
  tokens_column?: string;
  tags_column?: string;
  format?: SftFormat;
  source_column?: string;
  target_column?: string;
  source_lang?: string;
  target_lang?: string;
}

export interface TaskSuggestion {
  task: TaskName;
  data: DataColumns;
  /** The labels (classes or tags) seen in the preview rows, sorted; empty for other tasks. */
  labels: string[];
  /** Text classification's kind of label, as the engine will decide it from the data. */
  labelKind?: 'classes' | 'regression' | 'multi-label';
  /** What was seen that suggests it, for the confirmation step. */
  reason: string;
  metrics: string[];
  /** Whether the engine trains the chosen model for this task (supported when the family is unknown). */
  support: ModelSupport;
}

const LABEL_NAMES = [
  'label',
  'labels',
  'class',
  'category',
  'sentiment',
  'target',
  'intent',
  'topic',
  'score',
  'rating',
  'y',
];
const TEXT_NAMES = ['text', 'sentence', 'content', 'review', 'document', 'body', 'comment', 'utterance', 'input'];
/** First/second text of a pair task, as GLUE's datasets name them. */
const PAIRS: readonly (readonly [string, string])[] = [
  ['text', 'text_pair'],
  ['sentence1', 'sentence2'],
  ['premise', 'hypothesis'],
  ['question', 'sentence'],
  ['question1', 'question2'],
];
const TOKENS_NAMES = ['tokens', 'words'];
const TAGS_NAMES = ['tags', 'ner_tags', 'pos_tags', 'chunk_tags', 'labels'];
const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$/;

/** A CSV/TSV field as the engine reads it: digits become numbers, a `[`-string a JSON array. */
function fieldValue(v: unknown, textual: boolean, asList = false): unknown {
  if (!textual || typeof v !== 'string') return v;
  const s = v.trim();
  if (asList) {
    if (s.startsWith('[')) {
      try {
        return JSON.parse(s) as unknown;
      } catch {
        return v;
      }
    }
    return s === '' ? [] : s.split(/\s+/);
  }
  return INTEGER.test(s) || DECIMAL.test(s) ? Number(s) : v;
}

function values(p: DatasetPreview, column: string, asList = false): unknown[] {
  return p.rows.filter((r) => column in r).map((r) => fieldValue(r[column], p.textual, asList));
}

const isText = (v: unknown) => typeof v === 'string' && v.trim() !== '';
const meanLength = (vs: unknown[]) =>
  vs.reduce<number>((s, v) => s + (typeof v === 'string' ? v.length : 0), 0) / Math.max(1, vs.length);

/**
 * Columns of prose, longest mean first: every preview value non-empty text, and the column named
 * as text usually is, or its values have spaces or some length (not ids, codes or labels).
 */
function textColumns(p: DatasetPreview): string[] {
  const paired = PAIRS.flat();
  return p.columns
    .filter((c) => {
      const vs = values(p, c);
      if (vs.length === 0 || !vs.every(isText)) return false;
      return (
        TEXT_NAMES.includes(c) ||
        paired.includes(c) ||
        meanLength(vs) >= 12 ||
        vs.some((v) => /\s/.test(String(v).trim()))
      );
    })
    .sort((a, b) => meanLength(values(p, b)) - meanLength(values(p, a)));
}

function labelKind(vs: unknown[]): TaskSuggestion['labelKind'] | undefined {
  if (vs.length === 0) return undefined;
  if (vs.every((v) => Array.isArray(v) && v.every((x) => typeof x === 'string' || Number.isInteger(x))))
    return 'multi-label';
  if (vs.every((v) => typeof v === 'number' && Number.isFinite(v)))
    return vs.every((v) => Number.isInteger(v)) ? 'classes' : 'regression';
  if (vs.every((v) => isText(v) || Number.isInteger(v))) return 'classes';
  return undefined;
}

const distinct = (vs: unknown[]): string[] =>
  [...new Set(vs.flatMap((v) => (Array.isArray(v) ? v : [v])).map(String))].sort((a, b) =>
    a.localeCompare(b, 'en', { numeric: true }),
  );

function classification(p: DatasetPreview, texts: string[]): Omit<TaskSuggestion, 'support'>[] {
  const out: Omit<TaskSuggestion, 'support'>[] = [];
  const named = (names: readonly string[]) => names.filter((n) => p.columns.includes(n));
  // Named label columns first; then any other short-valued column (a category by another name).
  const candidates = [...named(LABEL_NAMES), ...p.columns.filter((c) => !LABEL_NAMES.includes(c))];
  for (const label of candidates) {
    // A list in a CSV field is a JSON array, as the engine reads a multi-label column.
    const listed = p.textual && values(p, label).every((v) => typeof v === 'string' && v.trim().startsWith('['));
    const vs = values(p, label, listed);
    const kind = labelKind(vs);
    if (!kind) continue;
    const unnamed = !LABEL_NAMES.includes(label);
    // An unnamed column is a label only when its values are short and repeat: categories, not text.
    if (unnamed && (kind !== 'classes' || meanLength(vs) > 20 || distinct(vs).length >= Math.max(2, vs.length)))
      continue;
    const rest = texts.filter((t) => t !== label);
    const pair = PAIRS.find(([a, b]) => rest.includes(a) && rest.includes(b));
    const text = pair?.[0] ?? named(TEXT_NAMES).find((t) => rest.includes(t)) ?? rest[0];
    if (text === undefined) continue;
    const data: DataColumns = {
      text_column: text,
      ...(pair ? { text_pair_column: pair[1] } : {}),
      label_column: label,
    };
    const labels = kind === 'regression' ? [] : distinct(vs);
    const what =
      kind === 'regression'
        ? `non-integer numbers in '${label}': a regression target`
        : kind === 'multi-label'
          ? `lists of labels in '${label}': multi-label`
          : `${labels.length} label${labels.length === 1 ? '' : 's'} in '${label}'`;
    out.push({
      task: 'text-classification',
      data,
      labels,
      labelKind: kind,
      reason: `${what}, text in '${text}'${pair ? ` and '${pair[1]}'` : ''}`,
      metrics: kind === 'regression' ? ['mse', 'pearson'] : kind === 'multi-label' ? ['f1'] : ['accuracy', 'f1'],
    });
  }
  return out;
}

function tokenClassification(p: DatasetPreview): Omit<TaskSuggestion, 'support'> | undefined {
  const tokens = TOKENS_NAMES.find((c) => p.columns.includes(c));
  const tags = TAGS_NAMES.find((c) => p.columns.includes(c) && c !== tokens);
  if (!tokens || !tags) return undefined;
  const ts = values(p, tokens, true);
  const gs = values(p, tags, true);
  const fits =
    ts.length > 0 &&
    ts.every((t, i) => Array.isArray(t) && Array.isArray(gs[i]) && t.length === (gs[i] as unknown[]).length);
  if (!fits) return undefined;
  const labels = distinct(gs);
  return {
    task: 'token-classification',
    data: { tokens_column: tokens, tags_column: tags },
    labels,
    reason: `word lists in '${tokens}' with one tag each in '${tags}' (${labels.length} tags)`,
    metrics: ['f1', 'precision', 'recall'],
  };
}

/**
 * Source/target pairs by name, with the task they usually mean: run_summarization.py's
 * summarization_name_mapping (CNN/DailyMail's article/highlights, XSum's document/summary) and the
 * plain source/target of translation pairs.
 */
const SEQ2SEQ_PAIRS: readonly (readonly [string, string, 'translation' | 'summarization'])[] = [
  ['source', 'target', 'translation'],
  ['src', 'tgt', 'translation'],
  ['document', 'summary', 'summarization'],
  ['article', 'highlights', 'summarization'],
  ['text', 'summary', 'summarization'],
  ['dialogue', 'summary', 'summarization'],
];

/** Rows of Hugging Face translation datasets, `{"translation": {"en": …, "de": …}}`: the two languages in row order. */
function translationLanguages(p: DatasetPreview): [string, string] | undefined {
  const objects = values(p, 'translation').map((v) => {
    if (p.textual && typeof v === 'string') {
      try {
        return JSON.parse(v) as unknown;
      } catch {
        return undefined;
      }
    }
    return v;
  });
  if (objects.length === 0) return undefined;
  const keys = (o: unknown) =>
    typeof o === 'object' && o !== null && !Array.isArray(o) && Object.values(o).every(isText) ? Object.keys(o) : [];
  const first = keys(objects[0]);
  if (first.length !== 2) return undefined;
  const same = objects.every((o) => {
    const k = keys(o);
    return k.length === 2 && first.every((f) => k.includes(f));
  });
  return same ? [first[0] as string, first[1] as string] : undefined;
}

function seq2seq(p: DatasetPreview): Omit<TaskSuggestion, 'support'>[] {
  const out: Omit<TaskSuggestion, 'support'>[] = [];
  const langs = translationLanguages(p);
  if (langs)
    out.push({
      task: 'translation',
      data: { source_lang: langs[0], target_lang: langs[1] },
      labels: [],
      reason: `'translation' objects of '${langs[0]}' and '${langs[1]}' texts: translation from ${langs[0]} to ${langs[1]}`,
      metrics: [],
    });
  for (const [source, target, task] of SEQ2SEQ_PAIRS) {
    const texts = (c: string) => p.columns.includes(c) && values(p, c).every(isText);
    if (!texts(source) || !texts(target)) continue;
    out.push({
      task,
      data: { source_column: source, target_column: target },
      labels: [],
      reason: `texts in '${source}' and '${target}': ${task} of each '${source}' into its '${target}'`,
      metrics: [],
    });
  }
  return out;
}

/**
 * The tasks the preview suits, best first: those the model's family trains before those it does
 * not (each says why not). Empty when nothing fits (no text column at all).
 */
export function suggestTasks(p: DatasetPreview, modelType?: string): TaskSuggestion[] {
  const found: Omit<TaskSuggestion, 'support'>[] = [];
  const fields = p.columns;
  const format = detectSftFormat(fields);
  if (format !== 'text')
    found.push({
      task: 'causal-lm',
      data: { format },
      labels: [],
      reason:
        format === 'messages'
          ? `conversations in '${fields.includes('messages') ? 'messages' : 'conversations'}': chat fine-tuning (SFT)`
          : "'prompt' and 'completion' columns: supervised fine-tuning on the completions",
      metrics: ['perplexity'],
    });
  if (['question', 'context', 'answers'].every((c) => fields.includes(c)) && !p.textual)
    found.push({
      task: 'question-answering',
      data: {},
      labels: [],
      reason: "SQuAD fields 'question', 'context' and 'answers': extractive question answering",
      metrics: ['exact_match', 'f1'],
    });
  const tokens = tokenClassification(p);
  if (tokens) found.push(tokens);
  found.push(...seq2seq(p));
  const texts = textColumns(p);
  if (format === 'text' && !found.some((f) => f.task === 'question-answering')) found.push(...classification(p, texts));
  const text = TEXT_NAMES.find((t) => texts.includes(t)) ?? texts[0];
  if (format === 'text' && text !== undefined) {
    const task = languageModellingTask(modelType);
    found.push({
      task,
      data: task === 'causal-lm' ? { format: 'text', text_column: text } : { text_column: text },
      labels: [],
      reason: `text in '${text}': ${task === 'causal-lm' ? 'causal' : 'masked'} language modelling on it`,
      metrics: task === 'causal-lm' ? ['perplexity'] : ['perplexity', 'accuracy'],
    });
  }
  const withSupport = found.map((f) => ({
    ...f,
    support: modelType === undefined ? { supported: true } : modelSupport(modelType, f.task),
  }));
  // Stable: the data's own order among the supported ones, then the rest.
  return [...withSupport.filter((s) => s.support.supported), ...withSupport.filter((s) => !s.support.supported)];
}
