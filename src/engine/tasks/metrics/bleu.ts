/**
 * Corpus BLEU exactly as sacreBLEU 2.x computes it (sacrebleu/metrics/bleu.py; rules read at
 * version 2.6.0): each segment is lower-cased (optionally), right-stripped and tokenized, its n-grams
 * (orders 1..4) are clipped by the largest count any one reference has, the reference length is
 * the one closest to the hypothesis length (ties to the shorter), and the statistics are summed over
 * the corpus before precisions, smoothing and the brevity penalty turn them into one score in 0..100.
 */
import { type BleuTokenizer, bleuTokenizer } from './bleu-tokenizers.js';
import { clippedMatches, countNgrams, type NgramCounts, totalCount } from './ngram-counts.js';
import { pyRstrip, pySplit } from './python-text.js';
import { referencesBySegment, sacrebleuSignature, sumStatistics, TextMetricError } from './text-metric-input.js';

export const SMOOTH_METHODS = ['exp', 'floor', 'add-k', 'none'] as const;
export type SmoothMethod = (typeof SMOOTH_METHODS)[number];

// Chen & Cherry (2014)'s values, sacreBLEU's defaults for the two methods that take one.
const SMOOTH_DEFAULTS: Record<SmoothMethod, number | undefined> = {
  exp: undefined,
  floor: 0.1,
  'add-k': 1,
  none: undefined,
};

export interface BleuOptions {
  /** Default '13a'. */
  tokenize?: BleuTokenizer;
  /** Lower-case hypotheses and references first; default false. */
  lowercase?: boolean;
  /** Default 'exp' (mteval-v13a's: each order without a match gets 1/(2^k · total)). */
  smoothMethod?: SmoothMethod;
  /** The value of 'floor' (default 0.1) and 'add-k' (default 1). */
  smoothValue?: number;
  /** Default 4. */
  maxNgramOrder?: number;
  /**
   * Average only over the orders that have n-grams (sacreBLEU's sentence-level default); off for
   * corpus BLEU, where an order without hypothesis n-grams makes the score 0.
   */
  effectiveOrder?: boolean;
}

export interface BleuScore {
  /** BLEU in 0..100. */
  score: number;
  /** Clipped n-gram matches per order (with add-k's added value from order 2, as sacreBLEU reports). */
  counts: number[];
  /** Hypothesis n-grams per order. */
  totals: number[];
  /** Per-order precisions in percent, after smoothing; 0 for orders not reached. */
  precisions: number[];
  /** Brevity penalty. */
  bp: number;
  sysLen: number;
  refLen: number;
  /** sacreBLEU's reproducibility signature, e.g. `nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0`. */
  signature: string;
}

/** sacreBLEU's `my_log`: log, floored at -9999999999 for a zero precision. */
function floorLog(x: number): number {
  return x === 0 ? -9999999999 : Math.log(x);
}

/**
 * BLEU from summed statistics (sacreBLEU's `BLEU.compute_bleu`). `correct` and `total` have one
 * entry per order; they are copied, not changed.
 */
export function computeBleu(
  correctIn: readonly number[],
  totalIn: readonly number[],
  sysLen: number,
  refLen: number,
  options: Pick<BleuOptions, 'smoothMethod' | 'smoothValue' | 'effectiveOrder'> = {},
): Omit<BleuScore, 'signature'> {
  const method = options.smoothMethod ?? 'exp';
  const smoothValue = options.smoothValue ?? SMOOTH_DEFAULTS[method] ?? 0;
  const correct = [...correctIn];
  const total = [...totalIn];
  const maxOrder = correct.length;
  let bp = 1;
  if (sysLen < refLen) bp = sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0;
  const precisions = new Array<number>(maxOrder).fill(0);
  const result = { counts: correct, totals: total, precisions, bp, sysLen, refLen };
  // No match at any order: 0 whatever the smoothing (sacreBLEU #141).
  if (correct.every((c) => c === 0)) return { score: 0, ...result };

  let smoothMteval = 1;
  let effOrder = maxOrder;
  for (let n = 1; n <= maxOrder; n++) {
    if (method === 'add-k' && n > 1) {
      correct[n - 1] = (correct[n - 1] as number) + smoothValue;
      total[n - 1] = (total[n - 1] as number) + smoothValue;
    }
    const t = total[n - 1] as number;
    const c = correct[n - 1] as number;
    // No hypothesis n-grams of this order (nor of any higher one): stop; unless the effective order
    // is on, the zero precisions left behind make the score 0.
    if (t === 0) break;
    if (options.effectiveOrder) effOrder = n;
    if (c === 0) {
      if (method === 'exp') {
        smoothMteval *= 2;
        precisions[n - 1] = 100 / (smoothMteval * t);
      } else if (method === 'floor') {
        precisions[n - 1] = (100 * smoothValue) / t;
      }
    } else {
      precisions[n - 1] = (100 * c) / t;
    }
  }
  let logSum = 0;
  for (const p of precisions.slice(0, effOrder)) logSum += floorLog(p);
  return { score: bp * Math.exp(logSum / effOrder), ...result };
}

