/**
 * The metric registry: how each metric a config may list in `eval.metrics` is computed, per kind
 * of head.
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
 * - Masked LM: `perplexity` over the selected tokens, `accuracy` of their argmax (run_mlm.py).
 * - Translation and summarization (generating evaluation): sacreBLEU `bleu` and `chrf`, rouge-score
 *   `rouge1`/`rouge2`/`rougeL`/`rougeLsum` F-measures, all 0-100.
 * - `loss` (the eval loss every task reports) is not listed in `eval.metrics`, but is a valid
 *   early-stopping metric and is minimised.
 *
 * Names, directions, descriptions and the tasks of each metric live in src/shared/config-metrics.ts;
 * this registry adds how each is computed per kind of head, keyed by those names.
 */
import { type MetricName, metricDirection } from '../../../shared/config-metrics.js';
import { corpusBleu } from './bleu.js';
import { corpusChrf } from './chrf.js';
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
import { rouge } from './rouge.js';
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
  | { kind: 'causal-lm'; batches: readonly NllBatch[] }
  | {
      kind: 'masked-lm';
      /** NLL over the masked (selected) tokens of each batch. */
      batches: readonly NllBatch[];
      /** Selected tokens whose argmax prediction is the original token, and all selected tokens. */
      correct: number;
      selected: number;
    }
  | {
      kind: 'seq2seq';
      /** Generated texts (special tokens skipped) and their references, one each per validation row. */
      predictions: readonly string[];
      references: readonly string[];
    };

export type EvalKind = EvalOutputs['kind'];
type OutputsOf<K extends EvalKind> = Extract<EvalOutputs, { kind: K }>;
type Compute<K extends EvalKind> = (outputs: OutputsOf<K>) => number;
/** The metrics one kind of head computes, by name: only names of the shared table. */
type MetricTable<K extends EvalKind> = { readonly [N in MetricName]?: Compute<K> };

// Direction (and its use by finetune.ts) comes from the shared table.
export { metricDirection };

type Scores = { precision: number; recall: number; f1: number };
type Score = keyof Scores;
type ExplicitAverage = Exclude<Average, 'binary'>;
const SCORES: readonly Score[] = ['precision', 'recall', 'f1'];
const AVERAGES: readonly ExplicitAverage[] = ['macro', 'micro', 'weighted'];

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

const reportOf = memo((o: OutputsOf<'single-label'>) => classificationReport(o.labels, o.predictions));
const binaryOf = memo((o: OutputsOf<'single-label'>) =>
  precisionRecallF1(o.labels, o.predictions, { average: 'binary', posLabel: 1 }),
);
const multiLabelOf = memo((o: OutputsOf<'multi-label'>) => ({
  macro: multiLabelPrecisionRecallF1(o.labels, o.predictions, 'macro'),
  micro: multiLabelPrecisionRecallF1(o.labels, o.predictions, 'micro'),
  weighted: multiLabelPrecisionRecallF1(o.labels, o.predictions, 'weighted'),
}));
const seqevalOf = memo((o: OutputsOf<'token-classification'>): SeqevalResult => seqevalScores(o.labels, o.predictions));
const squadOf = memo((o: OutputsOf<'question-answering'>) => squadScores(o.examples));

/** `precision`, `recall`, `f1`, read from one set of scores. */
function plainScores<K extends EvalKind>(pick: (o: OutputsOf<K>) => Scores): Record<Score, Compute<K>> {
  return { precision: (o) => pick(o).precision, recall: (o) => pick(o).recall, f1: (o) => pick(o).f1 };
}

/** `precision_macro`, `f1_weighted`, ...: one per score and explicit average. */
function averagedScores<K extends EvalKind>(
  pick: (o: OutputsOf<K>, average: ExplicitAverage) => Scores,
): Record<`${Score}_${ExplicitAverage}`, Compute<K>> {
  return Object.fromEntries(
    SCORES.flatMap((score) =>
      AVERAGES.map((average) => [`${score}_${average}`, (o: OutputsOf<K>) => pick(o, average)[score]]),
    ),
  ) as Record<`${Score}_${ExplicitAverage}`, Compute<K>>;
}

const SINGLE_LABEL = {
  // Share of examples whose predicted class is the true class.
  accuracy: (o) => accuracy(o.labels, o.predictions),
  // Class 1 when the model has 2 labels (average 'binary', as Hugging Face evaluate), else the macro
  // average over the classes present.
  ...plainScores<'single-label'>((o) => (o.numLabels === 2 ? binaryOf(o) : reportOf(o).macro)),
  // Over the classes present in labels or predictions.
  ...averagedScores<'single-label'>((o, average) => reportOf(o)[average]),
} satisfies MetricTable<'single-label'>;

