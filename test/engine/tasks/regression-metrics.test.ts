import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  averageRanks,
  meanAbsoluteError,
  meanSquaredError,
  pearson,
  spearman,
} from '../../../src/engine/tasks/metrics/regression.js';
import { near } from './near.js';

const TARGETS = [1, 2, 3, 4];
const PREDS = [1.5, 2, 2, 5]; // errors +0.5, 0, -1, +1

test('mean squared and mean absolute error', () => {
  near(meanSquaredError(TARGETS, PREDS), (0.25 + 0 + 1 + 1) / 4, 'mse');
  near(meanAbsoluteError(TARGETS, PREDS), (0.5 + 0 + 1 + 1) / 4, 'mae');
  near(meanSquaredError([3], [3]), 0, 'perfect mse');
});

test("Pearson's r from centred sums", () => {
  // x - 2.5 = (-1.5, -0.5, 0.5, 1.5); y - 2.625 = (-1.125, -0.625, -0.625, 2.375)
  // Sxy = 1.6875 + 0.3125 - 0.3125 + 3.5625 = 5.25, Sxx = 5, Syy = 7.6875
  near(pearson(TARGETS, PREDS), 5.25 / Math.sqrt(5 * 7.6875), 'pearson');
  assert.equal(pearson([1, 2, 3], [2, 4, 6]), 1);
  assert.equal(pearson([1, 2, 3], [6, 4, 2]), -1);
});

test('correlation with a constant side is 0 (scipy: NaN)', () => {
  assert.equal(pearson([1, 2, 3], [2, 2, 2]), 0);
  assert.equal(spearman([5, 5, 5], [1, 2, 3]), 0);
});

test('average ranks give tied values the mean of their positions', () => {
  // Sorted: 1 -> rank 1, 2 -> rank 2, the three 3s share ranks 3, 4, 5 -> (3 + 4 + 5) / 3 = 4.
  assert.deepEqual(averageRanks([3, 1, 3, 3, 2]), [4, 1, 4, 4, 2]);
  assert.deepEqual(averageRanks([7, 7]), [1.5, 1.5]);
});

test('Spearman with ties in one variable', () => {
  // Ranks x = (1, 2, 3, 4); y = (1.5, 2, 2, 5) ranks to (1, 2.5, 2.5, 4).
  // Centred: (-1.5, -0.5, 0.5, 1.5) and (-1.5, 0, 0, 1.5): Sxy = 4.5, Sxx = 5, Syy = 4.5.
  near(spearman(TARGETS, PREDS), 4.5 / Math.sqrt(5 * 4.5), 'spearman');
});

test('Spearman with ties in both variables', () => {
  // x = (10, 20, 20, 30, 40) ranks (1, 2.5, 2.5, 4, 5); y = (1, 3, 2, 2, 5) ranks (1, 4, 2.5, 2.5, 5).
  // Both rank means are 3: dx = (-2, -0.5, -0.5, 1, 2), dy = (-2, 1, -0.5, -0.5, 2).
  // Sxy = 4 - 0.5 + 0.25 - 0.5 + 4 = 7.25, Sxx = Syy = 9.5.
  near(spearman([10, 20, 20, 30, 40], [1, 3, 2, 2, 5]), 7.25 / 9.5, 'spearman');
});

test('Spearman of a diverged model (NaN predictions) is NaN, and bad shapes are errors', () => {
  assert.ok(Number.isNaN(spearman([1, 2, 3], [1, Number.NaN, 3])));
  assert.throws(() => pearson([1], [1]), /at least 2/);
  assert.throws(() => meanSquaredError([1, 2], [1]), /2 targets but 1 predictions/);
  assert.throws(() => meanAbsoluteError([], []), /at least 1/);
});
