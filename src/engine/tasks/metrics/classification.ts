/**
 * Single-label and multi-label classification metrics with scikit-learn's semantics, so a score
 * shown here is the score `sklearn.metrics` (and Hugging Face `evaluate`, which wraps it) reports
 * for the same predictions.
 *
 * Conventions taken from scikit-learn:
 * - Labels are the sorted union of the true and predicted labels unless `labels` is given; given
 *   labels may include classes absent from the data (they count in macro averages with score 0)
 *   and samples whose true or predicted label is not listed are ignored by the per-class counts.
 * - `zero_division` is sklearn's default ("warn"): an undefined precision (nothing predicted),
 *   recall (nothing true) or F1 (neither) is 0. We do not warn: the eval log shows per-class
 *   support, which says the same.
 * - F1 is 2·tp / (2·tp + fp + fn), as sklearn ≥ 1.4 computes it; it equals 2PR/(P+R) whenever
 *   both are defined.
 * - `weighted` averages by true support; `micro` pools the counts of the listed labels (equal to
 *   accuracy when every label is listed); `binary` reports the positive class only.
 */

export type Average = 'binary' | 'macro' | 'micro' | 'weighted';

export interface ClassScores {
  precision: number;
  recall: number;
  f1: number;
  /** Number of true samples of the class (sklearn's "support"). */
  support: number;
}

export interface PrfOptions {
  average: Average;
  /** Classes to score and their order; default: sorted union of true and predicted. */
  labels?: readonly number[];
  /** The positive class for `average: 'binary'` (sklearn's pos_label, default 1). */
  posLabel?: number;
}

/** Counts per class: true positives, predicted count and true count. */
interface Counts {
  tp: number;
  pred: number;
  true: number;
}

function checkLengths(yTrue: readonly unknown[], yPred: readonly unknown[]): void {
  if (yTrue.length !== yPred.length) {
    throw new Error(`metrics: ${yTrue.length} true labels but ${yPred.length} predictions`);
  }
  // sklearn returns NaN with a warning here; an empty eval set is a data problem to report, not a score.
  if (yTrue.length === 0) throw new Error('metrics: no samples to score');
}

/** Division with sklearn's zero_division="warn" result: 0 when the denominator is 0. */
function divide(num: number, den: number): number {
  return den === 0 ? 0 : num / den;
}

/** Sorted union of the labels seen in either array (sklearn's `unique_labels`). */
export function uniqueLabels(yTrue: readonly number[], yPred: readonly number[]): number[] {
  return [...new Set([...yTrue, ...yPred])].sort((a, b) => a - b);
}

export function accuracy(yTrue: readonly number[], yPred: readonly number[]): number {
  checkLengths(yTrue, yPred);
  let correct = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) correct++;
  return correct / yTrue.length;
}

/**
 * Confusion matrix: `matrix[i][j]` counts samples whose true label is `labels[i]` and predicted
 * label is `labels[j]` (rows true, columns predicted, as sklearn). Samples with a label outside
 * `labels` are left out.
 */
export function confusionMatrix(
  yTrue: readonly number[],
  yPred: readonly number[],
  labels?: readonly number[],
): { labels: number[]; matrix: number[][] } {
  checkLengths(yTrue, yPred);
  const order = labels ? [...labels] : uniqueLabels(yTrue, yPred);
  const index = new Map(order.map((label, i) => [label, i]));
  const matrix = order.map(() => order.map(() => 0));
  for (let k = 0; k < yTrue.length; k++) {
    const i = index.get(yTrue[k] as number);
    const j = index.get(yPred[k] as number);
    if (i === undefined || j === undefined) continue;
    const row = matrix[i] as number[];
    row[j] = (row[j] as number) + 1;
  }
  return { labels: order, matrix };
}

function countsPerLabel(yTrue: readonly number[], yPred: readonly number[], labels: readonly number[]): Counts[] {
  const index = new Map(labels.map((label, i) => [label, i]));
  const counts = labels.map(() => ({ tp: 0, pred: 0, true: 0 }));
  for (let k = 0; k < yTrue.length; k++) {
    const t = index.get(yTrue[k] as number);
    const p = index.get(yPred[k] as number);
    if (t !== undefined) (counts[t] as Counts).true++;
    if (p !== undefined) (counts[p] as Counts).pred++;
    if (t !== undefined && t === p) (counts[t] as Counts).tp++;
  }
  return counts;
}

function scoresOf(c: Counts): ClassScores {
  return {
    precision: divide(c.tp, c.pred),
    recall: divide(c.tp, c.true),
    f1: divide(2 * c.tp, c.true + c.pred),
    support: c.true,
  };
}

/**
 * Averages per-class counts the way sklearn's `precision_recall_fscore_support` does. Shared by
 * single-label and multi-label scoring, which differ only in how the counts are gathered.
 */
function averageCounts(counts: readonly Counts[], average: Exclude<Average, 'binary'>): Omit<ClassScores, 'support'> {
  if (average === 'micro') {
    const pooled = counts.reduce((a, c) => ({ tp: a.tp + c.tp, pred: a.pred + c.pred, true: a.true + c.true }), {
      tp: 0,
      pred: 0,
      true: 0,
    });
    const { precision, recall, f1 } = scoresOf(pooled);
    return { precision, recall, f1 };
  }
  const per = counts.map(scoresOf);
  // Each class weighs 1 (macro) or its true support (weighted). All-zero weights only happen when
  // no listed class occurs in y_true; every per-class score is then 0, which sklearn returns.
  const weights = per.map((s) => (average === 'weighted' ? s.support : 1));
  const total = weights.reduce((a, w) => a + w, 0);
  const mean = (pick: (s: ClassScores) => number) =>
    total === 0 ? 0 : per.reduce((a, s, i) => a + pick(s) * (weights[i] as number), 0) / total;
  return { precision: mean((s) => s.precision), recall: mean((s) => s.recall), f1: mean((s) => s.f1) };
}

