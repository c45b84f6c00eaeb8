import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type NgramModel, trainNgram } from '../../../src/engine/ngram/model.js';
import { ngramPerplexity } from '../../../src/engine/ngram/perplexity.js';
import { SMOOTHINGS, type Smoothing } from '../../../src/engine/ngram/smoothing.js';
import { NgramError } from '../../../src/engine/ngram/tokens.js';
import { rng, testSeed } from '../helpers/random.js';
import { NaiveModel } from './naive.js';

// Random corpora over a few Zipf-distributed words (so that counts 1..4 all occur), checked two
// ways: every smoothed distribution sums to 1 over V, and every probability matches the plain
// string-keyed model of ./naive.ts.

const seed = testSeed();
// A long Zipf tail gives words with 1..4 distinct left neighbours (modified KN's unigram level
// needs them), and lines built around a few fixed phrases repeat longer n-grams often enough for
// counts 3 and 4 at the higher orders.
const WORDS = ['the', 'cat', 'sat', 'on', 'a', 'mat', 'Dog', ...Array.from({ length: 593 }, (_, i) => `w${i}`)];
const PHRASES = ['the cat sat on a mat', 'a dog sat', 'on the mat the cat', 'the the cat', 'sat on', 'w1 w2 w3 w4'];

function corpus(rand: () => number, lines: number): string[] {
  const weights = WORDS.map((_, r) => 1 / (r + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  const word = () => {
    let x = rand() * total;
    for (let r = 0; r < WORDS.length; r++) {
      x -= weights[r] as number;
      if (x < 0) return WORDS[r] as string;
    }
    return WORDS[WORDS.length - 1] as string;
  };
  const words = (n: number) => Array.from({ length: n }, word);
  // Lengths 0..7 (an empty line is skipped); doubled spaces and tabs are whitespace like any other.
  return Array.from({ length: lines }, () => {
    const sep = rand() < 0.1 ? ' \t ' : ' ';
    if (rand() >= 0.4) return words(Math.floor(rand() * 8)).join(sep);
    const phrase = PHRASES[Math.floor(rand() * PHRASES.length)] as string;
    return [...words(Math.floor(rand() * 2)), phrase, ...words(Math.floor(rand() * 2))].join(sep);
  });
}

/** Histories of length order-1: some from the training text, some random, some with an OOV word. */
function histories(rand: () => number, lines: string[], order: number): string[][] {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)] as T;
  const symbols = ['<s>', ...WORDS.map((w) => w.toLowerCase()), 'zebra'];
  const out: string[][] = [];
  const padded = lines
    .map((l) => l.toLowerCase().split(/\s+/).filter(Boolean))
    .filter((ws) => ws.length > 0)
    .map((ws) => [...Array<string>(order - 1).fill('<s>'), ...ws, '</s>']);
  for (let j = 0; j < 12; j++) {
    const s = pick(padded);
    const i = order - 1 + Math.floor(rand() * (s.length - order + 1));
    out.push(s.slice(i - order + 1, i));
  }
  for (let j = 0; j < 12; j++) out.push(Array.from({ length: order - 1 }, () => pick(symbols)));
  for (let j = 0; j < 6 && order > 1; j++) {
    const h = [...(out[j] as string[])];
    h[Math.floor(rand() * h.length)] = 'zebra';
    out.push(h);
  }
  return out;
}

function trains(lines: string[], order: number): boolean {
  try {
    trainNgram(lines, { order, smoothing: 'modified-kneser-ney' });
    return true;
  } catch {
    return false;
  }
}

function build(
  lines: string[],
  order: number,
  smoothing: Smoothing,
): { fast: NgramModel; naive: NaiveModel } | 'both threw' {
  let fast: NgramModel | undefined;
  let naive: NaiveModel | undefined;
  let fastError: unknown;
  try {
    fast = trainNgram(lines, { order, smoothing });
  } catch (err) {
    fastError = err;
  }
  try {
    naive = new NaiveModel(lines, order, smoothing);
  } catch {
    // The naive model throws only for a zero count of counts (modified KN).
  }
  if (fast && naive) return { fast, naive };
  assert.ok(!fast && !naive, `seed ${seed}: ${smoothing} order ${order}: only one implementation threw: ${fastError}`);
  assert.ok(fastError instanceof NgramError, `seed ${seed}: ${String(fastError)}`);
  return 'both threw';
}

