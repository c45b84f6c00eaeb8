/**
 * ROUGE-N, ROUGE-L and ROUGE-Lsum exactly as Google's `rouge-score` package computes them
 * (google-research/rouge: rouge_scorer.py, tokenize.py, scoring.py), with its stemmer off (its
 * default; no Porter stemmer here):
 * - tokens: the text lower-cased, every run of characters other than a-z and 0-9 a separator;
 * - rougeN: clipped n-gram matches over the target's (recall) and prediction's (precision) n-grams;
 * - rougeL: the longest common subsequence of the two token lists;
 * - rougeLsum: summary-level LCS (Lin 2004, section 3.2) over sentences split on newlines: for each
 *   target sentence the union of its LCS with every prediction sentence, each token counted at most
 *   as often as it occurs in either summary;
 * - F-measure 2PR/(P+R) (0 when P+R = 0); all scores are fractions in 0..1, as rouge-score reports;
 * - several references: per rouge type, the reference with the best F-measure (the first on ties),
 *   as `RougeScorer.score_multi`;
 * - corpus: the plain mean over examples of precision, recall and F-measure. (rouge-score's
 *   BootstrapAggregator reports as `mid` the median of 1000 bootstrap means, a random estimate of
 *   this mean.)
 */
import { clippedMatches, countNgrams, totalCount } from './ngram-counts.js';
import { referencesBySegment, TextMetricError } from './text-metric-input.js';

export interface RougeScore {
  precision: number;
  recall: number;
  fmeasure: number;
}

/** `rouge1`..`rouge9`, `rougeL`, `rougeLsum`, the names rouge-score takes. */
export type RougeType = `rouge${1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9}` | 'rougeL' | 'rougeLsum';

/** What Hugging Face `evaluate`'s rouge reports by default. */
export const DEFAULT_ROUGE_TYPES: readonly RougeType[] = ['rouge1', 'rouge2', 'rougeL', 'rougeLsum'];

export function isRougeType(name: string): name is RougeType {
  return /^rouge[1-9]$/.test(name) || name === 'rougeL' || name === 'rougeLsum';
}

/** rouge-score's default tokenizer without the stemmer: lower-case, keep runs of a-z and 0-9. */
export function rougeTokens(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9]+/g) ?? [];
}

function fmeasure(precision: number, recall: number): number {
  return precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
}

function scoreOf(hits: number, targetCount: number, predictionCount: number): RougeScore {
  const precision = hits / predictionCount;
  const recall = hits / targetCount;
  return { precision, recall, fmeasure: fmeasure(precision, recall) };
}

function zero(): RougeScore {
  return { precision: 0, recall: 0, fmeasure: 0 };
}

/** ROUGE-N: denominators are at least 1, so an empty side scores 0. */
function scoreNgrams(target: readonly string[], prediction: readonly string[], n: number): RougeScore {
  const t = countNgrams(target, n, ' ');
  const p = countNgrams(prediction, n, ' ');
  return scoreOf(clippedMatches(t, p), Math.max(totalCount(t), 1), Math.max(totalCount(p), 1));
}

/** The LCS length table, (a.length + 1) x (b.length + 1), row-major. */
function lcsTable(a: readonly string[], b: readonly string[]): Int32Array {
  const cols = b.length + 1;
  const table = new Int32Array((a.length + 1) * cols);
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      table[i * cols + j] =
        a[i - 1] === b[j - 1]
          ? (table[(i - 1) * cols + j - 1] as number) + 1
          : Math.max(table[(i - 1) * cols + j] as number, table[i * cols + j - 1] as number);
    }
  }
  return table;
}

function scoreLcs(target: readonly string[], prediction: readonly string[]): RougeScore {
  if (target.length === 0 || prediction.length === 0) return zero();
  const lcs = lcsTable(target, prediction)[(target.length + 1) * (prediction.length + 1) - 1] as number;
  return scoreOf(lcs, target.length, prediction.length);
}

/**
 * Indices into `ref` of one longest common subsequence with `can`: rouge-score's backtrack, which
 * on equal tokens takes the diagonal and otherwise moves left only when that keeps a strictly longer
 * LCS (the choice matters to the union in ROUGE-Lsum).
 */
