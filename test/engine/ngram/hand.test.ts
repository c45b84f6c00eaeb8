import assert from 'node:assert/strict';
import { test } from 'node:test';
import { trainNgram } from '../../../src/engine/ngram/model.js';
import { evaluatePerplexity } from '../../../src/engine/ngram/perplexity.js';
import { NgramError } from '../../../src/engine/ngram/tokens.js';

// Probabilities worked out by hand on tiny corpora, written as the arithmetic that gives them.
//
// Corpus A: "a b a" / "b a c". V = {a, b, c, </s>, <unk>}, |V| = 5.
const A = ['a b a', 'B  a c', '   '];

const near = (got: number, want: number, what: string) =>
  assert.ok(Math.abs(got - want) <= 1e-12 * Math.max(1, Math.abs(want)), `${what}: got ${got}, expected ${want}`);

test('order 1 on corpus A: counts a 3, b 2, c 1, </s> 2 of 8 tokens', () => {
  const mle = trainNgram(A, { order: 1, smoothing: 'mle' });
  assert.equal(mle.vocabSize, 5);
  assert.equal(mle.trainTokens, 8);
  near(mle.prob('a', []), 3 / 8, 'mle p(a)');
  near(mle.prob('</s>', []), 2 / 8, 'mle p(</s>)');
  near(mle.prob('zebra', []), 0, 'mle p(<unk>)');

  const add1 = trainNgram(A, { order: 1, smoothing: 'laplace' });
  near(add1.prob('a', []), (3 + 1) / (8 + 5), 'add-one p(a)');
  near(add1.prob('zebra', []), (0 + 1) / (8 + 5), 'add-one p(<unk>)');
  const addHalf = trainNgram(A, { order: 1, smoothing: 'laplace', k: 0.5 });
  near(addHalf.prob('c', []), (1 + 0.5) / (8 + 0.5 * 5), 'add-0.5 p(c)');

  // The only order is the highest: raw counts, 4 distinct words seen, then the uniform 1/|V|.
  const kn = trainNgram(A, { order: 1, smoothing: 'kneser-ney' });
  near(kn.prob('a', []), (3 - 0.75) / 8 + ((0.75 * 4) / 8) * (1 / 5), 'kn p(a)');
  near(kn.prob('<unk>', []), ((0.75 * 4) / 8) * (1 / 5), 'kn p(<unk>)');
  const kn5 = trainNgram(A, { order: 1, smoothing: 'kneser-ney', discount: 0.5 });
  near(kn5.prob('c', []), (1 - 0.5) / 8 + ((0.5 * 4) / 8) * (1 / 5), 'kn D=0.5 p(c)');
});

// Order 2: <s> a b a </s> / <s> b a c </s>. Bigram counts <s>a 1, ab 1, ba 2, a</s> 1, <s>b 1,
// ac 1, c</s> 1; histories c(<s>) = 2, c(a) = 3, c(b) = 2, c(c) = 1.
// Continuation counts of the unigram level, from the 7 distinct bigrams: N1+(•a) = 2 {<s>, b},
// N1+(•b) = 2 {a, <s>}, N1+(•c) = 1 {a}, N1+(•</s>) = 2 {a, c}; N1+(••) = 7, 4 words with N1+ > 0.
const p1 = {
  a: (2 - 0.75) / 7 + ((0.75 * 4) / 7) * (1 / 5),
  b: (2 - 0.75) / 7 + ((0.75 * 4) / 7) * (1 / 5),
  c: (1 - 0.75) / 7 + ((0.75 * 4) / 7) * (1 / 5),
  eos: (2 - 0.75) / 7 + ((0.75 * 4) / 7) * (1 / 5),
  unk: ((0.75 * 4) / 7) * (1 / 5),
};

