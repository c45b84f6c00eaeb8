/**
 * Corpus chrF (Popović 2015) and chrF++ (Popović 2017) exactly as sacreBLEU 2.x computes them
 * (sacrebleu/metrics/chrf.py; rules read at version 2.6.0): character n-grams of orders 1..6 with
 * whitespace removed, plus word n-grams of orders 1..word order for chrF++; per segment the
 * statistics of the reference with the best F-score; statistics summed over the corpus, then one
 * F-beta score (beta = 2) in 0..100.
 *
 * Smoothing: sacreBLEU's default (`eps_smoothing=False`, signature `eff:yes`) averages precision and
 * recall over the orders where both hypothesis and reference have n-grams, then takes F-beta of the
 * averages. `epsSmoothing: true` (`eff:no`) is chrF++.py / Moses / NLTK's: F-beta per order, with
 * 1e-16 standing in for an undefined precision, recall or F, averaged over all orders.
 */
import { clippedMatches, countNgrams, type NgramCounts, totalCount } from './ngram-counts.js';
import { codePoints, pySplit } from './python-text.js';
import { referencesBySegment, sacrebleuSignature, sumStatistics, TextMetricError } from './text-metric-input.js';

export interface ChrfOptions {
  /** Character n-gram orders 1..charOrder; default 6. */
  charOrder?: number;
  /** Word n-gram orders 1..wordOrder; default 0 (chrF), 2 gives chrF++. */
  wordOrder?: number;
  /** Weight of recall over precision; default 2. */
  beta?: number;
  /** Lower-case hypotheses and references first; default false. */
  lowercase?: boolean;
  /** Keep whitespace inside character n-grams; default false (removed). */
  whitespace?: boolean;
  /** chrF++.py's epsilon smoothing instead of sacreBLEU's effective-order averaging; default false. */
  epsSmoothing?: boolean;
}

export interface ChrfScore {
  /** 'chrF2', or 'chrF2++' with word order 2 (sacreBLEU's name: beta, then one '+' per word order). */
  name: string;
  /** chrF in 0..100. */
  score: number;
  /** sacreBLEU's signature, e.g. `nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.6.0`. */
  signature: string;
}

type Settings = Required<ChrfOptions>;

function settingsOf(options: ChrfOptions): Settings {
  const s = {
    charOrder: options.charOrder ?? 6,
    wordOrder: options.wordOrder ?? 0,
    beta: options.beta ?? 2,
    lowercase: options.lowercase ?? false,
    whitespace: options.whitespace ?? false,
    epsSmoothing: options.epsSmoothing ?? false,
  };
  for (const key of ['charOrder', 'wordOrder'] as const) {
    if (!Number.isInteger(s[key]) || s[key] < 0) {
      throw new TextMetricError(`chrF's ${key} must be a non-negative integer, got ${s[key]}`);
    }
  }
  if (s.charOrder + s.wordOrder === 0) throw new TextMetricError('chrF needs a character or a word order above 0');
  if (!(s.beta > 0)) throw new TextMetricError(`chrF's beta must be positive, got ${s.beta}`);
  return s;
}

// Python's string.punctuation, which chrF++'s word splitting peels off words.
const PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');

/**
 * chrF++'s words (sacreBLEU's `_remove_punctuation`): split on whitespace, then one punctuation
 * mark at the end of a word, or else at its start, becomes a word of its own ("(hi)" gives "(hi"
 * and ")", sacreBLEU issue #124).
 */
export function chrfWords(sentence: string): string[] {
  const words: string[] = [];
  for (const word of pySplit(sentence)) {
    const chars = codePoints(word);
    const last = chars[chars.length - 1] as string;
    if (chars.length === 1) words.push(word);
    else if (PUNCTUATION.has(last)) words.push(chars.slice(0, -1).join(''), last);
    else if (PUNCTUATION.has(chars[0] as string)) words.push(chars[0] as string, chars.slice(1).join(''));
    else words.push(word);
  }
  return words;
}

