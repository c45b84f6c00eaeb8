import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getEntities, seqevalScores, tokenAccuracy } from '../../../src/engine/tasks/metrics/seqeval.js';
import { near, nearAll } from './near.js';

// Expected entities follow seqeval's default (conlleval) chunking rules; each case names the rule.
const CASES: [string, string[], [string, number, number][]][] = [
  [
    'plain IOB2',
    ['B-PER', 'I-PER', 'O', 'B-LOC'],
    [
      ['PER', 0, 1],
      ['LOC', 3, 3],
    ],
  ],
  ['I- without B- after O starts a chunk', ['O', 'I-PER', 'I-PER', 'O'], [['PER', 1, 2]]],
  ['I- at the very start starts a chunk', ['I-PER', 'I-PER'], [['PER', 0, 1]]],
  [
    'type switch inside I- closes one chunk and opens another',
    ['B-PER', 'I-PER', 'I-LOC', 'I-LOC'],
    [
      ['PER', 0, 1],
      ['LOC', 2, 3],
    ],
  ],
  [
    'I- of another type right after B-',
    ['B-PER', 'I-LOC'],
    [
      ['PER', 0, 0],
      ['LOC', 1, 1],
    ],
  ],
  [
    'B- after B- of the same type: two chunks',
    ['B-PER', 'B-PER', 'I-PER'],
    [
      ['PER', 0, 0],
      ['PER', 1, 2],
    ],
  ],
  [
    'B- after I- of the same type: two chunks',
    ['I-PER', 'B-PER'],
    [
      ['PER', 0, 0],
      ['PER', 1, 1],
    ],
  ],
  ['entity running to the end of the sequence', ['O', 'B-ORG', 'I-ORG'], [['ORG', 1, 2]]],
  [
    'IOBES: S- singletons and B-I-E',
    ['S-PER', 'B-LOC', 'I-LOC', 'E-LOC', 'S-PER', 'O'],
    [
      ['PER', 0, 0],
      ['LOC', 1, 3],
      ['PER', 4, 4],
    ],
  ],
  ['E- after O is a one-token chunk', ['O', 'E-PER', 'O'], [['PER', 1, 1]]],
  [
    'E- after E- starts a new chunk',
    ['B-X', 'E-X', 'E-X'],
    [
      ['X', 0, 1],
      ['X', 2, 2],
    ],
  ],
  [
    'I- after E- starts a new chunk',
    ['B-X', 'E-X', 'I-X'],
    [
      ['X', 0, 1],
      ['X', 2, 2],
    ],
  ],
  [
    'I- after S- starts a new chunk',
    ['S-X', 'I-X', 'I-X'],
    [
      ['X', 0, 0],
      ['X', 1, 2],
    ],
  ],
  [
    'E- of another type after B-',
    ['B-PER', 'E-LOC'],
    [
      ['PER', 0, 0],
      ['LOC', 1, 1],
    ],
  ],
  [
    'I- after E- of the same chunk',
    ['B-PER', 'I-PER', 'E-PER', 'I-PER'],
    [
      ['PER', 0, 2],
      ['PER', 3, 3],
    ],
  ],
  ['typeless tags have type _', ['B', 'I', 'O'], [['_', 0, 1]]],
  ['only O', ['O', 'O'], []],
];

for (const [name, tags, want] of CASES) {
  test(`get_entities: ${name}`, () => {
    assert.deepEqual(getEntities(tags), want);
  });
}

test('get_entities on sentences: an entity never continues into the next sentence', () => {
  // Chained as B-PER I-PER O | I-PER O O: the second I-PER follows the separator 'O', so it
  // starts a chunk at position 3 instead of extending PER 0..1.
  assert.deepEqual(
    getEntities([
      ['B-PER', 'I-PER'],
      ['I-PER', 'O'],
    ]),
    [
      ['PER', 0, 1],
      ['PER', 3, 3],
    ],
  );
  assert.throws(() => getEntities(['B-PER', '']), /empty tag/);
});

test("seqeval's documented example: one of two entities right", () => {
  const yTrue = [
    ['O', 'O', 'O', 'B-MISC', 'I-MISC', 'I-MISC', 'O'],
    ['B-PER', 'I-PER', 'O'],
  ];
  const yPred = [
    ['O', 'O', 'B-MISC', 'I-MISC', 'I-MISC', 'I-MISC', 'O'],
    ['B-PER', 'I-PER', 'O'],
  ];
  const r = seqevalScores(yTrue, yPred);
  nearAll(r.micro, { precision: 1 / 2, recall: 1 / 2, f1: 1 / 2 }, 'micro');
  nearAll({ ...r.perType.MISC }, { precision: 0, recall: 0, f1: 0, number: 1 }, 'MISC');
  nearAll({ ...r.perType.PER }, { precision: 1, recall: 1, f1: 1, number: 1 }, 'PER');
  // Tokens 2 (O vs B-MISC) and 3 (B-MISC vs I-MISC) are wrong: 8 of 10 right.
  near(r.accuracy, 8 / 10, 'accuracy');
});

