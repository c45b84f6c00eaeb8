import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chrfFromStatistics, chrfWords, corpusChrf } from '../../../src/engine/tasks/metrics/chrf.js';
import { near } from './near.js';

// chrF against sacreBLEU 2.x (sacrebleu/metrics/chrf.py). Numbers marked "sacreBLEU test/..." are
// the expected values of mjpost/sacrebleu's test/test_chrf.py (commit f615c72, version 2.6.0), with
// its tolerance 1e-4; the others are worked out in the comments.

test('hand-worked: default chrF averages precision and recall over the effective orders', () => {
  // hyp "ab", ref "abc" (whitespace removed, nothing to remove).
  // order 1: hyp a b (2), ref a b c (3), matches 2 -> P 1, R 2/3
  // order 2: hyp ab (1), ref ab bc (2), matches 1  -> P 1, R 1/2
  // order 3: hyp none, ref abc: not effective (no hypothesis 3-gram); orders 4..6: no reference n-gram
  // avg P = 1, avg R = (2/3 + 1/2) / 2 = 7/12; chrF2 = 5 * P * R / (4 * P + R) = (35/12) / (55/12) = 7/11
  const s = corpusChrf(['ab'], [['abc']]);
  near(s.score, (100 * 7) / 11, 'chrF2', 1e-12);
  assert.equal(s.name, 'chrF2');
  assert.equal(s.signature, 'nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.6.0');
});

test('hand-worked: epsilon smoothing takes F per order, 1e-16 for the undefined ones, over all 6', () => {
  // Same pair. order 1: F = 5 * 1 * 2/3 / (4 + 2/3) = 5/7; order 2: 5 * 1 * 1/2 / (4 + 1/2) = 5/9;
  // order 3: no hyp 3-gram: P = eps, R = 0/1 = 0, F = 0; orders 4..6: P = R = eps, F = 5 eps^2 / 5 eps = eps.
  const s = corpusChrf(['ab'], [['abc']], { epsSmoothing: true });
  near(s.score, (100 * (5 / 7 + 5 / 9 + 3e-16)) / 6, 'chrF2 eps', 1e-12);
  assert.match(s.signature, /\|eff:no\|/);
});

test('hand-worked: whitespace is removed before character n-grams, statistics summed over segments', () => {
  // "a b" -> "ab" matches "ab" exactly: every order with n-grams has P = R = 1 -> 100.
  near(corpusChrf(['a  b'], [['ab']]).score, 100, 'whitespace removed', 1e-12);
  // Two segments: "ab" vs "ab" (order 1: 2/2, 2/2, 2; order 2: 1, 1, 1) and "x" vs "y" (order 1: 1, 1, 0).
  // Sums: order 1 hyp 3, ref 3, match 2 -> P = R = 2/3; order 2: 1, 1, 1 -> P = R = 1.
  // avg P = avg R = 5/6 -> F = 5/6 (F of equal P and R is that value).
  near(corpusChrf(['ab', 'x'], [['ab', 'y']]).score, (100 * 5) / 6, 'summed', 1e-12);
});

test('hand-worked: of several references each segment takes the one with the best F', () => {
  // "ab" vs "xy" scores 0; vs "ab" 100: the second reference is used.
  near(corpusChrf(['ab'], [['xy'], ['ab']]).score, 100, 'best reference', 1e-12);
  assert.match(corpusChrf(['ab'], [['xy'], ['ab']]).signature, /^nrefs:2\|/);
});

test('characters are code points: an astral character is one character', () => {
  // "😀a" vs "😀b": order 1 hyp 2, ref 2, match 1 -> P = R = 1/2; order 2: "😀a" vs "😀b": 0 of 1.
  // avg P = avg R = 1/4 -> 25. Counting UTF-16 halves would give more matches.
  near(corpusChrf(['😀a'], [['😀b']]).score, 25, 'astral', 1e-12);
});