const MULTI_LABEL = {
  // Subset accuracy: share of examples whose whole set of labels is predicted exactly.
  accuracy: (o) => multiLabelSubsetAccuracy(o.labels, o.predictions),
  // Micro average over every (example, label) decision.
  ...plainScores<'multi-label'>((o) => multiLabelOf(o).micro),
  // Over all labels.
  ...averagedScores<'multi-label'>((o, average) => multiLabelOf(o)[average]),
} satisfies MetricTable<'multi-label'>;

const REGRESSION = {
  mse: (o) => meanSquaredError(o.labels, o.predictions),
  mae: (o) => meanAbsoluteError(o.labels, o.predictions),
  // 0 when either side is constant.
  pearson: (o) => pearson(o.labels, o.predictions),
  // Ties ranked by their average; 0 when either side is constant.
  spearmanr: (o) => spearman(o.labels, o.predictions),
} satisfies MetricTable<'regression'>;

const TOKEN = {
  // Token accuracy (seqeval): share of tokens whose tag is right, O tags included.
  accuracy: (o) => seqevalOf(o).accuracy,
  // Entity scores (seqeval, default conlleval chunking), micro average over all entities.
  ...plainScores<'token-classification'>((o) => seqevalOf(o).micro),
  // Over entity types (seqeval).
  ...averagedScores<'token-classification'>((o, average) => seqevalOf(o)[average]),
} satisfies MetricTable<'token-classification'>;

const QA = {
  // SQuAD v1.1 in percent: normalised answer equals a gold answer; token F1, best over the gold answers.
  exact_match: (o) => squadOf(o).exact_match,
  f1: (o) => squadOf(o).f1,
} satisfies MetricTable<'question-answering'>;

const CAUSAL_LM = {
  // exp(mean negative log-likelihood per token), weighted by tokens across batches.
  perplexity: (o) => lmScores(o.batches).perplexity,
} satisfies MetricTable<'causal-lm'>;

const MASKED_LM = {
  // run_mlm.py's accuracy: argmax prediction = original token, over the selected (label != -100) tokens.
  accuracy: (o) => (o.selected === 0 ? Number.NaN : o.correct / o.selected),
  // exp(mean NLL per selected token), weighted by tokens across batches.
  perplexity: (o) => lmScores(o.batches).perplexity,
} satisfies MetricTable<'masked-lm'>;

const rougeOf = memo((o: OutputsOf<'seq2seq'>) => rouge(o.predictions, [o.references]));

const SEQ2SEQ = {
  // sacreBLEU's corpus_bleu / CHRF with their defaults, one reference per row.
  bleu: (o) => corpusBleu(o.predictions, [o.references]).score,
  chrf: (o) => corpusChrf(o.predictions, [o.references]).score,
  // rouge-score F-measures (no stemmer), mean over rows, ×100 as run_summarization.py reports them.
  rouge1: (o) => rougeOf(o).rouge1.fmeasure * 100,
  rouge2: (o) => rougeOf(o).rouge2.fmeasure * 100,
  rougeL: (o) => rougeOf(o).rougeL.fmeasure * 100,
  rougeLsum: (o) => rougeOf(o).rougeLsum.fmeasure * 100,
} satisfies MetricTable<'seq2seq'>;

const REGISTRY = {
  'single-label': SINGLE_LABEL,
  'multi-label': MULTI_LABEL,
  regression: REGRESSION,
  'token-classification': TOKEN,
  'question-answering': QA,
  'causal-lm': CAUSAL_LM,
  'masked-lm': MASKED_LM,
  seq2seq: SEQ2SEQ,
} satisfies { [K in EvalKind]: MetricTable<K> };

/** The metric table of one kind of head, as names and computes. */
function tableOf(kind: EvalKind): MetricTable<EvalKind> {
  return REGISTRY[kind] as MetricTable<EvalKind>;
}

/** Names the registry computes for these kinds of head (a task's `evalKinds`), in registry order. */
export function metricNamesOfKinds(kinds: readonly EvalKind[]): MetricName[] {
  return [...new Set(kinds.flatMap((kind) => Object.keys(tableOf(kind)) as MetricName[]))];
}

/** True when `candidate` beats `best` for this metric (NaN never wins, anything beats no best yet). */
export function isImprovement(name: string, candidate: number, best: number | undefined): boolean {
  if (Number.isNaN(candidate)) return false;
  if (best === undefined || Number.isNaN(best)) return true;
  return metricDirection(name) === 'max' ? candidate > best : candidate < best;
}

/** Computes the named metrics of one evaluation; names not defined for its kind are an error. */
export function computeMetrics(outputs: EvalOutputs, names: readonly string[]): Record<string, number> {
  const table = tableOf(outputs.kind);
  const result: Record<string, number> = {};
  for (const name of names) {
    const compute = Object.hasOwn(table, name) ? table[name as MetricName] : undefined;
    if (!compute) {
      throw new Error(
        `metrics: '${name}' is not a ${outputs.kind} metric; choose from ${Object.keys(table).join(', ')}`,
      );
    }
    result[name] = (compute as (o: EvalOutputs) => number)(outputs);
  }
  return result;
}
