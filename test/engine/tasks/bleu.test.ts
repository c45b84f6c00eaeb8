import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closestRefLength, computeBleu, corpusBleu } from '../../../src/engine/tasks/metrics/bleu.js';
import { TextMetricError } from '../../../src/engine/tasks/metrics/text-metric-input.js';
import { near } from './near.js';

// Corpus BLEU against sacreBLEU 2.x. Numbers marked "sacreBLEU test/..." are the expected values of
// mjpost/sacrebleu's own test suite (read at commit f615c72, version 2.6.0), with its tolerance;
// the others are worked out by hand in the comments.

const rel = (got: number, want: number, what: string) => near(got, want, what, 1e-12 * Math.max(1, Math.abs(want)));

test('hand-worked: counts, totals, exp smoothing of the empty 4-gram order, brevity penalty', () => {
  // hyp  "am I am a character sequence"       (6 tokens)
  // ref  "I am a symbol string sequence a a"   (8 tokens)
  // 1-grams: am x2 (ref has 1) -> 1, I 1, a 1, character 0, sequence 1        -> 4 of 6
  // 2-grams: am I, I am*, am a*, a character, character sequence             -> 2 of 5
  // 3-grams: am I am, I am a*, am a character, a character sequence          -> 1 of 4
  // 4-grams: none of the 3 is in the reference                                -> 0 of 3
  // exp smoothing: the first order without a match gets 100 / (2 * 3)
  // BP = exp(1 - 8/6) = exp(-1/3); BLEU = BP * (4/6 * 2/5 * 1/4 * 1/6)^(1/4) = BP * (1/90)^(1/4)
  const s = corpusBleu(['am I am a character sequence'], [['I am a symbol string sequence a a']]);
  assert.deepEqual(s.counts, [4, 2, 1, 0]);
  assert.deepEqual(s.totals, [6, 5, 4, 3]);
  assert.deepEqual([s.sysLen, s.refLen], [6, 8]);
  rel(s.precisions[3] as number, 100 / 6, 'smoothed 4-gram precision');
  rel(s.bp, Math.exp(-1 / 3), 'bp');
  rel(s.score, 100 * Math.exp(-1 / 3) * (1 / 90) ** 0.25, 'BLEU');
  assert.equal(s.signature, 'nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0');
});

test('hand-worked: the second empty order halves the smoothed precision again', () => {
  // hyp "a b c d" vs ref "a c b d": 1-grams 4/4, 2-grams 0/3 -> 100/(2*3), 3-grams 0/2 -> 100/(4*2),
  // 4-grams 0/1 -> 100/(8*1); equal lengths, BP = 1.
  const s = corpusBleu(['a b c d'], [['a c b d']]);
  const p = [1, 1 / 6, 1 / 8, 1 / 8];
  p.forEach((v, i) => {
    rel(s.precisions[i] as number, 100 * v, `precision ${i + 1}`);
  });
  rel(s.score, 100 * (1 * (1 / 6) * (1 / 8) * (1 / 8)) ** 0.25, 'BLEU');
});

test('corpus BLEU without the effective order: no 3-grams at all gives 0, even for a perfect match', () => {
  // "a b" vs "a b": 1-grams 2/2, 2-grams 1/1, no 3- or 4-grams: their precisions stay 0 and
  // sacreBLEU's floored log (-9999999999) sends the score to 0; the effective order averages over
  // the two orders present instead.
  assert.equal(corpusBleu(['a b'], [['a b']]).score, 0);
  near(corpusBleu(['a b'], [['a b']], { effectiveOrder: true }).score, 100, 'effective order 2', 1e-9);
});

test('statistics are summed over the corpus before the score (not averaged per sentence)', () => {
  // Segment 1 "a b c d" vs "a b c d": 4/4, 3/3, 2/2, 1/1. Segment 2 "x y" vs "x z": 1/2, 0/1, 0/0, 0/0.
  // Sums: 5/6, 3/4, 2/2, 1/1; sys 6 = ref 6, BP 1. BLEU = (5/6 * 3/4 * 1 * 1)^(1/4).
  const s = corpusBleu(['a b c d', 'x y'], [['a b c d', 'x z']], { tokenize: 'none' });
  assert.deepEqual(s.counts, [5, 3, 2, 1]);
  assert.deepEqual(s.totals, [6, 4, 2, 1]);
  rel(s.score, 100 * ((5 / 6) * (3 / 4)) ** 0.25, 'BLEU');
});