test('lowercase', () => {
  near(corpusChrf(['AB'], [['ab']], { lowercase: true }).score, 100, 'lc', 1e-12);
  assert.equal(corpusChrf(['AB'], [['ab']]).score, 0);
  assert.match(corpusChrf(['AB'], [['ab']], { lowercase: true }).signature, /\|case:lc\|/);
});

test("chrF++ words: one punctuation mark peeled off a word's end, else its start (sacreBLEU #124)", () => {
  assert.deepEqual(chrfWords('(hi) there, x "y'), ['(hi', ')', 'there', ',', 'x', '"', 'y']);
  assert.deepEqual(chrfWords('. ok?! —'), ['.', 'ok?', '!', '—']);
});

test('hand-worked: chrF++ adds word unigrams and bigrams to the orders', () => {
  // hyp "a b", ref "a c", char order 1, word order 2, beta 1 (F1) to keep the numbers small.
  // chars: hyp a b, ref a c -> P = R = 1/2. word 1-grams: a b vs a c -> P = R = 1/2.
  // word 2-grams: "a b" vs "a c" -> 0. avg P = avg R = 1/3 -> F1 = 1/3.
  const s = corpusChrf(['a b'], [['a c']], { charOrder: 1, wordOrder: 2, beta: 1 });
  near(s.score, 100 / 3, 'chrF1++', 1e-12);
  assert.equal(s.name, 'chrF1++');
  assert.equal(s.signature, 'nrefs:1|case:mixed|eff:yes|nc:1|nw:2|space:no|version:2.6.0');
});

test('F from statistics: [hyp, ref, match] per order', () => {
  // One order, P = 1/2, R = 1/4, beta 2: 5 * (1/8) / (2 + 1/4) = (5/8) / (9/4) = 5/18.
  near(chrfFromStatistics([4, 8, 2], { charOrder: 1 }), (100 * 5) / 18, 'one order', 1e-12);
  assert.equal(chrfFromStatistics([0, 0, 0], { charOrder: 1 }), 0);
});

// sacreBLEU test/test_chrf.py: corpus_chrf(hyps, [refs], char_order=6, word_order=0, beta=3, ...).
const EPS_CASES: [string[], string[], number][] = [
  [['abcdefg'], ['hijklmnop'], 0.0],
  [['a'], ['b'], 0.0],
  [[''], ['b'], 0.0],
  [[''], ['ref'], 0.0],
  [[''], ['reference'], 0.0],
  [['aa'], ['ab'], 8.3333],
  [['a', 'b'], ['a', 'c'], 8.3333],
  [['a'], ['a'], 16.6667],
  [['a b c'], ['a b c'], 50.0],
  [['a b c'], ['abc'], 50.0],
  [
    [
      ' risk assessment must be made of those who are qualified and expertise in the sector - these are the scientists .',
    ],
    [
      'risk assessment has to be undertaken by those who are qualified and expert in that area - that is the scientists .',
    ],
    63.36173,
  ],
  [
    [' Die    Beziehung zwischen  Obama und Netanjahu ist nicht gerade  freundlich. '],
    ['Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich.'],
    64.1302698,
  ],
  [['Niemand hat die Absicht, eine Mauer zu errichten'], ['Niemand hat die Absicht, eine Mauer zu errichten'], 100.0],
];

test('sacreBLEU test/test_chrf.py: epsilon smoothing, beta 3', () => {
  for (const [hyps, refs, want] of EPS_CASES) {
    near(corpusChrf(hyps, [refs], { beta: 3, epsSmoothing: true }).score, want, JSON.stringify(hyps), 1e-4);
  }
});