test('order 2 on corpus A: mle, add-one and kneser-ney, with an unseen history and an OOV word', () => {
  const mle = trainNgram(A, { order: 2, smoothing: 'mle' });
  near(mle.prob('a', ['b']), 2 / 2, 'mle p(a|b)');
  near(mle.prob('b', ['a']), 1 / 3, 'mle p(b|a)');
  near(mle.prob('</s>', ['c']), 1 / 1, 'mle p(</s>|c)');
  near(mle.prob('a', ['<s>']), 1 / 2, 'mle p(a|<s>)');
  near(mle.prob('a', ['c']), 0, 'mle p(a|c), unseen bigram');
  near(mle.prob('a', ['zebra']), 0, 'mle p(a|<unk>), unseen history');

  const add1 = trainNgram(A, { order: 2, smoothing: 'laplace' });
  near(add1.prob('a', ['b']), (2 + 1) / (2 + 5), 'add-one p(a|b)');
  near(add1.prob('</s>', ['a']), (1 + 1) / (3 + 5), 'add-one p(</s>|a)');
  near(add1.prob('zebra', ['a']), (0 + 1) / (3 + 5), 'add-one p(<unk>|a)');
  near(add1.prob('a', ['zebra']), (0 + 1) / (0 + 5), 'add-one p(a|<unk>)');

  const kn = trainNgram(A, { order: 2, smoothing: 'kneser-ney' });
  // History a: followers b, </s>, c once each (N1+(a•) = 3, c(a) = 3).
  near(kn.prob('b', ['a']), (1 - 0.75) / 3 + ((0.75 * 3) / 3) * p1.b, 'kn p(b|a)');
  // History b: follower a twice (N1+(b•) = 1, c(b) = 2).
  near(kn.prob('a', ['b']), (2 - 0.75) / 2 + ((0.75 * 1) / 2) * p1.a, 'kn p(a|b)');
  near(kn.prob('c', ['b']), 0 + ((0.75 * 1) / 2) * p1.c, 'kn p(c|b), unseen bigram');
  near(kn.prob('</s>', ['c']), (1 - 0.75) / 1 + ((0.75 * 1) / 1) * p1.eos, 'kn p(</s>|c)');
  near(kn.prob('zebra', ['b']), ((0.75 * 1) / 2) * p1.unk, 'kn p(<unk>|b)');
  near(kn.prob('a', ['zebra']), p1.a, 'kn p(a|<unk>) backs off whole');
  near(kn.prob('zebra', ['zebra']), p1.unk, 'kn p(<unk>|<unk>)');
});

