/**
 * Question-answering scores of the official SQuAD v1.1 evaluation script (`evaluate-v1.1.py`,
 * also Hugging Face's `squad` metric): exact match and token F1 after normalisation, the best
 * score over the gold answers of each question, averaged over questions and multiplied by 100.
 */
import { pySplit } from './python-text.js';

// Python's `string.punctuation`: ASCII only, so curly quotes and other Unicode marks survive.
const PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;
// Python's `\b` on str patterns is Unicode-aware (word = letter, number or '_'); JS's `\b` is ASCII
// even with the u flag, so the boundaries are spelled out as look-arounds.
const ARTICLES = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;

/** The script's `normalize_answer`: lowercase, drop punctuation, drop articles, collapse whitespace. */
export function normalizeAnswer(s: string): string {
  const text = s.toLowerCase().replace(PUNCTUATION, '').replace(ARTICLES, ' ');
  return pySplit(text).join(' ');
}

/** 1 when the normalised prediction equals the normalised gold answer, else 0. */
export function exactMatch(prediction: string, gold: string): number {
  return normalizeAnswer(prediction) === normalizeAnswer(gold) ? 1 : 0;
}

/** Bag-of-tokens F1 between the normalised answers (0 when they share no token, even when both are empty). */
export function tokenF1(prediction: string, gold: string): number {
  const pred = pySplit(normalizeAnswer(prediction));
  const ref = pySplit(normalizeAnswer(gold));
  const counts = new Map<string, number>();
  for (const t of ref) counts.set(t, (counts.get(t) ?? 0) + 1);
  let same = 0;
  for (const t of pred) {
    const left = counts.get(t) ?? 0;
    if (left > 0) {
      same++;
      counts.set(t, left - 1);
    }
  }
  if (same === 0) return 0;
  const precision = same / pred.length;
  const recall = same / ref.length;
  return (2 * precision * recall) / (precision + recall);
}

export interface QaExample {
  prediction: string;
  /** Every gold answer text of the question; the best-matching one counts. */
  answers: readonly string[];
}

/** Exact match and F1 in percent, averaged over questions as the official script does. */
export function squadScores(examples: readonly QaExample[]): { exact_match: number; f1: number } {
  if (examples.length === 0) throw new Error('squad: no questions to score');
  let em = 0;
  let f1 = 0;
  for (const [i, { prediction, answers }] of examples.entries()) {
    // v1.1 questions always have an answer; SQuAD v2's unanswerable ones need other rules.
    if (answers.length === 0) throw new Error(`squad: question ${i} has no gold answer`);
    em += Math.max(...answers.map((gold) => exactMatch(prediction, gold)));
    f1 += Math.max(...answers.map((gold) => tokenF1(prediction, gold)));
  }
  return { exact_match: (100 * em) / examples.length, f1: (100 * f1) / examples.length };
}
