/**
 * The metric registry: the names a config may list in `eval.metrics` (and name in
 * `eval.early_stopping.metric`), what each computes, and whether higher or lower is better for
 * early stopping and best-checkpoint selection.
 *
 * Naming conventions (Hugging Face `evaluate` / example scripts, with one deliberate choice):
 * - Single-label classification: `f1`, `precision`, `recall` are the binary scores of class 1 when
 *   the model has 2 labels (evaluate's default `average='binary'`) and the macro average over the
 *   classes present otherwise (evaluate's binary default would raise there). `_macro`, `_micro`,
 *   `_weighted` suffixes pick an average explicitly. `accuracy` is the share of right labels.
 * - Multi-label classification: plain `f1`, `precision`, `recall` are micro averages (Hugging
 *   Face's multi-label examples), `accuracy` is subset (exact-match) accuracy.
 * - Regression (one output): `mse`, `mae`, `pearson`, `spearmanr` (GLUE's STS-B names).
 * - Token classification: seqeval's overall (micro) entity `precision`, `recall`, `f1` and token
 *   `accuracy`, the keys Hugging Face's run_ner reports; suffixes pick macro/weighted entity scores.
 * - Question answering: SQuAD v1.1 `exact_match` and `f1`, in percent.
 * - Causal LM: `perplexity` = exp(token-weighted mean NLL).
 * - `loss` (the eval loss every task reports) is not listed in `eval.metrics`, but is a valid
 *   early-stopping metric and is minimised.
 */
import type { TaskName } from '../../../shared/config.js';
import {
  type Average,
  accuracy,
  classificationReport,
  multiLabelPrecisionRecallF1,
  multiLabelSubsetAccuracy,
  precisionRecallF1,
} from './classification.js';
import { lmScores, type NllBatch } from './perplexity.js';
import { meanAbsoluteError, meanSquaredError, pearson, spearman } from './regression.js';
import { type SeqevalResult, seqevalScores } from './seqeval.js';
import { type QaExample, squadScores } from './squad.js';

/** What an evaluation produced, per kind of head; the trainer builds one of these per eval. */
export type EvalOutputs =
  | {
      kind: 'single-label';
      labels: readonly number[];
      predictions: readonly number[];
      /** The model's number of labels: 2 makes `f1`/`precision`/`recall` binary. */
      numLabels: number;
    }
  | { kind: 'multi-label'; labels: readonly (readonly number[])[]; predictions: readonly (readonly number[])[] }
  | { kind: 'regression'; labels: readonly number[]; predictions: readonly number[] }
  | {
      kind: 'token-classification';
      labels: readonly (readonly string[])[];
      predictions: readonly (readonly string[])[];
    }
  | { kind: 'question-answering'; examples: readonly QaExample[] }
  | { kind: 'causal-lm'; batches: readonly NllBatch[] };

export type EvalKind = EvalOutputs['kind'];
export type Direction = 'max' | 'min';

export interface MetricSpec<K extends EvalKind = EvalKind> {
  name: string;
  direction: Direction;
  description: string;
  compute: (outputs: Extract<EvalOutputs, { kind: K }>) => number;
}

/** The eval loss, reported for every task by the trainer rather than computed here. */
export const EVAL_LOSS = 'loss';

/** Which heads each config task can have: text classification is single-label, multi-label or regression. */
export const KINDS_OF_TASK: Readonly<Record<TaskName, readonly EvalKind[]>> = {
  'text-classification': ['single-label', 'multi-label', 'regression'],
  'token-classification': ['token-classification'],
  'question-answering': ['question-answering'],
  'causal-lm': ['causal-lm'],
};

type Scores = { precision: number; recall: number; f1: number };
type Score = keyof Scores;
type ExplicitAverage = Exclude<Average, 'binary'>;
const SCORES: readonly Score[] = ['precision', 'recall', 'f1'];
const AVERAGES: readonly ExplicitAverage[] = ['macro', 'micro', 'weighted'];
const SCORE_WORDS: Record<Score, string> = { precision: 'Precision', recall: 'Recall', f1: 'F1' };

// Every metric of one kind reads the same summary (a seqeval pass, a classification report), so
// the summary is computed once per outputs object however many metrics ask for it.
function memo<O extends object, R>(f: (o: O) => R): (o: O) => R {
  const cache = new WeakMap<O, R>();
  return (o) => {
    let r = cache.get(o);
    if (r === undefined) {
      r = f(o);
      cache.set(o, r);
    }
    return r;
  };
}

