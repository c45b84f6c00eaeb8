import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exactMatch, normalizeAnswer, squadScores, tokenF1 } from '../../../src/engine/tasks/metrics/squad.js';
import { near } from './near.js';

// Expected strings are what the official script's `normalize_answer` returns for the same input.
const NORMALISED: [string, string, string][] = [
  ['lowercases, drops punctuation and articles, collapses spaces', 'The  Quick, brown fox!', 'quick brown fox'],
  ['removes a and an as whole words', 'An apple a day', 'apple day'],
  ['keeps articles inside words', 'theatre and another', 'theatre and another'],
  ['punctuation goes first, so a-the becomes one word', 'anthem a-the', 'anthem athe'],
  ['dots inside abbreviations', 'A.B.C.', 'abc'],
  ['only articles leaves nothing', 'the the the', ''],
  ['Unicode whitespace splits like str.split()', "l'an the\u00a0cat\u3000sat", 'lan cat sat'],
  ['\\x1c separates words for Python, U+FEFF does not', 'x\x1cy\ufeffz', 'x y\ufeffz'],
  ['letters with accents are word characters around articles', 'éthe thé', 'éthe thé'],
  ['Unicode lowercasing', 'Über the ÜBER', 'über über'],
  ['non-ASCII punctuation is kept (string.punctuation is ASCII)', '“Quoted” — text', '“quoted” — text'],
];

for (const [name, input, want] of NORMALISED) {
  test(`normalize_answer: ${name}`, () => {
    assert.equal(normalizeAnswer(input), want);
  });
}

test('exact match compares normalised answers', () => {
  assert.equal(exactMatch('The Eiffel Tower.', 'eiffel   tower'), 1);
  assert.equal(exactMatch('Eiffel Tower in Paris', 'Eiffel Tower'), 0);
});

test('token F1 counts shared tokens with multiplicity', () => {
  // Prediction tokens (cat, sat, on, mat), gold (cat, on, mat): 3 shared, P = 3/4, R = 3/3.
  near(tokenF1('the cat sat on the mat', 'a cat on a mat'), (2 * (3 / 4) * 1) / (3 / 4 + 1), 'f1');
  // (cat, cat, dog) vs (cat, dog, dog): min counts cat 1 + dog 1 = 2 shared, P = R = 2/3.
  near(tokenF1('cat cat dog', 'cat dog dog'), 2 / 3, 'f1 with repeats');
  assert.equal(tokenF1('Paris', 'London'), 0);
  // v1.1 scores two answers that normalise to nothing as 0 (it has no "both empty" rule).
  assert.equal(tokenF1('the', 'a'), 0);
});

test('each question takes the best gold answer; scores average over questions, in percent', () => {
  const scores = squadScores([
    // EM 1 against the second answer; F1 1.
    { prediction: 'Denver Broncos', answers: ['the Broncos', 'Denver Broncos', 'Broncos'] },
    // No exact match; F1 best against "Broncos": P = 1/2, R = 1 -> 2/3 (vs "Denver Broncos": 1/2, 1/2 -> 1/2).
    { prediction: 'Carolina Broncos', answers: ['Denver Broncos', 'Broncos'] },
    // Nothing shared.
    { prediction: 'Santa Clara', answers: ['Levi Stadium'] },
  ]);
  near(scores.exact_match, (100 * (1 + 0 + 0)) / 3, 'exact_match');
  near(scores.f1, (100 * (1 + 2 / 3 + 0)) / 3, 'f1');
});

test('a question without gold answers and an empty set are errors', () => {
  assert.throws(() => squadScores([{ prediction: 'x', answers: [] }]), /question 0 has no gold answer/);
  assert.throws(() => squadScores([]), /no questions/);
});
