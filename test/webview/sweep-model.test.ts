import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rng } from '../../src/shared/random.js';
import type { TrialRecord } from '../../src/shared/sweep-record.js';
import { fanovaImportance, fitTree, treeMainEffects } from '../../src/webview/sweep-importance.js';
import {
  type Axis,
  axesOf,
  axisValue,
  bestSoFar,
  filterRows,
  importances,
  OBJECTIVE,
  sortRows,
  type TrialRow,
  trialRows,
} from '../../src/webview/sweep-model.js';
import { sweepJson } from '../fixtures/sweep.js';

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);

test('variance decomposition of one tree, checked by hand', () => {
  // x0 < 0.5: (x1 < 0.5: 0, else 2); x0 >= 0.5: 4. On [0, 1]^2 the leaves weigh 1/4, 1/4, 1/2:
  // mean f0 = 2.5, total variance V = 1/4·2.5² + 1/4·0.5² + 1/2·1.5² = 2.75.
  // Marginal of x0: 1 below 0.5, 4 above: V0 = 1/2·1.5² + 1/2·1.5² = 2.25.
  // Marginal of x1: below 0.5 (0 + 4)/2 = 2, above (2 + 4)/2 = 3: V1 = 1/2·0.5² + 1/2·0.5² = 0.25.
  // The remaining 0.25 is the interaction.
  const tree = {
    feature: 0,
    threshold: 0.5,
    left: { feature: 1, threshold: 0.5, left: { value: 0 }, right: { value: 2 } },
    right: { value: 4 },
  };
  const [v0, v1] = treeMainEffects(tree, [
    [0, 1],
    [0, 1],
  ]) as number[];
  close(v0 as number, 2.25 / 2.75);
  close(v1 as number, 0.25 / 2.75);
  // The measure is the range's: the same tree on x0 in [0, 2] puts 3/4 of the space on the right.
  // Leaves weigh 1/8, 1/8, 3/4: f0 = 3.25, V = 1/8·3.25² + 1/8·1.25² + 3/4·0.75² = 1.9375;
  // marginal of x0: 1 on a quarter, 4 on three quarters: V0 = 1/4·2.25² + 3/4·0.75² = 1.6875.
  close(
    treeMainEffects(tree, [
      [0, 2],
      [0, 1],
    ])?.[0] as number,
    1.6875 / 1.9375,
  );
  assert.equal(treeMainEffects({ value: 3 }, [[0, 1]]), undefined, 'a constant tree explains nothing');
});

test('a CART tree splits at the midpoint of the feature that separates the objective', () => {
  const x = [
    [0.1, 5],
    [0.2, 1],
    [0.8, 4],
    [0.9, 2],
  ];
  const y = [1, 1, 3, 3];
  assert.deepEqual(fitTree(x, y, [0, 1, 2, 3]), {
    feature: 0,
    threshold: 0.5,
    left: { value: 1 },
    right: { value: 3 },
  });
});

test('fANOVA finds the one parameter the objective depends on', () => {
  // 40 trials over three parameters in [0, 1]; the objective is a function of x1 alone.
  const rand = rng(7);
  const x = Array.from({ length: 40 }, () => [rand(), rand(), rand()]);
  const bounds: [number, number][] = [
    [0, 1],
    [0, 1],
    [0, 1],
  ];
  // A step in x1: every tree's first split on x1 leaves two pure halves, so each tree is that one
  // split and all of its variance is x1's main effect, exactly.
  const step = x.map((r) => ((r[1] as number) > 0.5 ? 1 : 0));
  assert.deepEqual(fanovaImportance(x, step, bounds, { seed: 1 }), [0, 1, 0]);
  // A smooth function of x1: greedy trees sometimes split on the others deep down (a bootstrap
  // sample's chance), so they get a little; x1 keeps nearly all.
  const bowl = x.map((r) => 10 * ((r[1] as number) - 0.3) ** 2);
  const imp = fanovaImportance(x, bowl, bounds, { seed: 1 }) as number[];
  close(
    imp.reduce((s, v) => s + v, 0),
    1,
    1e-9,
  );
  assert.ok((imp[1] as number) > 0.99 && (imp[0] as number) < 0.01 && (imp[2] as number) < 0.01, String(imp));
  // The same trials and seed give the same numbers (the view recomputes on every update).
  assert.deepEqual(fanovaImportance(x, bowl, bounds, { seed: 1 }), imp);
});