type SingleLabel = Extract<EvalOutputs, { kind: 'single-label' }>;
type MultiLabel = Extract<EvalOutputs, { kind: 'multi-label' }>;
type TokenOutputs = Extract<EvalOutputs, { kind: 'token-classification' }>;

const reportOf = memo((o: SingleLabel) => classificationReport(o.labels, o.predictions));
const binaryOf = memo((o: SingleLabel) =>
  precisionRecallF1(o.labels, o.predictions, { average: 'binary', posLabel: 1 }),
);
const multiLabelOf = memo((o: MultiLabel) => ({
  macro: multiLabelPrecisionRecallF1(o.labels, o.predictions, 'macro'),
  micro: multiLabelPrecisionRecallF1(o.labels, o.predictions, 'micro'),
  weighted: multiLabelPrecisionRecallF1(o.labels, o.predictions, 'weighted'),
}));
const seqevalOf = memo((o: TokenOutputs): SeqevalResult => seqevalScores(o.labels, o.predictions));
const squadOf = memo((o: Extract<EvalOutputs, { kind: 'question-answering' }>) => squadScores(o.examples));

/** `precision_macro`, `f1_weighted`, ...: one spec per score and explicit average. */
function averagedSpecs<K extends EvalKind>(
  what: string,
  pick: (o: Extract<EvalOutputs, { kind: K }>, average: ExplicitAverage) => Scores,
): MetricSpec<K>[] {
  return SCORES.flatMap((score) =>
    AVERAGES.map((average) => ({
      name: `${score}_${average}`,
      direction: 'max' as const,
      description: `${SCORE_WORDS[score]}, ${average} average over ${what}.`,
      compute: (o: Extract<EvalOutputs, { kind: K }>) => pick(o, average)[score],
    })),
  );
}

const SINGLE_LABEL: MetricSpec<'single-label'>[] = [
  {
    name: 'accuracy',
    direction: 'max',
    description: 'Share of examples whose predicted class is the true class.',
    compute: (o) => accuracy(o.labels, o.predictions),
  },
  ...SCORES.map(
    (score): MetricSpec<'single-label'> => ({
      name: score,
      direction: 'max',
      description: `${SCORE_WORDS[score]} of class 1 when the model has 2 labels (average 'binary', as Hugging Face evaluate), else the macro average over the classes present.`,
      compute: (o) => (o.numLabels === 2 ? binaryOf(o) : reportOf(o).macro)[score],
    }),
  ),
  ...averagedSpecs<'single-label'>(
    'the classes present in labels or predictions',
    (o, average) => reportOf(o)[average],
  ),
];

const MULTI_LABEL: MetricSpec<'multi-label'>[] = [
  {
    name: 'accuracy',
    direction: 'max',
    description: 'Subset accuracy: share of examples whose whole set of labels is predicted exactly.',
    compute: (o) => multiLabelSubsetAccuracy(o.labels, o.predictions),
  },
  ...SCORES.map(
    (score): MetricSpec<'multi-label'> => ({
      name: score,
      direction: 'max',
      description: `${SCORE_WORDS[score]}, micro average over every (example, label) decision.`,
      compute: (o) => multiLabelOf(o).micro[score],
    }),
  ),
  ...averagedSpecs<'multi-label'>('all labels', (o, average) => multiLabelOf(o)[average]),
];

const REGRESSION: MetricSpec<'regression'>[] = [
  {
    name: 'mse',
    direction: 'min',
    description: 'Mean squared error.',
    compute: (o) => meanSquaredError(o.labels, o.predictions),
  },
  {
    name: 'mae',
    direction: 'min',
    description: 'Mean absolute error.',
    compute: (o) => meanAbsoluteError(o.labels, o.predictions),
  },
  {
    name: 'pearson',
    direction: 'max',
    description: "Pearson's correlation between predictions and targets (0 when either is constant).",
    compute: (o) => pearson(o.labels, o.predictions),
  },
  {
    name: 'spearmanr',
    direction: 'max',
    description: "Spearman's rank correlation, ties ranked by their average (0 when either is constant).",
    compute: (o) => spearman(o.labels, o.predictions),
  },
];

const TOKEN: MetricSpec<'token-classification'>[] = [
  {
    name: 'accuracy',
    direction: 'max',
    description: 'Token accuracy (seqeval): share of tokens whose tag is right, O tags included.',
    compute: (o) => seqevalOf(o).accuracy,
  },
  ...SCORES.map(
    (score): MetricSpec<'token-classification'> => ({
      name: score,
      direction: 'max',
      description: `Entity ${SCORE_WORDS[score]} (seqeval, default conlleval chunking), micro average over all entities.`,
      compute: (o) => seqevalOf(o).micro[score],
    }),
  ),
  ...averagedSpecs<'token-classification'>('entity types (seqeval)', (o, average) => seqevalOf(o)[average]),
];