export function lcsIndices(ref: readonly string[], can: readonly string[]): number[] {
  const table = lcsTable(ref, can);
  const cols = can.length + 1;
  const indices: number[] = [];
  let i = ref.length;
  let j = can.length;
  while (i > 0 && j > 0) {
    if (ref[i - 1] === can[j - 1]) {
      indices.push(i - 1);
      i--;
      j--;
    } else if ((table[i * cols + j - 1] as number) > (table[(i - 1) * cols + j] as number)) {
      j--;
    } else {
      i--;
    }
  }
  return indices.reverse();
}

function tokenCounts(sentences: readonly (readonly string[])[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const s of sentences) for (const t of s) counts.set(t, (counts.get(t) ?? 0) + 1);
  return counts;
}

/** ROUGE-Lsum of tokenized sentences (rouge-score's `_summary_level_lcs`). */
function scoreSummaryLcs(targetSents: readonly string[][], predictionSents: readonly string[][]): RougeScore {
  const m = targetSents.reduce((s, x) => s + x.length, 0);
  const n = predictionSents.reduce((s, x) => s + x.length, 0);
  if (m === 0 || n === 0) return zero();
  const left = { target: tokenCounts(targetSents), prediction: tokenCounts(predictionSents) };
  let hits = 0;
  for (const ref of targetSents) {
    const union = new Set<number>();
    for (const can of predictionSents) for (const k of lcsIndices(ref, can)) union.add(k);
    for (const k of [...union].sort((a, b) => a - b)) {
      const token = ref[k] as string;
      const inPrediction = left.prediction.get(token) ?? 0;
      const inTarget = left.target.get(token) ?? 0;
      if (inPrediction > 0 && inTarget > 0) {
        hits++;
        left.prediction.set(token, inPrediction - 1);
        left.target.set(token, inTarget - 1);
      }
    }
  }
  return scoreOf(hits, m, n);
}

/** Sentences for ROUGE-Lsum: the text split on "\n", empty lines dropped, each tokenized. */
function summarySentences(text: string): string[][] {
  return text
    .split('\n')
    .filter((s) => s.length > 0)
    .map(rougeTokens);
}

/** rouge-score's `RougeScorer(types).score(target, prediction)`. */
export function rougePair(
  target: string,
  prediction: string,
  types: readonly RougeType[] = DEFAULT_ROUGE_TYPES,
): Record<RougeType, RougeScore> {
  const t = rougeTokens(target);
  const p = rougeTokens(prediction);
  const out = {} as Record<RougeType, RougeScore>;
  for (const type of types) {
    if (type === 'rougeL') out[type] = scoreLcs(t, p);
    else if (type === 'rougeLsum') out[type] = scoreSummaryLcs(summarySentences(target), summarySentences(prediction));
    else out[type] = scoreNgrams(t, p, Number(type.slice(5)));
  }
  return out;
}

/** rouge-score's `score_multi`: per type, the score against the reference with the best F-measure. */
export function rougeMulti(
  targets: readonly string[],
  prediction: string,
  types: readonly RougeType[] = DEFAULT_ROUGE_TYPES,
): Record<RougeType, RougeScore> {
  const all = targets.map((t) => rougePair(t, prediction, types));
  const out = {} as Record<RougeType, RougeScore>;
  for (const type of types) {
    let best = all[0]?.[type] as RougeScore;
    for (const s of all) if (s[type].fmeasure > best.fmeasure) best = s[type];
    out[type] = best;
  }
  return out;
}

/**
 * Corpus ROUGE of `predictions` against reference streams (`references[k][i]` is the k-th
 * reference of example i): per example the best reference per type, then the mean over examples.
 */
export function rouge(
  predictions: readonly string[],
  references: readonly (readonly string[])[],
  types: readonly RougeType[] = DEFAULT_ROUGE_TYPES,
): Record<RougeType, RougeScore> {
  for (const type of types) if (!isRougeType(type)) throw new TextMetricError(`unknown ROUGE type '${type}'`);
  const segments = referencesBySegment(predictions, references);
  const sums = {} as Record<RougeType, RougeScore>;
  for (const type of types) sums[type] = zero();
  predictions.forEach((prediction, i) => {
    const scores = rougeMulti(segments[i] as string[], prediction, types);
    for (const type of types) {
      const sum = sums[type];
      sum.precision += scores[type].precision;
      sum.recall += scores[type].recall;
      sum.fmeasure += scores[type].fmeasure;
    }
  });
  const count = predictions.length;
  for (const type of types) {
    const s = sums[type];
    sums[type] = { precision: s.precision / count, recall: s.recall / count, fmeasure: s.fmeasure / count };
  }
  return sums;
}