test('importances of a sweep: the parameter the objective follows ranks first, named by key', () => {
  const record = sweepJson();
  record.trials = Array.from({ length: 8 }, (_, n) => ({
    number: n,
    state: 'completed' as const,
    params: { 'training.learning_rate': 10 ** (-5 + (n % 4) * 0.5), 'training.batch_size': n % 2 === 0 ? 8 : 16 },
    dir: `trials/${n}`,
    value: n % 4, // follows the learning rate's index, not the batch size
    intermediate: [],
    rungs: [],
    startedAt: '2025-01-01T12:00:00.000Z',
  }));
  const result = importances(record);
  assert.ok(Array.isArray(result));
  assert.equal(result[0]?.key, 'training.learning_rate');
  assert.ok((result[0]?.importance as number) > 0.9, JSON.stringify(result));
  record.trials = record.trials.slice(0, 2);
  assert.equal(importances(record), 'Importance needs at least 3 completed trials (2 so far).');
});

test('rows, axes and axis values of a sweep.json', () => {
  const record = sweepJson();
  const now = Date.parse('2025-01-01T12:06:00.000Z');
  const rows = trialRows(record, now);
  assert.deepEqual(
    rows.map((r) => [r.number, r.state, r.value, r.durationMs]),
    [
      [0, 'completed', 0.8, 240_000],
      [1, 'pruned', undefined, 60_000],
      [2, 'running', undefined, 60_000],
    ],
  );
  const axes = axesOf(record);
  assert.deepEqual(
    axes.map((a) => [a.key, a.kind, a.domain]),
    [
      ['training.learning_rate', 'log', [-5, -3]],
      ['training.batch_size', 'categorical', [-0.5, 1.5]],
      [OBJECTIVE, 'linear', [0.8 - 0.5, 0.8 + 0.5]], // one value: ±0.5 around it
    ],
  );
  const [lr, batch, objective] = axes as [Axis, Axis, Axis];
  const [r0, r1, r2] = rows as [TrialRow, TrialRow, TrialRow];
  assert.equal(axisValue(lr, r0), -4);
  assert.equal(axisValue(batch, r1), 1);
  assert.equal(axisValue(objective, r2), undefined);
});

test('brushing: a row must lie in every brushed range; no value on a brushed axis is outside', () => {
  const record = sweepJson();
  const rows = trialRows(record, Date.parse('2025-01-01T12:06:00.000Z'));
  const axes = axesOf(record);
  const numbers = (brushes: Parameters<typeof filterRows>[2]) => filterRows(rows, axes, brushes).map((r) => r.number);
  assert.deepEqual(numbers({}), [0, 1, 2]);
  // log10 of the learning rate in [-4.2, -3]: 1e-4 and 3e-4, not 1e-5.
  assert.deepEqual(numbers({ 'training.learning_rate': [-3, -4.2] }), [0, 2]);
  // batch size 8 only (index 0), and the learning-rate brush together.
  assert.deepEqual(numbers({ 'training.learning_rate': [-4.2, -3], 'training.batch_size': [-0.5, 0.5] }), [0, 2]);
  // Only trial 0 has an objective.
  assert.deepEqual(numbers({ [OBJECTIVE]: [0, 1] }), [0]);
});

test('sorting: by any column, both ways, empty cells last', () => {
  const record = sweepJson();
  const rows = trialRows(record, Date.parse('2025-01-01T12:06:00.000Z'));
  const order = (column: string, descending: boolean) => sortRows(rows, { column, descending }).map((r) => r.number);
  assert.deepEqual(order('number', true), [2, 1, 0]);
  assert.deepEqual(order('training.learning_rate', false), [1, 0, 2]);
  assert.deepEqual(order('training.learning_rate', true), [2, 0, 1]);
  assert.deepEqual(order('state', false), [0, 1, 2]);
  assert.deepEqual(order('value', true), [0, 1, 2]);
  assert.deepEqual(order('duration', true), [0, 1, 2]);
});

test('best so far follows the mode', () => {
  const record = sweepJson();
  const first = record.trials[0] as TrialRecord;
  record.trials.push({ ...first, number: 3, value: 0.6 }, { ...first, number: 4, value: 0.9 });
  assert.deepEqual(bestSoFar(record), [
    { number: 0, value: 0.8, best: 0.8 },
    { number: 3, value: 0.6, best: 0.8 },
    { number: 4, value: 0.9, best: 0.9 },
  ]);
  record.settings.mode = 'min';
  assert.deepEqual(
    bestSoFar(record).map((p) => p.best),
    [0.8, 0.6, 0.6],
  );
});