const QA: MetricSpec<'question-answering'>[] = [
  {
    name: 'exact_match',
    direction: 'max',
    description: 'SQuAD v1.1 exact match in percent: normalised answer equals a gold answer.',
    compute: (o) => squadOf(o).exact_match,
  },
  {
    name: 'f1',
    direction: 'max',
    description: 'SQuAD v1.1 token F1 in percent, best over the gold answers.',
    compute: (o) => squadOf(o).f1,
  },
];

const CAUSAL_LM: MetricSpec<'causal-lm'>[] = [
  {
    name: 'perplexity',
    direction: 'min',
    description: 'exp(mean negative log-likelihood per token), weighted by tokens across batches.',
    compute: (o) => lmScores(o.batches).perplexity,
  },
];

const REGISTRY: { [K in EvalKind]: readonly MetricSpec<K>[] } = {
  'single-label': SINGLE_LABEL,
  'multi-label': MULTI_LABEL,
  regression: REGRESSION,
  'token-classification': TOKEN,
  'question-answering': QA,
  'causal-lm': CAUSAL_LM,
};

/** The metrics of one kind of head. */
export function metricSpecs<K extends EvalKind>(kind: K): readonly MetricSpec<K>[] {
  return REGISTRY[kind];
}

/** Names valid in `eval.metrics` for a task, in registry order (the config validator's list). */
export function metricNamesForTask(task: TaskName): string[] {
  return [...new Set(KINDS_OF_TASK[task].flatMap((kind) => REGISTRY[kind].map((s) => s.name)))];
}

/**
 * Name, direction and description of each metric of a task, for hover docs and completion. A name
 * shared by several heads of the task (text classification's `f1`) lists each head's meaning.
 */
export function metricDocsForTask(task: TaskName): { name: string; direction: Direction; description: string }[] {
  const kinds = KINDS_OF_TASK[task];
  return metricNamesForTask(task).map((name) => {
    const found = kinds.flatMap((kind) =>
      REGISTRY[kind].filter((s) => s.name === name).map((s) => ({ kind, spec: s as MetricSpec })),
    );
    const first = (found[0] as { spec: MetricSpec }).spec;
    const description =
      found.length === 1 ? first.description : found.map((f) => `${f.kind}: ${f.spec.description}`).join(' ');
    return { name, direction: first.direction, description };
  });
}

const DIRECTIONS = new Map<string, Direction>([[EVAL_LOSS, 'min']]);
for (const specs of Object.values(REGISTRY) as (readonly MetricSpec[])[]) {
  for (const s of specs) {
    const known = DIRECTIONS.get(s.name);
    // A name means "higher is better" everywhere or nowhere, so early stopping needs only the name.
    if (known !== undefined && known !== s.direction) throw new Error(`metrics: '${s.name}' has two directions`);
    DIRECTIONS.set(s.name, s.direction);
  }
}

/** Whether a metric improves upwards or downwards: early stopping's default `mode` and best-checkpoint order. */
export function metricDirection(name: string): Direction {
  const direction = DIRECTIONS.get(name);
  if (direction === undefined) throw new Error(`metrics: unknown metric '${name}'`);
  return direction;
}

/** True when `candidate` beats `best` for this metric (NaN never wins, anything beats no best yet). */
export function isImprovement(name: string, candidate: number, best: number | undefined): boolean {
  if (Number.isNaN(candidate)) return false;
  if (best === undefined || Number.isNaN(best)) return true;
  return metricDirection(name) === 'max' ? candidate > best : candidate < best;
}

/** Computes the named metrics of one evaluation; names not defined for its kind are an error. */
export function computeMetrics(outputs: EvalOutputs, names: readonly string[]): Record<string, number> {
  const specs = REGISTRY[outputs.kind] as readonly MetricSpec[];
  const result: Record<string, number> = {};
  for (const name of names) {
    const spec = specs.find((s) => s.name === name);
    if (!spec) {
      throw new Error(
        `metrics: '${name}' is not a ${outputs.kind} metric; choose from ${specs.map((s) => s.name).join(', ')}`,
      );
    }
    result[name] = (spec.compute as (o: EvalOutputs) => number)(outputs);
  }
  return result;
}