// Order 3: <s> <s> a b a </s> / <s> <s> b a c </s>. The 8 trigrams at predicted positions each
// occur once: <s><s>a, <s>ab, aba, ba</s>, <s><s>b, <s>ba, bac, ac</s>.
// Order 2 uses continuation counts from their suffixes: N1+(•ba) = 2 {a, <s>}, every other 1:
// c2(<s>) = 2 (a, b), c2(a) = 3 (b, </s>, c), c2(b) = 2 (one word, a), c2(c) = 1 (</s>).
// The unigram level is the same as at order 2 (the bigram <s><s> ends in the padding: not counted).
test('order 3 on corpus A: kneser-ney with seen, unseen and <unk> histories', () => {
  const kn = trainNgram(A, { order: 3, smoothing: 'kneser-ney' });
  const p2 = {
    cGivenA: (1 - 0.75) / 3 + ((0.75 * 3) / 3) * p1.c,
    eosGivenA: (1 - 0.75) / 3 + ((0.75 * 3) / 3) * p1.eos,
    aGivenS: (1 - 0.75) / 2 + ((0.75 * 2) / 2) * p1.a,
    aGivenB: (2 - 0.75) / 2 + ((0.75 * 1) / 2) * p1.a,
    aGivenA: 0 + ((0.75 * 3) / 3) * p1.a,
    bGivenA: (1 - 0.75) / 3 + ((0.75 * 3) / 3) * p1.b,
    unkGivenA: 0 + ((0.75 * 3) / 3) * p1.unk,
  };
  // History (b a): followers </s> and c once each: c3 = 2, N1+ = 2.
  near(kn.prob('c', ['b', 'a']), (1 - 0.75) / 2 + ((0.75 * 2) / 2) * p2.cGivenA, 'kn p(c|b a)');
  near(kn.prob('</s>', ['b', 'a']), (1 - 0.75) / 2 + ((0.75 * 2) / 2) * p2.eosGivenA, 'kn p(</s>|b a)');
  near(kn.prob('zebra', ['b', 'a']), 0 + ((0.75 * 2) / 2) * p2.unkGivenA, 'kn p(<unk>|b a)');
  // History (<s> <s>): followers a and b once each.
  near(kn.prob('a', ['<s>', '<s>']), (1 - 0.75) / 2 + ((0.75 * 2) / 2) * p2.aGivenS, 'kn p(a|<s> <s>)');
  // History (a b): follower a once; order 2 history b.
  near(kn.prob('a', ['a', 'b']), (1 - 0.75) / 1 + ((0.75 * 1) / 1) * p2.aGivenB, 'kn p(a|a b)');
  // Unseen trigram history (c a): order 3 passes order 2 through unchanged.
  near(kn.prob('a', ['c', 'a']), p2.aGivenA, 'kn p(a|c a), unseen history');
  near(kn.prob('b', ['zebra', 'a']), p2.bGivenA, 'kn p(b|<unk> a)');
  near(kn.prob('a', ['a', 'zebra']), p1.a, 'kn p(a|a <unk>) down to the unigram level');

  const mle = trainNgram(A, { order: 3, smoothing: 'mle' });
  near(mle.prob('c', ['b', 'a']), 1 / 2, 'mle p(c|b a)');
  near(mle.prob('b', ['<s>', '<s>']), 1 / 2, 'mle p(b|<s> <s>)');
  const add1 = trainNgram(A, { order: 3, smoothing: 'laplace' });
  near(add1.prob('c', ['b', 'a']), (1 + 1) / (2 + 5), 'add-one p(c|b a)');
  near(add1.prob('c', ['c', 'a']), 1 / 5, 'add-one p(c|c a), unseen history');
});

test('perplexity over corpus A at order 2 counts every word and </s>, OOV words as <unk>', async () => {
  const kn = trainNgram(A, { order: 2, smoothing: 'kneser-ney' });
  // Eval "b a zebra": p(b|<s>), p(a|b), p(<unk>|a), p(</s>|<unk>); history <s> has a, b once each.
  const probs = [
    (1 - 0.75) / 2 + ((0.75 * 2) / 2) * p1.b,
    (2 - 0.75) / 2 + ((0.75 * 1) / 2) * p1.a,
    0 + ((0.75 * 3) / 3) * p1.unk,
    p1.eos,
  ];
  const want = Math.exp(-probs.reduce((s, p) => s + Math.log(p), 0) / 4);
  const r = await evaluatePerplexity(kn, ['', 'B a ZEBRA']);
  assert.deepEqual(
    { tokens: r.tokens, oov: r.oov, zeroProbTokens: r.zeroProbTokens },
    { tokens: 4, oov: 1, zeroProbTokens: 0 },
  );
  near(r.perplexity, want, 'perplexity');

  const mle = await evaluatePerplexity(trainNgram(A, { order: 2, smoothing: 'mle' }), ['a a', 'b a']);
  assert.equal(mle.perplexity, Number.POSITIVE_INFINITY);
  // p(a|<s>) = 1/2, p(a|a) = 0, p(</s>|a) = 1/3; p(b|<s>) = 1/2, p(a|b) = 1, p(</s>|a) = 1/3.
  assert.deepEqual(
    { tokens: mle.tokens, oov: mle.oov, zeroProbTokens: mle.zeroProbTokens },
    { tokens: 6, oov: 0, zeroProbTokens: 1 },
  );
});

