/**
 * The classical baseline of `--only pretrain`: TF-IDF features and L2-regularised logistic
 * regression, as scikit-learn's `TfidfVectorizer()` + `LogisticRegression()` defaults compute them
 * (no Python here, and only a baseline: a small, exact implementation beats a dependency).
 *
 * - tokens: lowercased, `(?u)\b\w\w+\b` (words of two or more word characters);
 * - idf: `ln((1 + n) / (1 + df)) + 1` (smooth_idf=True), raw counts times idf, rows L2-normalised;
 * - the classifier minimises `Σ logloss + ||w||² / (2C)` with C = 1, the intercept unpenalised,
 *   by Nesterov-accelerated gradient descent with step 1/L (L bounds the Hessian: a row's squared
 *   norm is 1, 2 with the intercept's constant feature, so L ≤ 2n/4 + 1/C), until the gradient's
 *   norm is below `tolerance`.
 */
/** Python's Unicode `\w` is letters, digits and `_`; a maximal run of two or more is what `\b\w\w+\b` finds. */
const TOKEN = /[\p{L}\p{N}_]{2,}/gu;

export function tfidfTokens(text: string): string[] {
  return text.toLowerCase().match(TOKEN) ?? [];
}

/** A sparse row: feature ids and their values. */
export interface SparseRow {
  ids: Int32Array;
  values: Float64Array;
}

export class TfidfVectorizer {
  readonly vocabulary = new Map<string, number>();
  idf = new Float64Array(0);

  fit(texts: readonly string[]): this {
    const df: number[] = [];
    for (const text of texts) {
      for (const token of new Set(tfidfTokens(text))) {
        let id = this.vocabulary.get(token);
        if (id === undefined) {
          id = this.vocabulary.size;
          this.vocabulary.set(token, id);
          df.push(0);
        }
        df[id] = (df[id] as number) + 1;
      }
    }
    const n = texts.length;
    this.idf = Float64Array.from(df, (d) => Math.log((1 + n) / (1 + d)) + 1);
    return this;
  }

  /** Tokens outside the fitted vocabulary are dropped, as scikit-learn's transform does. */
  transform(text: string): SparseRow {
    const counts = new Map<number, number>();
    for (const token of tfidfTokens(text)) {
      const id = this.vocabulary.get(token);
      if (id !== undefined) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    const ids = Int32Array.from([...counts.keys()].sort((a, b) => a - b));
    const values = Float64Array.from(ids, (id) => (counts.get(id) as number) * (this.idf[id] as number));
    const norm = l2(values);
    if (norm > 0) for (let i = 0; i < values.length; i++) values[i] = (values[i] as number) / norm;
    return { ids, values };
  }
}

export interface LogisticFit {
  weights: Float64Array;
  intercept: number;
  iterations: number;
  gradientNorm: number;
}

function l2(xs: Float64Array): number {
  let sum = 0;
  for (const x of xs) sum += x * x;
  return Math.sqrt(sum);
}

const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

function margin(row: SparseRow, w: Float64Array, b: number): number {
  let z = b;
  for (let i = 0; i < row.ids.length; i++) z += (w[row.ids[i] as number] as number) * (row.values[i] as number);
  return z;
}

/** The objective's gradient at (w, b) into gw; returns the intercept's gradient. */
function gradient(
  rows: readonly SparseRow[],
  y: readonly number[],
  w: Float64Array,
  b: number,
  c: number,
  gw: Float64Array,
) {
  for (let j = 0; j < w.length; j++) gw[j] = (w[j] as number) / c;
  let gb = 0;
  rows.forEach((row, i) => {
    const r = sigmoid(margin(row, w, b)) - (y[i] as number);
    gb += r;
    for (let k = 0; k < row.ids.length; k++) {
      const id = row.ids[k] as number;
      gw[id] = (gw[id] as number) + r * (row.values[k] as number);
    }
  });
  return gb;
}

/** Binary logistic regression on rows with labels 0/1. */
export function fitLogistic(
  rows: readonly SparseRow[],
  y: readonly number[],
  features: number,
  o: { c?: number; tolerance?: number; maxIterations?: number } = {},
): LogisticFit {
  const c = o.c ?? 1;
  const tolerance = o.tolerance ?? 1e-6;
  const maxIterations = o.maxIterations ?? 20_000;
  const step = 1 / (rows.length / 2 + 1 / c);
  let w = new Float64Array(features);
  let b = 0;
  let prevW = new Float64Array(features);
  let prevB = 0;
  const lookW = new Float64Array(features);
  const gw = new Float64Array(features);
  let gradientNorm = Number.POSITIVE_INFINITY;
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    // Nesterov: the gradient at the extrapolated point.
    const momentum = iterations / (iterations + 3);
    for (let j = 0; j < features; j++)
      lookW[j] = (w[j] as number) + momentum * ((w[j] as number) - (prevW[j] as number));
    const lookB = b + momentum * (b - prevB);
    const gb = gradient(rows, y, lookW, lookB, c, gw);
    [prevW, w] = [w, prevW];
    prevB = b;
    for (let j = 0; j < features; j++) w[j] = (lookW[j] as number) - step * (gw[j] as number);
    b = lookB - step * gb;
    if (iterations % 50 === 49) {
      const gbAt = gradient(rows, y, w, b, c, gw);
      gradientNorm = Math.sqrt(gbAt * gbAt + l2(gw) ** 2);
      if (gradientNorm < tolerance) break;
    }
  }
  return { weights: w, intercept: b, iterations, gradientNorm };
}

/** P(label 1) of a row. */
export function predictProbability(fit: LogisticFit, row: SparseRow): number {
  return sigmoid(margin(row, fit.weights, fit.intercept));
}