for (const order of [1, 2, 3, 4, 5]) {
  test(`order ${order}: every smoothing matches the naive model, smoothed distributions sum to 1`, () => {
    const rand = rng(seed + order);
    // Small corpora miss some count of counts at orders 4 and 5 now and then; draw again (a few
    // times at most) so that modified KN is usually compared too. Where it still throws, both
    // implementations must.
    let lines = corpus(rand, 800);
    for (let attempt = 0; attempt < 8 && trains(lines, order) === false; attempt++) lines = corpus(rand, 800);
    let modelsChecked = 0;
    for (const smoothing of SMOOTHINGS) {
      const built = build(lines, order, smoothing);
      if (built === 'both threw') continue;
      modelsChecked++;
      const { fast, naive } = built;
      const vocab = fast.vocab.members();
      assert.equal(vocab.length, naive.vocab.size);
      for (const h of histories(rand, lines, order)) {
        let sum = 0;
        for (const w of [...vocab, 'zebra']) {
          const got = fast.prob(w, h);
          const want = naive.prob(w, h);
          const what = `seed ${seed}: ${smoothing} order ${order} p(${w} | ${h.join(' ')})`;
          assert.ok(
            Math.abs(got - want) <= 1e-12 * Math.max(Math.abs(want), 1e-300),
            `${what}: ${got} vs naive ${want}`,
          );
          if (w !== 'zebra') sum += got;
        }
        const what = `seed ${seed}: ${smoothing} order ${order}: Σ_w p(w | ${h.join(' ')})`;
        if (smoothing === 'mle') assert.ok(Math.abs(sum - 1) <= 1e-9 || sum === 0, `${what} = ${sum}`);
        else assert.ok(Math.abs(sum - 1) <= 1e-9, `${what} = ${sum}`);
      }
    }
    // mle, laplace and kneser-ney never throw; modified KN only where a count of counts is 0.
    assert.ok(modelsChecked >= (order <= 3 ? 4 : 3), `seed ${seed}: only ${modelsChecked} smoothings trained`);
  });
}

test('modified kneser-ney order 3 on a larger corpus: discounts exist, perplexity matches the naive model', async () => {
  const rand = rng(seed);
  // Redrawn while modified KN refuses the corpus (now and then at this size), as above.
  let train = corpus(rand, 1000);
  for (let attempt = 0; attempt < 8 && !trains(train, 3); attempt++) train = corpus(rand, 1000);
  const evalLines = [...corpus(rand, 200), 'the zebra sat', 'UNSEEN words only'];
  const naive = new NaiveModel(train, 3, 'modified-kneser-ney');
  let logSum = 0;
  let tokens = 0;
  let oov = 0;
  for (const line of evalLines) {
    const ws = line.toLowerCase().split(/\s+/).filter(Boolean);
    if (ws.length === 0) continue;
    const s = ['<s>', '<s>', ...ws, '</s>'];
    oov += ws.filter((w) => !naive.vocab.has(w)).length;
    for (let i = 2; i < s.length; i++) {
      logSum += Math.log(naive.prob(s[i] as string, s.slice(i - 2, i)));
      tokens++;
    }
  }
  const r = await ngramPerplexity({
    order: 3,
    smoothing: 'modified-kneser-ney',
    trainLines: train,
    evalLines: (async function* () {
      yield* evalLines;
    })(),
  });
  assert.equal(r.tokens, tokens);
  assert.equal(r.oov, oov);
  assert.equal(r.zeroProbTokens, 0);
  const want = Math.exp(-logSum / tokens);
  assert.ok(Math.abs(r.perplexity - want) <= 1e-9 * want, `seed ${seed}: perplexity ${r.perplexity} vs naive ${want}`);
});

test('options out of range and empty text are errors that say which', async () => {
  const bad: [object, RegExp][] = [
    [{ order: 0, smoothing: 'mle' }, /order must be an integer from 1 to 5, got 0/],
    [{ order: 6, smoothing: 'mle' }, /got 6/],
    [{ order: 2, smoothing: 'witten-bell' }, /smoothing must be one of .*got 'witten-bell'/],
    [{ order: 2, smoothing: 'kneser-ney', discount: 1.5 }, /discount must be in \[0, 1\], got 1.5/],
    [{ order: 2, smoothing: 'mle', discount: 0.5 }, /applies to kneser-ney only/],
    [{ order: 2, smoothing: 'laplace', k: 0 }, /k must be a positive number/],
  ];
  for (const [options, message] of bad) {
    assert.throws(
      () => trainNgram(['a b'], options as never),
      (e: unknown) => e instanceof NgramError && message.test(e.message),
    );
  }
  assert.throws(() => trainNgram(['', '  \t'], { order: 2, smoothing: 'mle' }), /training text has no tokens/);
  await assert.rejects(
    ngramPerplexity({ order: 2, smoothing: 'mle', trainLines: ['a'], evalLines: [''] }),
    /evaluation text has no tokens/,
  );
});