// Corpus B, for modified Kneser-Ney at order 2, chosen so that n1..n4 are nonzero at both orders:
// "a b" x3, "c b" x3, "d b" x2, "b d", "c d". V = {a, b, c, d, </s>, <unk>}, |V| = 6.
// Bigram counts: <s>a 3, ab 3, b</s> 8, <s>c 4, cb 3, <s>d 2, db 2, <s>b 1, bd 1, d</s> 2, cd 1
//   -> n1 = 3, n2 = 3, n3 = 3, n4 = 1; Y = 3/(3+2*3).
// Continuation counts of the 11 distinct bigrams: N1+(•a) = 1, N1+(•b) = 4 {a,c,d,<s>},
// N1+(•c) = 1, N1+(•d) = 3 {<s>,b,c}, N1+(•</s>) = 2 {b,d}; N1+(••) = 11
//   -> n1 = 2, n2 = 1, n3 = 1, n4 = 1; Y = 2/(2+2*1).
const B = ['a b', 'a b', 'a b', 'c b', 'c b', 'c b', 'd b', 'd b', 'b d', 'c d'];

test('modified kneser-ney at order 2 on corpus B: discounts, γ and probabilities by hand', () => {
  const y1 = 2 / (2 + 2 * 1);
  const u = { d1: 1 - (2 * y1 * 1) / 2, d2: 2 - (3 * y1 * 1) / 1, d3: 3 - (4 * y1 * 1) / 1 };
  const y2 = 3 / (3 + 2 * 3);
  const b = { d1: 1 - (2 * y2 * 3) / 3, d2: 2 - (3 * y2 * 3) / 3, d3: 3 - (4 * y2 * 1) / 3 };
  const mkn = trainNgram(B, { order: 2, smoothing: 'modified-kneser-ney' });
  assert.deepEqual(
    mkn.levels.map((l) => l.countsOfCounts),
    [
      [2, 1, 1, 1],
      [3, 3, 3, 1],
    ],
  );
  for (const [got, want] of [
    [mkn.discounts[0], [u.d1, u.d2, u.d3]],
    [mkn.discounts[1], [b.d1, b.d2, b.d3]],
  ] as const) {
    for (let j = 0; j < 3; j++) near(got?.[j] as number, want[j] as number, `discount D${j + 1}`);
  }

  // Unigram level: a, c have N1+ 1; </s> 2; d 3 and b 4 are 3+.
  const gamma1 = (u.d1 * 2 + u.d2 * 1 + u.d3 * 2) / 11;
  const q = {
    a: (1 - u.d1) / 11 + gamma1 * (1 / 6),
    b: (4 - u.d3) / 11 + gamma1 * (1 / 6),
    eos: (2 - u.d2) / 11 + gamma1 * (1 / 6),
    unk: gamma1 * (1 / 6),
  };
  near(mkn.prob('a', ['zebra']), q.a, 'p(a|<unk>)');
  near(mkn.prob('zebra', ['zebra']), q.unk, 'p(<unk>|<unk>)');
  // History <s>: followers a 3, c 4, d 2, b 1 (total 10; one count 1, one 2, two 3+).
  const gammaS = (b.d1 * 1 + b.d2 * 1 + b.d3 * 2) / 10;
  near(mkn.prob('a', ['<s>']), (3 - b.d3) / 10 + gammaS * q.a, 'p(a|<s>)');
  near(mkn.prob('b', ['<s>']), (1 - b.d1) / 10 + gammaS * q.b, 'p(b|<s>)');
  // History b: </s> 8, d 1 (total 9).
  const gammaB = (b.d1 * 1 + b.d3 * 1) / 9;
  near(mkn.prob('</s>', ['b']), (8 - b.d3) / 9 + gammaB * q.eos, 'p(</s>|b)');
  near(mkn.prob('a', ['b']), gammaB * q.a, 'p(a|b), unseen bigram');
  near(mkn.prob('zebra', ['b']), gammaB * q.unk, 'p(<unk>|b)');
  // History d: b 2, </s> 2 (total 4).
  near(mkn.prob('b', ['d']), (2 - b.d2) / 4 + ((b.d2 * 2) / 4) * q.b, 'p(b|d)');

  // At order 1 the raw counts a 3, b 9, c 4, d 4, </s> 10 are the highest order's: no word has
  // count 1 (nor 2), and the error names the order and the missing n.
  assert.throws(
    () => trainNgram(B, { order: 1, smoothing: 'modified-kneser-ney' }),
    (err: unknown) => err instanceof NgramError && /at order 1, n1 = 0 \(no 1-gram has count 1\)/.test(err.message),
  );
});