// True entities (positions in the chained sequence, sentence 2 starting at 6):
//   PER 0..1, LOC 3..3, ORG 6..6, LOC 8..9
// Predicted: PER 0..1, LOC 3..3 (I-LOC after O), MISC 6..6, LOC 8..8 and PER 9..9 (the type
//   switch I-PER closes LOC after one token).
// Per type (sorted, union of true and predicted):
//   LOC  tp 1, predicted 2, true 2: P 1/2, R 1/2, F1 1/2
//   MISC tp 0, predicted 1, true 0: P 0, R 0/0 -> 0, F1 0
//   ORG  tp 0, predicted 0, true 1: P 0/0 -> 0, R 0, F1 0
//   PER  tp 1, predicted 2, true 1: P 1/2, R 1, F1 2*(1/2)*1/(1/2+1) = 2/3
const TRUE_TAGS = [
  ['B-PER', 'I-PER', 'O', 'B-LOC', 'O'],
  ['B-ORG', 'O', 'B-LOC', 'I-LOC'],
];
const PRED_TAGS = [
  ['B-PER', 'I-PER', 'O', 'I-LOC', 'O'],
  ['B-MISC', 'O', 'B-LOC', 'I-PER'],
];

test('per-type scores cover the union of true and predicted types, with zero division as 0', () => {
  const r = seqevalScores(TRUE_TAGS, PRED_TAGS);
  assert.deepEqual(Object.keys(r.perType), ['LOC', 'MISC', 'ORG', 'PER']);
  nearAll({ ...r.perType.LOC }, { precision: 1 / 2, recall: 1 / 2, f1: 1 / 2, number: 2 }, 'LOC');
  nearAll({ ...r.perType.MISC }, { precision: 0, recall: 0, f1: 0, number: 0 }, 'MISC');
  nearAll({ ...r.perType.ORG }, { precision: 0, recall: 0, f1: 0, number: 1 }, 'ORG');
  nearAll({ ...r.perType.PER }, { precision: 1 / 2, recall: 1, f1: 2 / 3, number: 1 }, 'PER');
});

test('micro, macro and weighted entity scores and token accuracy', () => {
  const r = seqevalScores(TRUE_TAGS, PRED_TAGS);
  // Micro: tp 2 of 5 predicted and 4 true; F1 = 2 * (2/5) * (1/2) / (2/5 + 1/2) = 4/9.
  nearAll(r.micro, { precision: 2 / 5, recall: 2 / 4, f1: 4 / 9 }, 'micro');
  // Macro over LOC, MISC, ORG, PER.
  nearAll(
    r.macro,
    { precision: (1 / 2 + 0 + 0 + 1 / 2) / 4, recall: (1 / 2 + 0 + 0 + 1) / 4, f1: (1 / 2 + 0 + 0 + 2 / 3) / 4 },
    'macro',
  );
  // Weighted by true entities 2, 0, 1, 1.
  nearAll(
    r.weighted,
    {
      precision: (2 * (1 / 2) + 0 + 1 * 0 + 1 * (1 / 2)) / 4,
      recall: (2 * (1 / 2) + 0 + 1 * 0 + 1 * 1) / 4,
      f1: (2 * (1 / 2) + 0 + 1 * 0 + 1 * (2 / 3)) / 4,
    },
    'weighted',
  );
  // Sentence 1: 4 of 5 tags right (B-LOC vs I-LOC); sentence 2: 2 of 4 (B-ORG, I-LOC wrong).
  near(r.accuracy, (4 + 2) / (5 + 4), 'accuracy');
  near(tokenAccuracy(TRUE_TAGS, PRED_TAGS), 6 / 9, 'tokenAccuracy');
});

test('no entity anywhere: every entity score is 0, accuracy still counts tokens', () => {
  const r = seqevalScores([['O', 'O']], [['O', 'O']]);
  assert.deepEqual(r.perType, {});
  for (const avg of [r.micro, r.macro, r.weighted]) nearAll(avg, { precision: 0, recall: 0, f1: 0 }, 'average');
  near(r.accuracy, 1, 'accuracy');
});

test('a perfect prediction scores 1 everywhere', () => {
  const r = seqevalScores(TRUE_TAGS, TRUE_TAGS);
  for (const avg of [r.micro, r.macro, r.weighted]) nearAll(avg, { precision: 1, recall: 1, f1: 1 }, 'average');
});

test('sentence counts and lengths must match; no tokens is an error', () => {
  assert.throws(() => seqevalScores([['O']], []), /1 true sentences but 0 predicted/);
  assert.throws(() => seqevalScores([['O', 'O']], [['O']]), /sentence 0 has 2 true tags but 1 predicted/);
  assert.throws(() => tokenAccuracy([[]], [[]]), /no tokens/);
});