test('multiple references: clip by the largest count in any one reference, closest length', () => {
  // hyp "the the the cat" (4); refs "the cat" (2) and "the the mat ok ok" (5).
  // "the": hyp 3, max over refs 2 -> 2; "cat" 1 -> 3 of 4. 2-grams: "the the" (ref 2: 1) x2 -> 1,
  // "the cat" (ref 1) -> 1: 2 of 3. 3-grams: "the the the" 0, "the the cat" 0: 0 of 2 -> 100/(2*2).
  // 4-grams: 0 of 1 -> 100/(4*1). Reference lengths 2 and 5 are 2 and 1 away from 4: 5 is the
  // closest, so BP = exp(1 - 5/4).
  const s = corpusBleu(['the the the cat'], [['the cat'], ['the the mat ok ok']]);
  assert.deepEqual(s.counts, [3, 2, 0, 0]);
  assert.equal(s.refLen, 5);
  rel(s.score, 100 * Math.exp(1 - 5 / 4) * ((3 / 4) * (2 / 3) * (1 / 4) * (1 / 4)) ** 0.25, 'BLEU');
  assert.match(s.signature, /^nrefs:2\|/);
});

test('the closest reference length breaks ties toward the shorter reference', () => {
  assert.equal(closestRefLength(5, [6, 4]), 4);
  assert.equal(closestRefLength(5, [4, 6]), 4);
  assert.equal(closestRefLength(5, [9, 5, 1]), 5);
  assert.equal(closestRefLength(0, [3, 2]), 2);
});

// sacreBLEU test/test_bleu.py: the README example, three segments with two references each.
const HYPS = ['The dog bit the man.', "It wasn't surprising.", 'The man had just bitten him.'];
const REFS = [
  ['The dog bit the man.', 'It was not unexpected.', 'The man bit him first.'],
  ['The dog had bit the man.', 'No one was surprised.', 'The man had bitten the dog.'],
];

test('sacreBLEU test/test_bleu.py: corpus BLEU with default, none, 13a and intl tokenizers', () => {
  const cases: [Parameters<typeof corpusBleu>[2], number][] = [
    [{}, 48.530827],
    [{ tokenize: 'none' }, 49.1919566],
    [{ tokenize: '13a' }, 48.530827],
    [{ tokenize: 'intl' }, 43.91623493],
    [{ smoothMethod: 'none' }, 48.530827],
  ];
  for (const [options, want] of cases) near(corpusBleu(HYPS, REFS, options).score, want, JSON.stringify(options), 1e-6);
  // Empty hypotheses are scored, not removed.
  assert.equal(corpusBleu(['', '', ''], REFS).score, 0);
});

test('sacreBLEU test/test_bleu.py: max n-gram orders 1..6, to two decimals', () => {
  const want = ['77.65', '60.50', '53.93', '48.53', '46.14', '43.28'];
  want.forEach((w, i) => {
    assert.equal(corpusBleu(HYPS, REFS, { maxNgramOrder: i + 1 }).score.toFixed(2), w, `order ${i + 1}`);
  });
});

// sacreBLEU's raw_corpus_bleu: no tokenization, floor smoothing (0.1 by default), effective order.
const raw = (hyps: string[], refs: string[][], smoothValue?: number) =>
  corpusBleu(hyps, refs, { tokenize: 'none', smoothMethod: 'floor', smoothValue, effectiveOrder: true }).score / 100;

test('sacreBLEU test/test_bleu.py: raw corpus BLEU and the effective order', () => {
  near(raw(['this is a test', 'another test'], [['ref1', 'ref2']], 0.01), 0, 'no match at all', 1e-8);
  near(raw(['this is a test'], [['this is a test']], 0.01), 1, 'identical', 1e-8);
  near(raw(['this is a fest'], [['this is a test']], 0.01), 0.223606797749979, 'one word off', 1e-8);
  near(raw(['test'], [['a test']], 0.01), 0.3678794411714425, 'one word, effective order 1', 1e-8);
  near(raw(['a test'], [['a test']], 0.01), 1, 'two words', 1e-8);
  near(raw(['a little test'], [['a test']], 0.01), 0.03218297948685433, 'three words', 1e-8);
  // test_offset: floor 0 leaves the empty 4-gram order at precision 0; the default floor is 0.1.
  const hyp = ['am I am a character sequence'];
  const ref = [['I am a symbol string sequence a a']];
  near(raw(hyp, ref, 0), 0, 'floor 0', 1e-8);
  near(raw(hyp, ref), 0.1555722182, 'floor default', 1e-8);
});

test('sacreBLEU test/test_bleu.py: scores from statistics, degenerate statistics', () => {
  near(computeBleu([9, 7, 5, 3], [10, 8, 6, 4], 11, 11).score / 100, 0.8375922397, 'test_scoring', 1e-8);
  const degenerate: [number[], number[], number, number, number][] = [
    [[0, 0, 0, 0], [4, 4, 2, 1], 0, 1, 0],
    [[0, 0, 0, 0], [10, 11, 12, 0], 14, 10, 0],
    [[0, 0, 0, 0], [0, 0, 0, 0], 0, 0, 0],
    [[6, 5, 4, 0], [6, 5, 4, 3], 6, 6, 0],
    [[0, 0, 0, 0], [0, 0, 0, 0], 0, 0, 0.1],
    [[0, 0, 0, 0], [0, 0, 0, 0], 1, 5, 0.01],
  ];
  for (const [c, t, sys, ref, value] of degenerate) {
    assert.equal(computeBleu(c, t, sys, ref, { smoothMethod: 'floor', smoothValue: value }).score, 0);
  }
});

