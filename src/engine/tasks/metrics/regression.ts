/**
 * Regression metrics (a text-classification head with one output, Hugging Face's "regression"
 * problem type): errors as sklearn's `mean_squared_error` / `mean_absolute_error`, correlations
 * as scipy's `pearsonr` / `spearmanr`, which is what GLUE's STS-B metric reports.
 */

function checkPairs(yTrue: readonly number[], yPred: readonly number[], least: number): void {
  if (yTrue.length !== yPred.length) {
    throw new Error(`metrics: ${yTrue.length} targets but ${yPred.length} predictions`);
  }
  if (yTrue.length < least) throw new Error(`metrics: needs at least ${least} samples, got ${yTrue.length}`);
}

export function meanSquaredError(yTrue: readonly number[], yPred: readonly number[]): number {
  checkPairs(yTrue, yPred, 1);
  let sum = 0;
  for (let i = 0; i < yTrue.length; i++) sum += ((yTrue[i] as number) - (yPred[i] as number)) ** 2;
  return sum / yTrue.length;
}

export function meanAbsoluteError(yTrue: readonly number[], yPred: readonly number[]): number {
  checkPairs(yTrue, yPred, 1);
  let sum = 0;
  for (let i = 0; i < yTrue.length; i++) sum += Math.abs((yTrue[i] as number) - (yPred[i] as number));
  return sum / yTrue.length;
}

/**
 * Pearson's r. Undefined when either side is constant: scipy returns NaN there, we return 0 (no
 * linear relation measured) so the value stays valid JSON and comparable for early stopping.
 */
export function pearson(x: readonly number[], y: readonly number[]): number {
  checkPairs(x, y, 2);
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i] as number;
    my += y[i] as number;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (x[i] as number) - mx;
    const dy = (y[i] as number) - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return 0;
  // Rounding can push |r| a hair past 1 for perfectly (anti)correlated data; scipy clips too.
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}

/** 1-based ranks with ties given their average rank (scipy's `rankdata(method='average')`). */
export function averageRanks(values: readonly number[]): number[] {
  const order = values.map((_, i) => i).sort((a, b) => (values[a] as number) - (values[b] as number));
  const ranks = new Array<number>(values.length);
  for (let start = 0; start < order.length; ) {
    let end = start + 1;
    while (end < order.length && values[order[end] as number] === values[order[start] as number]) end++;
    // Positions start..end-1 hold equal values; each gets the mean of ranks start+1..end.
    const rank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) ranks[order[k] as number] = rank;
    start = end;
  }
  return ranks;
}

/** Spearman's rho: Pearson's r of the average ranks, so ties are handled as scipy does. */
export function spearman(x: readonly number[], y: readonly number[]): number {
  checkPairs(x, y, 2);
  // NaN has no rank (sorting by it is undefined); a diverged model's NaN stays visible as NaN.
  if (x.some(Number.isNaN) || y.some(Number.isNaN)) return Number.NaN;
  return pearson(averageRanks(x), averageRanks(y));
}