/** The n-gram counts of one segment: character orders 1..charOrder, then word orders 1..wordOrder. */
function segmentNgrams(sentence: string, s: Settings): NgramCounts[] {
  const chars = codePoints(s.whitespace ? sentence : pySplit(sentence).join(''));
  const counts = Array.from({ length: s.charOrder }, (_, i) => countNgrams(chars, i + 1, ''));
  if (s.wordOrder > 0) {
    const words = chrfWords(sentence);
    for (let n = 1; n <= s.wordOrder; n++) counts.push(countNgrams(words, n, ' '));
  }
  return counts;
}

/** [hyp n-grams, ref n-grams, matches] per order, flattened (sacreBLEU's `_get_match_statistics`). */
function matchStatistics(hyp: readonly NgramCounts[], ref: readonly NgramCounts[]): number[] {
  return hyp.flatMap((h, i) => {
    const r = ref[i] as NgramCounts;
    // Hypothesis n-grams are not counted for an order the reference is too short to have.
    return [r.size > 0 ? totalCount(h) : 0, totalCount(r), clippedMatches(h, r)];
  });
}

/** The chrF score in 0..100 of (summed) statistics (sacreBLEU's `_compute_f_score`). */
export function chrfFromStatistics(statistics: readonly number[], options: ChrfOptions = {}): number {
  return fScore(statistics, settingsOf(options));
}

/** chrfFromStatistics with settings already checked (corpusChrf scores every segment against every reference). */
function fScore(statistics: readonly number[], s: Settings): number {
  const eps = 1e-16;
  const order = s.charOrder + s.wordOrder;
  const factor = s.beta ** 2;
  let score = 0;
  let effectiveOrder = 0;
  let avgPrec = 0;
  let avgRec = 0;
  for (let i = 0; i < order; i++) {
    const nHyp = statistics[3 * i] as number;
    const nRef = statistics[3 * i + 1] as number;
    const nMatch = statistics[3 * i + 2] as number;
    const prec = nHyp > 0 ? nMatch / nHyp : eps;
    const rec = nRef > 0 ? nMatch / nRef : eps;
    const denom = factor * prec + rec;
    score += denom > 0 ? ((1 + factor) * prec * rec) / denom : eps;
    if (nHyp > 0 && nRef > 0) {
      avgPrec += prec;
      avgRec += rec;
      effectiveOrder++;
    }
  }
  if (s.epsSmoothing) return (100 * score) / order;
  if (effectiveOrder === 0) return 0;
  avgPrec /= effectiveOrder;
  avgRec /= effectiveOrder;
  if (avgPrec + avgRec === 0) return 0;
  return 100 * (((1 + factor) * avgPrec * avgRec) / (factor * avgPrec + avgRec));
}

export function chrfSignature(nrefs: number, options: ChrfOptions = {}): string {
  return signatureOf(nrefs, settingsOf(options));
}

function signatureOf(nrefs: number, s: Settings): string {
  return sacrebleuSignature(nrefs, {
    case: s.lowercase ? 'lc' : 'mixed',
    eff: s.epsSmoothing ? 'no' : 'yes',
    nc: s.charOrder,
    nw: s.wordOrder,
    space: s.whitespace ? 'yes' : 'no',
  });
}

/**
 * Corpus chrF of `hypotheses` against reference streams (`references[k][i]` is the k-th reference
 * of segment i), as `sacrebleu.metrics.CHRF(...).corpus_score(hypotheses, references)`.
 */
export function corpusChrf(
  hypotheses: readonly string[],
  references: readonly (readonly string[])[],
  options: ChrfOptions = {},
): ChrfScore {
  const s = settingsOf(options);
  const prepare = (text: string) => segmentNgrams(s.lowercase ? text.toLowerCase() : text, s);
  const segments = referencesBySegment(hypotheses, references);
  const rows = hypotheses.map((hyp, i) => {
    const hypNgrams = prepare(hyp);
    // The reference with the best segment F-score; the first on ties.
    let best: number[] = [];
    let bestScore = -1;
    for (const ref of segments[i] as string[]) {
      const stats = matchStatistics(hypNgrams, prepare(ref));
      const f = fScore(stats, s);
      if (f > bestScore) {
        bestScore = f;
        best = stats;
      }
    }
    return best;
  });
  return {
    name: `chrF${s.beta}${'+'.repeat(s.wordOrder)}`,
    score: fScore(sumStatistics(rows), s),
    signature: signatureOf(references.length, s),
  };
}