/** Precision, recall and F1 for one averaging mode (sklearn's `precision_recall_fscore_support`). */
export function precisionRecallF1(
  yTrue: readonly number[],
  yPred: readonly number[],
  options: PrfOptions,
): Omit<ClassScores, 'support'> {
  checkLengths(yTrue, yPred);
  if (options.average === 'binary') {
    const pos = options.posLabel ?? 1;
    const present = uniqueLabels(yTrue, yPred);
    // sklearn refuses 'binary' for data that is not binary rather than silently scoring one class.
    if (present.length > 2 || (present.length === 2 && !present.includes(pos))) {
      throw new Error(
        `metrics: average 'binary' needs two classes including the positive class ${pos}; got labels ${present.join(', ')}`,
      );
    }
    const { precision, recall, f1 } = scoresOf(countsPerLabel(yTrue, yPred, [pos])[0] as Counts);
    return { precision, recall, f1 };
  }
  const labels = options.labels ?? uniqueLabels(yTrue, yPred);
  return averageCounts(countsPerLabel(yTrue, yPred, labels), options.average);
}

export interface ClassificationReport {
  perClass: (ClassScores & { label: number })[];
  accuracy: number;
  macro: Omit<ClassScores, 'support'>;
  micro: Omit<ClassScores, 'support'>;
  weighted: Omit<ClassScores, 'support'>;
  /** Total true support of the listed classes. */
  support: number;
}

/** Per-class scores and every average at once (sklearn's `classification_report`, as data). */
export function classificationReport(
  yTrue: readonly number[],
  yPred: readonly number[],
  labels?: readonly number[],
): ClassificationReport {
  checkLengths(yTrue, yPred);
  const order = labels ? [...labels] : uniqueLabels(yTrue, yPred);
  const counts = countsPerLabel(yTrue, yPred, order);
  return {
    perClass: counts.map((c, i) => ({ label: order[i] as number, ...scoresOf(c) })),
    accuracy: accuracy(yTrue, yPred),
    macro: averageCounts(counts, 'macro'),
    micro: averageCounts(counts, 'micro'),
    weighted: averageCounts(counts, 'weighted'),
    support: counts.reduce((a, c) => a + c.true, 0),
  };
}

// ---- multi-label: one 0/1 indicator per class and sample ----

/** Logistic function, computed on the side that cannot overflow. */
function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/**
 * Index (within the row) of the largest of `width` values from `offset`: the first on ties, as
 * torch.argmax. Single-label decisions from logits; by default the whole of `v`.
 */
export function argmax(v: ArrayLike<number>, offset = 0, width = v.length - offset): number {
  let best = 0;
  for (let j = 1; j < width; j++) if ((v[offset + j] as number) > (v[offset + best] as number)) best = j;
  return best;
}

/**
 * Multi-label decisions from logits: class on when sigmoid(logit) >= threshold (default 0.5), as
 * Hugging Face's multi-label examples threshold the probabilities.
 */
export function multiLabelPredictions(logits: readonly (readonly number[])[], threshold = 0.5): number[][] {
  return logits.map((row) => row.map((x) => (sigmoid(x) >= threshold ? 1 : 0)));
}

function checkIndicators(yTrue: readonly (readonly number[])[], yPred: readonly (readonly number[])[]): number {
  checkLengths(yTrue, yPred);
  const width = (yTrue[0] as readonly number[]).length;
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i] as readonly number[];
    const p = yPred[i] as readonly number[];
    if (t.length !== width || p.length !== width) {
      throw new Error(`metrics: multi-label sample ${i} has ${t.length}/${p.length} indicators, expected ${width}`);
    }
    for (const v of [...t, ...p]) {
      if (v !== 0 && v !== 1) throw new Error(`metrics: multi-label indicators must be 0 or 1, got ${v}`);
    }
  }
  return width;
}

/**
 * Precision, recall, F1 over a label-indicator matrix. Every column is a class whether or not it
 * occurs (sklearn's multilabel convention), so in `macro` a class never true nor predicted counts
 * as 0.
 */
export function multiLabelPrecisionRecallF1(
  yTrue: readonly (readonly number[])[],
  yPred: readonly (readonly number[])[],
  average: Exclude<Average, 'binary'>,
): Omit<ClassScores, 'support'> {
  const width = checkIndicators(yTrue, yPred);
  const counts: Counts[] = Array.from({ length: width }, () => ({ tp: 0, pred: 0, true: 0 }));
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i] as readonly number[];
    const p = yPred[i] as readonly number[];
    for (let j = 0; j < width; j++) {
      const c = counts[j] as Counts;
      c.true += t[j] as number;
      c.pred += p[j] as number;
      c.tp += (t[j] as number) * (p[j] as number);
    }
  }
  return averageCounts(counts, average);
}

/** Subset accuracy: the share of samples whose whole indicator row is right. */
export function multiLabelSubsetAccuracy(
  yTrue: readonly (readonly number[])[],
  yPred: readonly (readonly number[])[],
): number {
  checkIndicators(yTrue, yPred);
  let exact = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i] as readonly number[];
    const p = yPred[i] as readonly number[];
    if (t.every((v, j) => v === p[j])) exact++;
  }
  return exact / yTrue.length;
}
