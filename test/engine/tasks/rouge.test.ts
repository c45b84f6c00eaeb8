import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lcsIndices, rouge, rougeMulti, rougePair, rougeTokens } from '../../../src/engine/tasks/metrics/rouge.js';
import { near, nearAll } from './near.js';

// ROUGE against Google's rouge-score (google-research/rouge: rouge_scorer.py, tokenize.py,
// scoring.py), stemmer off. Expected values are worked out in the comments; the first pair is the
// example of rouge-score's README and RougeScorer docstring.

test('tokens: lower-cased runs of a-z and 0-9, everything else separates', () => {
  assert.deepEqual(rougeTokens("The U.S. isn't 2nd-best, café!"), ['the', 'u', 's', 'isn', 't', '2nd', 'best', 'caf']);
  assert.deepEqual(rougeTokens('  ...  '), []);
  assert.deepEqual(rougeTokens('Ünïcode 北京 ok'), ['n', 'code', 'ok']);
});

test('hand-worked: rouge-score README pair, rouge1 / rouge2 / rougeL', () => {
  // target     the quick brown fox jumps over the lazy dog   (9 tokens)
  // prediction the quick brown dog jumps on the log          (8 tokens)
  // rouge1: common the x2, quick, brown, dog, jumps = 6 -> P 6/8, R 6/9, F = 2PR/(P+R) = 12/17
  // rouge2: common "the quick", "quick brown" = 2 of 7 (prediction) and 8 (target) -> F = 4/15
  // rougeL: LCS "the quick brown jumps the" = 5 -> P 5/8, R 5/9, F = 10/17
  const s = rougePair('The quick brown fox jumps over the lazy dog', 'The quick brown dog jumps on the log.', [
    'rouge1',
    'rouge2',
    'rougeL',
  ]);
  nearAll(s.rouge1, { precision: 6 / 8, recall: 6 / 9, fmeasure: 12 / 17 }, 'rouge1');
  nearAll(s.rouge2, { precision: 2 / 7, recall: 2 / 8, fmeasure: 4 / 15 }, 'rouge2');
  nearAll(s.rougeL, { precision: 5 / 8, recall: 5 / 9, fmeasure: 10 / 17 }, 'rougeL');
});

test('hand-worked: rougeLsum takes the union of per-sentence LCSs, rougeL one LCS', () => {
  // target "a b c d" (one sentence), prediction "c d" + "a b" (two sentences).
  // rougeL: LCS of "a b c d" and "c d a b" is 2 -> P = R = F = 1/2.
  // rougeLsum: LCS("a b c d", "c d") = {c, d}, LCS(..., "a b") = {a, b}; the union covers all 4 target
  // tokens, each available once on both sides -> hits 4, P = R = F = 1.
  const s = rougePair('a b c d', 'c d\na b', ['rougeL', 'rougeLsum']);
  nearAll(s.rougeL, { precision: 1 / 2, recall: 1 / 2, fmeasure: 1 / 2 }, 'rougeL');
  nearAll(s.rougeLsum, { precision: 1, recall: 1, fmeasure: 1 }, 'rougeLsum');
});

test('hand-worked: rougeLsum counts a token at most as often as both summaries have it', () => {
  // target "x y" + "x y" (m = 4), prediction "x y" (n = 2). Sentence 1: union LCS {x, y}, both left on
  // both sides -> 2 hits; sentence 2: x and y are used up in the prediction -> no hit.
  // P = 2/2, R = 2/4, F = 2/3 (the paper's plain union sum would give 4 hits, P = 2).
  const s = rougePair('x y\nx y', 'x y', ['rougeLsum']);
  nearAll(s.rougeLsum, { precision: 1, recall: 1 / 2, fmeasure: 2 / 3 }, 'rougeLsum');
  // Empty lines are dropped, a line of punctuation is a sentence without tokens.
  nearAll(rougePair('x y\n\n...\n', 'x y', ['rougeLsum']).rougeLsum, { precision: 1, recall: 1, fmeasure: 1 }, 'blank');
});

test("LCS backtracking follows rouge-score's tie rule (move left only when strictly longer)", () => {
  // ref a b, candidate b a: both "a" and "b" are LCSs; from (2, 2) the table has 1 left and 1 up, so
  // it moves up, then matches "a" (index 0).
  assert.deepEqual(lcsIndices(['a', 'b'], ['b', 'a']), [0]);
  assert.deepEqual(lcsIndices(['a', 'b', 'c', 'd'], ['b', 'd']), [1, 3]);
  assert.deepEqual(lcsIndices([], ['a']), []);
});

test('empty sides score 0, n-gram denominators are at least 1', () => {
  const s = rougePair('', 'a b');
  for (const type of ['rouge1', 'rouge2', 'rougeL', 'rougeLsum'] as const) {
    nearAll(s[type], { precision: 0, recall: 0, fmeasure: 0 }, type);
  }
  // Prediction "a" has no bigram: rouge2 P = 0 / max(0, 1) = 0, R = 0 / 1.
  nearAll(rougePair('a b', 'a', ['rouge2']).rouge2, { precision: 0, recall: 0, fmeasure: 0 }, 'rouge2');
});

test('hand-worked: several references, per type the one with the best F-measure', () => {
  // prediction "The brown fox jumps quickly" (5 tokens)
  // ref 1 "The fox moves": rouge1 common the, fox -> P 2/5, R 2/3, F 1/2
  // ref 2 "The quick brown fox jumps over the lazy dog": common the, brown, fox, jumps -> P 4/5,
  //   R 4/9, F = 2 (4/5)(4/9) / (4/5 + 4/9) = 4/7 -> ref 2 wins rouge1.
  const s = rougeMulti(
    ['The fox moves', 'The quick brown fox jumps over the lazy dog'],
    'The brown fox jumps quickly',
    ['rouge1'],
  );
  nearAll(s.rouge1, { precision: 4 / 5, recall: 4 / 9, fmeasure: 4 / 7 }, 'rouge1');
  // A tie in F keeps the first reference (numpy's argmax): "a b" vs "a b c d" (P 1, R 1/2) and vs
  // "a" (P 1/2, R 1), both F = 2/3.
  const tie = rougeMulti(['a b c d', 'a'], 'a b', ['rouge1']);
  nearAll(tie.rouge1, { precision: 1, recall: 1 / 2, fmeasure: 2 / 3 }, 'tie');
});

test('corpus ROUGE is the plain mean over examples', () => {
  // Example 1: "a b" vs "a b" -> 1, 1, 1. Example 2: "a" vs target "a b c": P 1, R 1/3, F 1/2.
  const s = rouge(['a b', 'a'], [['a b', 'a b c']], ['rouge1']);
  nearAll(s.rouge1, { precision: 1, recall: (1 + 1 / 3) / 2, fmeasure: (1 + 1 / 2) / 2 }, 'mean');
  // Several reference streams: the best per example, then the mean.
  const multi = rouge(
    ['a b', 'a'],
    [
      ['x', 'a b c'],
      ['a b', 'a'],
    ],
    ['rouge1'],
  );
  near(multi.rouge1.fmeasure, 1, 'both examples matched by some reference');
  assert.deepEqual(Object.keys(rouge(['a'], [['a']])), ['rouge1', 'rouge2', 'rougeL', 'rougeLsum']);
  assert.throws(() => rouge(['a'], [['a']], ['rougeX' as 'rougeL']), /unknown ROUGE type 'rougeX'/);
  assert.throws(() => rouge(['a', 'b'], [['a']]), /reference stream 1 has 1 segments but there are 2 hypotheses/);
});
