import assert from 'node:assert/strict';
import { test } from 'node:test';
import { epochBatches } from '../../src/engine/train/batching.js';
import { rng, testSeed } from './helpers/random.js';

const byValue = (e: number) => e;
const base = { batchSize: 2, stepExamples: 2, shuffle: false, seed: 1, epoch: 1 };

test('without grouping: the order cut into batches, the last one short', () => {
  assert.deepEqual(epochBatches([1, 2, 3, 4, 5], { ...base, groupByLength: false }, byValue), [[1, 2], [3, 4], [5]]);
});

test("group_by_length: megabatches sorted longest first, the longest example's megabatch first (hand-computed)", () => {
  // 8 examples, step of 2: min(8 / (2 x 4), 50) = 1 batch per megabatch.
  // Megabatches [3,1] [4,1] [5,9] [2,6] -> sorted [3,1] [4,1] [9,5] [6,2]; 9 swaps places with 3.
  assert.deepEqual(epochBatches([3, 1, 4, 1, 5, 9, 2, 6], { ...base, groupByLength: true }, byValue), [
    [9, 1],
    [4, 1],
    [3, 5],
    [6, 2],
  ]);
});

test('group_by_length with shuffling: every example once, each epoch its own order, less padding', () => {
  const seed = testSeed();
  const rand = rng(seed);
  const lengths = Array.from({ length: 1000 }, (_, i) => ({ id: i, len: 1 + Math.floor(rand() * 128) }));
  const order = { batchSize: 8, stepExamples: 16, shuffle: true, seed, epoch: 1, groupByLength: true };
  const padding = (batches: { len: number }[][]) =>
    batches.reduce((n, b) => n + b.length * Math.max(...b.map((e) => e.len)), 0);
  const grouped = epochBatches(lengths, order, (e) => e.len);
  const random = epochBatches(lengths, { ...order, groupByLength: false }, (e) => e.len);
  assert.deepEqual(
    grouped
      .flat()
      .map((e) => e.id)
      .sort((a, b) => a - b),
    lengths.map((e) => e.id),
    `seed ${seed}`,
  );
  const longest = Math.max(...lengths.map((e) => e.len));
  assert.equal(Math.max(...(grouped[0] as { len: number }[]).map((e) => e.len)), longest, `seed ${seed}`);
  // Random batches of 8 pad to about 114 on average, grouped ones to about the mean length, 64.
  assert.ok(padding(grouped) < 0.7 * padding(random), `seed ${seed}: ${padding(grouped)} vs ${padding(random)}`);
  const nextEpoch = epochBatches(lengths, { ...order, epoch: 2 }, (e) => e.len);
  assert.notDeepEqual(
    nextEpoch.map((b) => b.map((e) => e.id)),
    grouped.map((b) => b.map((e) => e.id)),
  );
});