test('sacreBLEU test/test_chrf.py: effective order (the default), beta 3', () => {
  const cases: [string[], string[], number][] = [
    [['a'], ['a'], 100.0],
    [[''], ['reference'], 0.0],
    [['a b c'], ['a b c'], 100.0],
    [['a b c'], ['abc'], 100.0],
    [[''], ['c'], 0.0],
    [['a', 'b'], ['a', 'c'], 50.0],
    [['aa'], ['ab'], 25.0],
  ];
  for (const [hyps, refs, want] of cases) {
    near(corpusChrf(hyps, [refs], { beta: 3 }).score, want, JSON.stringify(hyps), 1e-4);
  }
});

test('sacreBLEU test/test_chrf.py: whitespace kept, beta 3', () => {
  const cases: [string, string, number][] = [
    [
      'Die Beziehung zwischen Obama und Netanjahu ist nicht gerade freundlich.',
      'Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich.',
      67.3481606,
    ],
    [
      'risk assessment must be made of those who are qualified and expertise in the sector - these are the scientists .',
      'risk assessment has to be undertaken by those who are qualified and expert in that area - that is the scientists .',
      65.2414427,
    ],
  ];
  for (const [hyp, ref, want] of cases) {
    near(corpusChrf([hyp], [[ref]], { beta: 3, whitespace: true }).score, want, hyp, 1e-4);
  }
});

test('sacreBLEU test/test_chrf.py: sentence-level chrF2 with epsilon smoothing (Czech)', () => {
  const cases: [string, string, number][] = [
    [
      'Co nás nejvíc trápí, protože lékaři si vybírají, kdo bude žít a kdo zemře.',
      'Nejvíce smutní jsme z toho, že musíme rozhodovat o tom, kdo bude žít a kdo zemře.',
      39.14078509,
    ],
    [
      'Nebo prostě nemají vybavení, které by jim pomohlo, uvedli lékaři.',
      'A někdy nemáme ani potřebný materiál, abychom jim pomohli, popsali lékaři.',
      31.22557079,
    ],
    [
      'Lapali po dechu, jejich životy skončily dřív, než skutečně začaly.',
      'Lapali po dechu a pak jejich život skončil - dřív, než skutečně mohl začít, připomněli.',
      57.15704367,
    ],
  ];
  for (const [hyp, ref, want] of cases) {
    near(corpusChrf([hyp], [[ref]], { epsSmoothing: true }).score, want, hyp, 1e-4);
  }
});

test('sacreBLEU 2.6.0 (the Python package): chrF, chrF++ and epsilon smoothing with two references', () => {
  // sacreBLEU's README example (test/test_bleu.py's corpus), scored by sacrebleu 2.6.0's CHRF.
  const hyps = ['The dog bit the man.', "It wasn't surprising.", 'The man had just bitten him.'];
  const refs = [
    ['The dog bit the man.', 'It was not unexpected.', 'The man bit him first.'],
    ['The dog had bit the man.', 'No one was surprised.', 'The man had bitten the dog.'],
  ];
  near(corpusChrf(hyps, refs).score, 59.72751782684763, 'chrF2', 1e-9);
  const pp = corpusChrf(hyps, refs, { wordOrder: 2 });
  near(pp.score, 59.15310444399262, 'chrF2++', 1e-9);
  assert.equal(pp.signature, 'nrefs:2|case:mixed|eff:yes|nc:6|nw:2|space:no|version:2.6.0');
  near(corpusChrf(hyps, refs, { epsSmoothing: true }).score, 59.72734693786311, 'chrF2 eps', 1e-9);
});

test('bad options are refused', () => {
  assert.throws(() => corpusChrf(['a'], [['a']], { charOrder: 0, wordOrder: 0 }), /character or a word order/);
  assert.throws(() => corpusChrf(['a'], [['a']], { wordOrder: 1.5 }), /wordOrder must be a non-negative integer/);
  assert.throws(() => corpusChrf(['a'], [['a']], { beta: 0 }), /beta must be positive/);
  assert.throws(() => corpusChrf(['a'], [['a'], ['b', 'c']]), /reference stream 2 has 2 segments/);
});
