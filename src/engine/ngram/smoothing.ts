import type { Level } from './counts.js';
import { NgramError } from './tokens.js';

export type Smoothing = 'mle' | 'laplace' | 'kneser-ney' | 'modified-kneser-ney';
export const SMOOTHINGS: readonly Smoothing[] = ['mle', 'laplace', 'kneser-ney', 'modified-kneser-ney'];

export const MAX_ORDER = 5;
export const DEFAULT_DISCOUNT = 0.75;
export const DEFAULT_K = 1;

export interface ModelOptions {
  /** n, 1..5. */
  order: number;
  smoothing: Smoothing;
  /** Kneser-Ney's absolute discount D (default 0.75); only for `kneser-ney`. */
  discount?: number;
  /** Add-k's k (default 1, add-one); only for `laplace`. */
  k?: number;
}

/** Throws an NgramError naming the first option that is out of range or does not apply. */
export function checkOptions(options: ModelOptions): void {
  const { order, smoothing, discount, k } = options;
  if (!Number.isInteger(order) || order < 1 || order > MAX_ORDER) {
    throw new NgramError(`order must be an integer from 1 to ${MAX_ORDER}, got ${order}`);
  }
  if (!SMOOTHINGS.includes(smoothing)) {
    throw new NgramError(`smoothing must be one of ${SMOOTHINGS.join(', ')}, got '${smoothing}'`);
  }
  if (discount !== undefined) {
    if (smoothing !== 'kneser-ney') {
      throw new NgramError(
        `a discount applies to kneser-ney only (modified-kneser-ney estimates its own), not to ${smoothing}`,
      );
    }
    // Above 1 a singleton's discounted count max(1 - D, 0) clips at 0 and the distribution no
    // longer sums to 1.
    if (!(discount >= 0 && discount <= 1)) throw new NgramError(`discount must be in [0, 1], got ${discount}`);
  }
  if (k !== undefined) {
    if (smoothing !== 'laplace') throw new NgramError(`k (add-k) applies to laplace only, not to ${smoothing}`);
    if (!(k > 0 && Number.isFinite(k))) throw new NgramError(`k must be a positive number, got ${k}`);
  }
}

/**
 * The discounts [D1, D2, D3+] of each order 1..n (index k-1): one D for every count under
 * kneser-ney; under modified-kneser-ney Chen & Goodman's estimates from the counts of counts of the
 * counts that order uses (raw at the highest order, continuation counts below). Empty for MLE and
 * add-k, which do not discount.
 */
export function discountsOf(options: ModelOptions, levels: readonly Level[]): [number, number, number][] {
  if (options.smoothing === 'kneser-ney') {
    const d = options.discount ?? DEFAULT_DISCOUNT;
    return levels.map(() => [d, d, d]);
  }
  if (options.smoothing === 'modified-kneser-ney') return levels.map(modifiedDiscounts);
  return [];
}

/**
 * D1, D2, D3+ of one order: Y = n1/(n1+2n2), D1 = 1-2Y·n2/n1, D2 = 2-3Y·n3/n2, D3+ = 3-4Y·n4/n3.
 * A zero n1..n4 (the estimates are undefined) or a negative D is an NgramError naming the order.
 */
export function modifiedDiscounts(level: Level): [number, number, number] {
  const [n1, n2, n3, n4] = level.countsOfCounts;
  const kind = level.continuation ? 'continuation count' : 'count';
  [n1, n2, n3, n4].forEach((n, i) => {
    if (n === 0) {
      throw new NgramError(
        `modified-kneser-ney: at order ${level.k}, n${i + 1} = 0 (no ${level.k}-gram has ${kind} ${i + 1}), ` +
          'so the discounts D1, D2, D3+ are undefined; train on more text or use kneser-ney',
      );
    }
  });
  const y = n1 / (n1 + 2 * n2);
  const d: [number, number, number] = [1 - (2 * y * n2) / n1, 2 - (3 * y * n3) / n2, 3 - (4 * y * n4) / n3];
  // Each D_c is below c by construction, but D2 and D3+ turn negative on irregular counts of counts
  // (n3 large against n2, n4 against n3); then γ(h) can go negative and so can p(w | h). KenLM's
  // lmplz refuses such data the same way rather than return a distribution that is not one.
  d.forEach((dc, i) => {
    if (dc < 0) {
      throw new NgramError(
        `modified-kneser-ney: at order ${level.k}, D${i === 2 ? '3+' : i + 1} = ${dc} is negative ` +
          `(n1 = ${n1}, n2 = ${n2}, n3 = ${n3}, n4 = ${n4} of the ${kind}s), so some probabilities would be ` +
          'negative; train on more text or use kneser-ney',
      );
    }
  });
  return d;
}

/**
 * p(seq[i] | the order-1 tokens before it) for a padded id sequence, by the chosen smoothing.
 * `levels[k-1]` holds order k's counts; `discounts` comes from {@link discountsOf}.
 */
export function probability(
  smoothing: Smoothing,
  levels: readonly Level[],
  discounts: readonly [number, number, number][],
  vocabSize: number,
  addK: number,
  seq: Int32Array,
  i: number,
): number {
  const order = levels.length;
  const w = seq[i] as number;
  if (smoothing === 'mle' || smoothing === 'laplace') {
    const top = levels[order - 1] as Level;
    const h = historyId(levels, seq, i, order);
    const total = h < 0 ? 0 : (top.histTotal[h] as number);
    const c = total === 0 ? 0 : countOf(top, h, w);
    if (smoothing === 'laplace') return (c + addK) / (total + addK * vocabSize);
    // An unseen history has no MLE distribution: its tokens get probability 0 (infinite perplexity).
    return total === 0 ? 0 : c / total;
  }
  // Interpolated (modified) Kneser-Ney from the uniform 1/|V| up: each order k mixes its
  // discounted estimate with order k-1's through γ(h); an order where h was never seen (count 0,
  // or h contains `<unk>`) passes the lower estimate through unchanged.
  let p = 1 / vocabSize;
  for (let k = 1; k <= order; k++) {
    const level = levels[k - 1] as Level;
    const h = historyId(levels, seq, i, k);
    if (h < 0) continue;
    const total = level.histTotal[h] as number;
    if (total === 0) continue;
    const [d1, d2, d3] = discounts[k - 1] as [number, number, number];
    const c = countOf(level, h, w);
    const d = c === 0 ? 0 : c === 1 ? d1 : c === 2 ? d2 : d3;
    const gamma =
      (d1 * (level.histN1[h] as number) + d2 * (level.histN2[h] as number) + d3 * (level.histN3[h] as number)) / total;
    p = Math.max(c - d, 0) / total + gamma * p;
  }
  return p;
}

/** The count order k uses for (h w), 0 when that k-gram never occurred. */
function countOf(level: Level, h: number, w: number): number {
  const g = level.table ? level.table.find(h, w) : w;
  return g < 0 ? 0 : (level.count[g] as number);
}

/**
 * Id of the history of order k at position i (the k-1 tokens before it), as an id of order k-1;
 * 0 for the empty history of order 1; -1 when that (k-1)-gram never occurred in training.
 */
export function historyId(levels: readonly Level[], seq: Int32Array, i: number, k: number): number {
  if (k === 1) return 0;
  let id = seq[i - k + 1] as number;
  for (let m = 2; m < k; m++) {
    id = ((levels[m - 1] as Level).table as NonNullable<Level['table']>).find(id, seq[i - k + m] as number);
    if (id < 0) return -1;
  }
  return id;
}
