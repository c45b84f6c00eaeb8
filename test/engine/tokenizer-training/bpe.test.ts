// The BPE / WordPiece trainer on corpora small enough to work by hand. Where a number comes from
// Hugging Face, the test says where: the Rust trainer's own unit test (tokenizers/src/models/bpe/
// trainer.rs, `test_train`) and the Hugging Face NLP course's BPE chapter (chapter 6.5, the
// hug/pug/pun/bun/hugs corpus).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { trainBpe } from '../../../src/engine/tokenizer-training/bpe.js';
import { MaxHeap } from '../../../src/engine/tokenizer-training/heap.js';

const counts = (entries: [string, number][]) => new Map(entries);

test('BPE: the Rust trainer test_train corpus gives its vocabulary and merges (min_frequency 2)', () => {
  const words = counts([
    ['roses', 1],
    ['are', 2],
    ['red', 1],
    ['voilets', 1],
    ['blue', 1],
    ['BERT', 1],
    ['is', 2],
    ['big', 1],
    ['and', 1],
    ['so', 1],
    ['GPT-2', 1],
  ]);
  const r = trainBpe(words, { vocabSize: 30000, minFrequency: 2, specialTokens: [] });
  // expected_vocab of test_train: the alphabet by code point, then re, are, is.
  const alphabet = ['-', '2', 'B', 'E', 'G', 'P', 'R', 'T', 'a', 'b', 'd', 'e', 'g', 'i', 'l', 'n', 'o', 'r', 's'];
  assert.deepEqual(r.vocab, [...alphabet, 't', 'u', 'v', 're', 'are', 'is']);
  // expected_merges: (r, e) rank 0, (a, re) rank 1, (i, s) rank 2.
  assert.deepEqual(r.merges, [
    ['r', 'e'],
    ['a', 're'],
    ['i', 's'],
  ]);
});

// The course corpus: ("hug", 10), ("pug", 5), ("pun", 12), ("bun", 4), ("hugs", 5).
const course = counts([
  ['hug', 10],
  ['pug', 5],
  ['pun', 12],
  ['bun', 4],
  ['hugs', 5],
]);

test('BPE: the course corpus merges u+g (20), then u+n (16), then h+ug (15), by hand', () => {
  const r = trainBpe(course, { vocabSize: 10, minFrequency: 0, specialTokens: ['<unk>'] });
  // <unk>, alphabet b g h n p s u, then the three merges the course lists.
  assert.deepEqual(r.vocab, ['<unk>', 'b', 'g', 'h', 'n', 'p', 's', 'u', 'ug', 'un', 'hug'].slice(0, 10));
  assert.deepEqual(r.merges, [
    ['u', 'g'],
    ['u', 'n'],
  ]);
  const more = trainBpe(course, { vocabSize: 100, minFrequency: 0, specialTokens: ['<unk>'] });
  // By hand after hug: p+un 12 -> pun, hug+s 5 and p+ug 5 tie: the smaller pair (ids) first:
  // (hug=10, s=6) vs (p=5, ug=8): p+ug first, then hug+s, then b+un 4.
  assert.deepEqual(more.merges, [
    ['u', 'g'],
    ['u', 'n'],
    ['h', 'ug'],
    ['p', 'un'],
    ['p', 'ug'],
    ['hug', 's'],
    ['b', 'un'],
  ]);
});

test('BPE: min_frequency stops at the first pair seen fewer times', () => {
  const r = trainBpe(course, { vocabSize: 100, minFrequency: 16, specialTokens: [] });
  assert.deepEqual(r.merges, [
    ['u', 'g'],
    ['u', 'n'],
  ]);
});

test('BPE: equal counts go to the smaller (left id, right id), not to the first seen', () => {
  // Alphabet a=0 b=1 c=2 d=3; every pair is seen once; "dc" comes first in the corpus.
  const r = trainBpe(
    counts([
      ['dc', 1],
      ['cb', 1],
      ['ad', 1],
      ['ab', 1],
    ]),
    { vocabSize: 6, minFrequency: 0, specialTokens: [] },
  );
  assert.deepEqual(r.merges, [
    ['a', 'b'],
    ['a', 'd'],
  ]);
});

test('WordPiece: "##" continuation pieces, their ids in first-seen order, merges by hand', () => {
  const specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
  const r = trainBpe(course, {
    vocabSize: 19,
    minFrequency: 0,
    specialTokens: specials,
    continuingSubwordPrefix: '##',
  });
  // Words: h ##u ##g, p ##u ##g, p ##u ##n, b ##u ##n, h ##u ##g ##s. (##u,##g) 20 -> ##ug; then
  // (##u,##n) 16 beats (h,##ug) 15 and (p,##u) 12 -> ##un; then (h,##ug) 15 -> hug.
  assert.deepEqual(r.vocab, [
    ...specials,
    ...['b', 'g', 'h', 'n', 'p', 's', 'u'],
    ...['##u', '##g', '##n', '##s'],
    ...['##ug', '##un', 'hug'],
  ]);
  assert.deepEqual(r.merges.slice(0, 2), [
    ['##u', '##g'],
    ['##u', '##n'],
  ]);
});

test('BPE: limit_alphabet keeps the most frequent characters; dropped ones leave the words', () => {
  const r = trainBpe(
    counts([
      ['aab', 3],
      ['xa', 1],
    ]),
    { vocabSize: 100, minFrequency: 0, specialTokens: [], limitAlphabet: 2 },
  );
  // a: 7, b: 3, x: 1 -> x is dropped, so "xa" is just "a".
  assert.deepEqual(r.vocab.slice(0, 2), ['a', 'b']);
  assert.equal(r.alphabetSize, 2);
  assert.ok(!r.vocab.includes('x'));
  assert.deepEqual(r.merges[0], ['a', 'a']);
});

test('BPE: the initial alphabet is kept even when unseen, and the vocabulary size is a cap', () => {
  const r = trainBpe(course, { vocabSize: 12, minFrequency: 0, specialTokens: [], initialAlphabet: ['z', 'Ā'] });
  assert.deepEqual(r.vocab.slice(0, 9), ['b', 'g', 'h', 'n', 'p', 's', 'u', 'z', 'Ā']);
  assert.equal(r.vocab.length, 12);
});

test('MaxHeap: highest priority first, equal priorities by the smallest key', () => {
  const heap = new MaxHeap();
  const items: [number, number][] = [
    [3, 9],
    [5, 4],
    [3, 2],
    [5, 1],
    [1, 0],
    [3, 5],
  ];
  for (const [p, k] of items) heap.push(p, k);
  const out: [number, number][] = [];
  while (heap.size > 0) {
    const { priority, key } = heap.pop();
    out.push([priority, key]);
  }
  assert.deepEqual(out, [
    [5, 1],
    [5, 4],
    [3, 2],
    [3, 5],
    [3, 9],
    [1, 0],
  ]);
});
