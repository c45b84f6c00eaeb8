// The Unigram trainer against the Rust trainer's own unit tests (tokenizers/src/models/unigram/
// trainer.rs: test_unigram_chars, test_unk_token) and on the properties its EM and pruning give.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addMarginals, buildLattice, PieceModel, viterbi } from '../../../src/engine/tokenizer-training/lattice.js';
import { seedPieces, trainUnigram } from '../../../src/engine/tokenizer-training/unigram.js';

test('unigram seeds: the characters by count, then "is " and "s ", with test_unigram_chars\'s scores', () => {
  const seeds = seedPieces(
    new Map([
      ['This is a', 1],
      ['こんにちは友達', 1],
    ]),
    16,
    1_000_000,
  );
  // target_strings and target_scores of test_unigram_chars.
  assert.deepEqual(
    seeds.map(([p]) => p),
    ['s', 'i', ' ', '達', '友', 'ん', 'は', 'に', 'ち', 'こ', 'h', 'a', 'T', 'is ', 's '],
  );
  const want = [-2.5649493574615367, -3.258096538021482, -1.4663370687934272, -1.8718021769015916];
  const got = [seeds[0], seeds[3], seeds[13], seeds[14]].map((p) => (p as [string, number])[1]);
  for (const [i, w] of want.entries()) assert.ok(Math.abs((got[i] as number) - w) < 1e-9, `${got[i]} vs ${w}`);
});

test('unigram: the unknown token goes first unless it is a special token (test_unk_token)', () => {
  const words = new Map([
    ['The', 12],
    ['are', 11],
  ]);
  const added = trainUnigram(words, { vocabSize: 8000, specialTokens: ['[SEP]', '[CLS]'], unkToken: '[UNK]' });
  assert.deepEqual(added.pieces.slice(0, 3), [
    ['[UNK]', 0],
    ['[SEP]', 0],
    ['[CLS]', 0],
  ]);
  assert.equal(added.unkId, 0);
  const listed = trainUnigram(words, {
    vocabSize: 8000,
    specialTokens: ['[SEP]', '[CLS]', '[UNK]'],
    unkToken: '[UNK]',
  });
  assert.deepEqual(
    listed.pieces.slice(0, 3).map(([p]) => p),
    ['[SEP]', '[CLS]', '[UNK]'],
  );
  assert.equal(listed.unkId, 2);
  // 3. without an unknown token the best piece comes first: "e" (23 of the 6 characters' 69).
  const none = trainUnigram(words, { vocabSize: 8000, specialTokens: [], unkToken: null });
  assert.equal(none.pieces[0]?.[0], 'e');
});

// A corpus whose words share stems and suffixes, so pruning has real choices to make.
const stems = ['▁walk', '▁talk', '▁jump', '▁play', '▁work', '▁look', '▁call', '▁help'];
const suffixes = ['', 'ed', 'ing', 's', 'er', 'ers'];
const corpus = new Map<string, number>();
for (const [i, s] of stems.entries()) {
  for (const [j, x] of suffixes.entries()) corpus.set(s + x, 1 + ((i * 7 + j * 3) % 11));
}

test('unigram: EM and pruning reach the vocabulary size, keep every character, sort by score', () => {
  const size = 40;
  const r = trainUnigram(corpus, { vocabSize: size, specialTokens: ['<pad>', '<unk>'], unkToken: '<unk>' });
  assert.equal(r.pieces.length, size);
  assert.equal(r.unkId, 1);
  const pieces = r.pieces.slice(2);
  for (const ch of new Set([...corpus.keys()].flatMap((w) => [...w]))) {
    assert.ok(
      pieces.some(([p]) => p === ch),
      `character ${ch} kept`,
    );
  }
  for (let i = 1; i < pieces.length; i++) {
    assert.ok((pieces[i - 1] as [string, number])[1] >= (pieces[i] as [string, number])[1], 'sorted by score');
  }
  // Log probabilities; the stems, each in six words, survive pruning as whole pieces.
  assert.ok(pieces.every(([, s]) => s <= 0));
  for (const stem of stems)
    assert.ok(
      pieces.some(([p]) => p === stem),
      stem,
    );
});

test('unigram lattice: Viterbi takes the highest total score, first best on ties', () => {
  const model = new PieceModel(
    [
      ['<UNK>', Number.NaN],
      ['a', -1],
      ['b', -1],
      ['ab', -1.5],
      ['abc', -5],
      ['c', -2],
    ],
    16,
  );
  const pieces = (word: string) => {
    const lat = buildLattice(model, word);
    return viterbi(lat).map((k) => model.pieces[lat.ids[k] as number]?.[0]);
  };
  assert.deepEqual(pieces('abc'), ['ab', 'c']); // -3.5 beats a b c (-4) and abc (-5)
  assert.deepEqual(pieces('abx'), ['ab', '<UNK>']); // x: the unknown piece, min score - 10
  // Without the full-length node (the pruning step's second-best path).
  const lat = buildLattice(model, 'ab', [0, 2]);
  assert.deepEqual(
    viterbi(lat).map((k) => model.pieces[lat.ids[k] as number]?.[0]),
    ['a', 'b'],
  );
});

test('unigram lattice: the E-step marginals equal those of enumerating every segmentation', () => {
  const model = new PieceModel(
    [
      ['<UNK>', Number.NaN],
      ['a', -1.2],
      ['b', -0.7],
      ['ab', -1.5],
      ['bc', -2.1],
      ['abc', -3],
      ['c', -2],
    ],
    16,
  );
  const word = 'abca';
  // Every segmentation of "abca" into pieces, its probability ∝ exp(sum of scores).
  const segs: string[][] = [];
  const walk = (rest: string, acc: string[]) => {
    if (rest === '') segs.push(acc);
    for (let k = 1; k <= rest.length; k++) {
      if (model.ids.has(rest.slice(0, k))) walk(rest.slice(k), [...acc, rest.slice(0, k)]);
    }
  };
  walk(word, []);
  assert.equal(segs.length, 4); // a|b|c|a, ab|c|a, a|bc|a, abc|a
  const weight = (s: string[]) =>
    Math.exp(s.reduce((t, p) => t + (model.scores[model.ids.get(p) as number] as number), 0));
  const z = segs.reduce((t, s) => t + weight(s), 0);
  const want = new Float64Array(model.pieces.length);
  for (const s of segs) {
    for (const p of s) {
      const id = model.ids.get(p) as number;
      want[id] = (want[id] as number) + (3 * weight(s)) / z;
    }
  }
  const got = new Float64Array(model.pieces.length);
  const logZ = addMarginals(buildLattice(model, word), 3, got);
  assert.ok(Math.abs(logZ - Math.log(z)) < 1e-12, `${logZ} vs ${Math.log(z)}`);
  for (let i = 0; i < want.length; i++)
    assert.ok(Math.abs((got[i] as number) - (want[i] as number)) < 1e-12, `piece ${i}`);
});