// sacreBLEU test/test_sentence_bleu.py (example of sacreBLEU issue #98): sentence BLEU is corpus BLEU
// of one segment with the effective order on; tolerance 1e-3 as there.
test('sacreBLEU test/test_sentence_bleu.py: smoothing methods and tokenizers', () => {
  const REF = 'producţia de zahăr brut se exprimă în zahăr alb;';
  const SYS = 'Producția de zahăr primă va fi exprimată în ceea ce privește zahărul alb;';
  const cases: [Parameters<typeof corpusBleu>[2], number][] = [
    [{ smoothMethod: 'exp' }, 8.493],
    [{ smoothMethod: 'none' }, 0],
    [{ smoothMethod: 'floor' }, 4.51688],
    [{ smoothMethod: 'floor', smoothValue: 0.1 }, 4.51688],
    [{ smoothMethod: 'floor', smoothValue: 0.5 }, 10.1],
    [{ smoothMethod: 'add-k' }, 14.882],
    [{ smoothMethod: 'add-k', smoothValue: 1 }, 14.882],
    [{ smoothMethod: 'add-k', smoothValue: 2 }, 21.389],
    [{ tokenize: 'none' }, 7.347],
    [{ tokenize: 'intl' }, 8.493],
  ];
  for (const [options, want] of cases) {
    near(corpusBleu([SYS], [[REF]], { ...options, effectiveOrder: true }).score, want, JSON.stringify(options), 1e-3);
  }
  // Issue #141: no match at any order is 0 whatever the smoothing.
  for (const smoothMethod of ['exp', 'none', 'floor', 'add-k'] as const) {
    assert.equal(corpusBleu(['this is a cat'], [['okay thanks']], { smoothMethod, effectiveOrder: true }).score, 0);
  }
});

test('lowercase and the signature record the settings', () => {
  assert.equal(corpusBleu(['The Cat'], [['the cat']]).counts[0], 0);
  const lc = corpusBleu(['The Cat'], [['the cat']], { lowercase: true, tokenize: 'intl' });
  assert.equal(lc.counts[0], 2);
  assert.equal(lc.signature, 'nrefs:1|case:lc|eff:no|tok:intl|smooth:exp|version:2.6.0');
  const floor = corpusBleu(['a'], [['a']], { smoothMethod: 'floor', effectiveOrder: true });
  assert.equal(floor.signature, 'nrefs:1|case:mixed|eff:yes|tok:13a|smooth:floor[0.10]|version:2.6.0');
  const addK = corpusBleu(['a'], [['a']], { smoothMethod: 'add-k', smoothValue: 2 });
  assert.match(addK.signature, /\|smooth:add-k\[2\.00\]\|/);
});

test('trailing whitespace is stripped before tokenizing (Python str.rstrip, U+0085 included)', () => {
  // JS's trimEnd would keep U+0085 and make the last token 'd\u0085'.
  const s = corpusBleu(['a b c d\u0085 \t'], [['a b c d']], { tokenize: 'none' });
  near(s.score, 100, 'BLEU', 1e-9);
});

test('bad input is refused with what is wrong', () => {
  assert.throws(() => corpusBleu(['a', 'b'], [['a']]), TextMetricError);
  assert.throws(() => corpusBleu(['a', 'b'], [['a']]), /reference stream 1 has 1 segments but there are 2 hypotheses/);
  assert.throws(() => corpusBleu([], [[]]), /no hypotheses/);
  assert.throws(() => corpusBleu(['a'], []), /no references/);
  assert.throws(() => corpusBleu(['a'], [['a']], { maxNgramOrder: 0 }), /maximum n-gram order/);
});

test('sacreBLEU 2.6.0 (the Python package) on Chinese with --tokenize zh', () => {
  // Printed by sacrebleu 2.6.0's BLEU(tokenize='zh').corpus_score for these lines. By hand: every
  // character is a token (the curly quotes too, through the range quirk of tokenizer_zh.py), so
  // the hypotheses have 8 + 10 = 18 tokens; the references 5 and 11 are each the closest: 16.
  const hyps = ['我爱北京天安门。', '今天天气很好“真的”'];
  const refs = [['我爱北京。', '今天的天气很好“真的”']];
  const s = corpusBleu(hyps, refs, { tokenize: 'zh' });
  near(s.score, 63.60713771711029, 'BLEU zh', 1e-9);
  assert.deepEqual([s.counts, s.totals, s.sysLen, s.refLen], [[15, 11, 8, 6], [18, 16, 14, 12], 18, 16]);
  assert.equal(s.signature, 'nrefs:1|case:mixed|eff:no|tok:zh|smooth:exp|version:2.6.0');
  // With 13a each sentence is one token and nothing matches.
  assert.equal(corpusBleu(hyps, refs).score, 0);
});