test('modified kneser-ney at order 1: raw counts a 4, b 3, c 2, d 1, </s> 1 of 11', () => {
  // n1 = 2 (d, </s>), n2 = 1, n3 = 1, n4 = 1; Y = 2/(2+2*1); |V| = 6.
  const y = 2 / (2 + 2 * 1);
  const [d1, d2, d3] = [1 - (2 * y * 1) / 2, 2 - (3 * y * 1) / 1, 3 - (4 * y * 1) / 1];
  const mkn = trainNgram(['a a a a b b b c c d'], { order: 1, smoothing: 'modified-kneser-ney' });
  const gamma = (d1 * 2 + d2 * 1 + d3 * 2) / 11;
  near(mkn.prob('a', []), (4 - d3) / 11 + gamma / 6, 'p(a)');
  near(mkn.prob('c', []), (2 - d2) / 11 + gamma / 6, 'p(c)');
  near(mkn.prob('</s>', []), (1 - d1) / 11 + gamma / 6, 'p(</s>)');
  near(mkn.prob('zebra', []), gamma / 6, 'p(<unk>)');
});

test('modified kneser-ney at order 3 on corpus B: counts of counts per order, and the zero-count error', () => {
  // Trigrams: <s><s>a 3, <s>ab 3, ab</s> 3, <s><s>c 4, <s>cb 3, cb</s> 3, <s><s>d 2, <s>db 2,
  // db</s> 2, <s><s>b 1, <s>bd 1, bd</s> 1, <s>cd 1, cd</s> 1 -> n1 = 5, n2 = 3, n3 = 5, n4 = 1.
  // Their suffixes give continuation counts b</s> 3 {a,c,d}, d</s> 2 {b,c}, the 9 others 1:
  // n1 = 9, n2 = 1, n3 = 1, n4 = 0 at order 2.
  const kn = trainNgram(B, { order: 3, smoothing: 'kneser-ney' });
  assert.deepEqual(
    kn.levels.map((l) => l.countsOfCounts),
    [
      [2, 1, 1, 1],
      [9, 1, 1, 0],
      [5, 3, 5, 1],
    ],
  );
  assert.throws(
    () => trainNgram(B, { order: 3, smoothing: 'modified-kneser-ney' }),
    (err: unknown) =>
      err instanceof NgramError && /at order 2, n4 = 0 \(no 2-gram has continuation count 4\)/.test(err.message),
  );
});

test('modified kneser-ney refuses negative discounts, naming the order and the counts of counts', () => {
  // Order 1 raw counts a 1, b 2, c..g 3, h 4, </s> 1: n1 = 2, n2 = 1, n3 = 5, n4 = 1, so
  // Y = 2/(2+2*1) and D2 = 2 - 3Y*5/1 = -5.5.
  const line = 'a b b c c c d d d e e e f f f g g g h h h h';
  assert.throws(
    () => trainNgram([line], { order: 1, smoothing: 'modified-kneser-ney' }),
    (err: unknown) =>
      err instanceof NgramError &&
      err.message.includes(`at order 1, D2 = ${2 - (3 * (2 / (2 + 2 * 1)) * 5) / 1} is negative`) &&
      err.message.includes('n1 = 2, n2 = 1, n3 = 5, n4 = 1'),
  );
});