/** sacreBLEU's `_get_closest_ref_len`: the reference length nearest the hypothesis's, ties to the shorter. */
export function closestRefLength(hypLen: number, refLens: readonly number[]): number {
  let bestDiff = -1;
  let best = -1;
  for (const len of refLens) {
    const diff = Math.abs(hypLen - len);
    if (bestDiff === -1 || diff < bestDiff) {
      bestDiff = diff;
      best = len;
    } else if (diff === bestDiff && len < best) {
      best = len;
    }
  }
  return best;
}

/** Counts of every n-gram of orders 1..maxOrder of a tokenized segment, one map per order. */
function wordNgrams(tokens: readonly string[], maxOrder: number): NgramCounts[] {
  return Array.from({ length: maxOrder }, (_, i) => countNgrams(tokens, i + 1, ' '));
}

/** [hypLen, refLen, correct_1..N, total_1..N] of one segment (sacreBLEU's segment statistics). */
function segmentStatistics(hyp: string, refs: readonly string[], maxOrder: number): number[] {
  const hypTokens = pySplit(hyp);
  const hypNgrams = wordNgrams(hypTokens, maxOrder);
  // The clipping count of an n-gram is its largest count in any one reference.
  const refNgrams: NgramCounts[] = Array.from({ length: maxOrder }, () => new Map());
  const refLens: number[] = [];
  for (const ref of refs) {
    const tokens = pySplit(ref);
    refLens.push(tokens.length);
    wordNgrams(tokens, maxOrder).forEach((counts, i) => {
      const merged = refNgrams[i] as NgramCounts;
      for (const [ngram, c] of counts) merged.set(ngram, Math.max(merged.get(ngram) ?? 0, c));
    });
  }
  const correct = hypNgrams.map((counts, i) => clippedMatches(counts, refNgrams[i] as NgramCounts));
  const total = hypNgrams.map(totalCount);
  return [hypTokens.length, closestRefLength(hypTokens.length, refLens), ...correct, ...total];
}

/** sacreBLEU's BLEU signature: the settings that make a score reproducible. */
export function bleuSignature(nrefs: number, options: BleuOptions = {}): string {
  const method = options.smoothMethod ?? 'exp';
  // Only the methods that take a value show it, as sacreBLEU formats it ('floor[0.10]').
  const fallback = SMOOTH_DEFAULTS[method];
  const smooth = fallback === undefined ? method : `${method}[${(options.smoothValue ?? fallback).toFixed(2)}]`;
  return sacrebleuSignature(nrefs, {
    case: options.lowercase ? 'lc' : 'mixed',
    eff: options.effectiveOrder ? 'yes' : 'no',
    tok: options.tokenize ?? '13a',
    smooth,
  });
}

/**
 * Corpus BLEU of `hypotheses` against reference streams (`references[k][i]` is the k-th reference
 * of segment i), as `sacrebleu.corpus_bleu(hypotheses, references, ...)`.
 */
export function corpusBleu(
  hypotheses: readonly string[],
  references: readonly (readonly string[])[],
  options: BleuOptions = {},
): BleuScore {
  const maxOrder = options.maxNgramOrder ?? 4;
  if (!Number.isInteger(maxOrder) || maxOrder < 1) {
    throw new TextMetricError(`the maximum n-gram order must be a positive integer, got ${maxOrder}`);
  }
  const tokenize = bleuTokenizer(options.tokenize ?? '13a');
  const preprocess = (s: string) => tokenize(pyRstrip(options.lowercase ? s.toLowerCase() : s));
  const segments = referencesBySegment(hypotheses, references);
  const rows = hypotheses.map((hyp, i) =>
    segmentStatistics(preprocess(hyp), (segments[i] as string[]).map(preprocess), maxOrder),
  );
  const [sysLen, refLen, ...rest] = sumStatistics(rows) as [number, number, ...number[]];
  const score = computeBleu(rest.slice(0, maxOrder), rest.slice(maxOrder), sysLen, refLen, options);
  return { ...score, signature: bleuSignature(references.length, options) };
}
