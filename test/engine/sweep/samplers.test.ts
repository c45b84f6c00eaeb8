import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gridPoint, suggest } from '../../../src/engine/sweep/samplers.js';
import type { TrialRecord } from '../../../src/engine/sweep/state.js';
import { defaultGamma, splitTrials, tpeSuggest } from '../../../src/engine/sweep/tpe.js';
import type { ResolvedSweepConfig, SweepParameter } from '../../../src/shared/config-sweep.js';
import { applyDefaults } from '../../../src/shared/config-validate.js';
import { rng } from '../helpers/random.js';

const SPACE: SweepParameter[] = [
  { key: 'training.learning_rate', type: 'loguniform', low: 1e-5, high: 1e-2 },
  { key: 'training.batch_size', type: 'choice', values: [8, 16, 32] },
  { key: 'training.epochs', type: 'int', low: 1, high: 9, step: 2 },
  { key: 'training.warmup_ratio', type: 'uniform', low: 0, high: 0.5 },
];

/** The sweep block as the engine gets it (applyDefaults fills in Optuna's defaults). */
function settings(sweep: Record<string, unknown>): ResolvedSweepConfig {
  const config = applyDefaults({
    model: 'm',
    task: 'text-classification',
    data: { train: 't.jsonl', validation: 'v.jsonl' },
    eval: { metrics: ['accuracy'] },
    sweep,
  });
  return config.sweep as ResolvedSweepConfig;
}

function trial(
  number: number,
  state: TrialRecord['state'],
  value: number | undefined,
  curve: [number, number][] = [],
): TrialRecord {
  return {
    number,
    state,
    params: { 'training.learning_rate': 1e-4 * (number + 1) },
    dir: `trials/${number}`,
    ...(value === undefined ? {} : { value }),
    intermediate: curve.map(([step, v]) => ({ step, value: v })),
    rungs: [],
    startedAt: '',
  };
}

test('grid: every combination exactly once, in itertools.product order; max_trials defaults to the grid size', () => {
  const grid: SweepParameter[] = [
    { key: 'training.learning_rate', type: 'grid', values: [1e-4, 1e-3] },
    { key: 'training.batch_size', type: 'grid', values: [8, 16, 32] },
  ];
  const s = settings({ strategy: 'grid', parameters: grid });
  assert.equal(s.max_trials, 6);
  const points = Array.from({ length: 6 }, (_, n) => suggest(s, n, []));
  assert.deepEqual(points[0], { 'training.learning_rate': 1e-4, 'training.batch_size': 8 });
  assert.deepEqual(points[1], { 'training.learning_rate': 1e-4, 'training.batch_size': 16 });
  assert.deepEqual(points[3], { 'training.learning_rate': 1e-3, 'training.batch_size': 8 });
  const seen = new Set(points.map((p) => JSON.stringify(p)));
  assert.equal(seen.size, 6, 'no combination twice');
  for (const lr of [1e-4, 1e-3])
    for (const bs of [8, 16, 32])
      assert.ok(seen.has(JSON.stringify({ 'training.learning_rate': lr, 'training.batch_size': bs })));
  assert.deepEqual(gridPoint(grid, 5), { 'training.learning_rate': 1e-3, 'training.batch_size': 32 });
});

test('random: the same seed gives the same trials, another seed others; values in range and on the step grid', () => {
  const a = settings({ strategy: 'random', seed: 7, parameters: SPACE });
  const b = settings({ strategy: 'random', seed: 8, parameters: SPACE });
  const run = (s: ResolvedSweepConfig) => Array.from({ length: 20 }, (_, n) => suggest(s, n, []));
  assert.deepEqual(run(a), run(a));
  assert.notDeepEqual(run(a), run(b));
  for (const p of run(a)) {
    const lr = p['training.learning_rate'] as number;
    assert.ok(lr >= 1e-5 && lr <= 1e-2, `${lr}`);
    assert.ok([8, 16, 32].includes(p['training.batch_size'] as number));
    const epochs = p['training.epochs'] as number;
    assert.ok([1, 3, 5, 7, 9].includes(epochs), `${epochs} on the step grid`);
    const w = p['training.warmup_ratio'] as number;
    assert.ok(w >= 0 && w <= 0.5);
  }
  // Trial n's draw does not depend on the trials before it (so a resumed sweep draws the same).
  assert.deepEqual(suggest(a, 13, []), run(a)[13]);
});

test("Optuna's default_gamma: ceil(n / 10), at most 25", () => {
  assert.deepEqual([0, 1, 10, 11, 24, 250, 251, 1000].map(defaultGamma), [0, 1, 1, 2, 3, 25, 25, 25]);
});

test('TPE split: completed trials by objective first, then pruned ones by the step reached and their last value', () => {
  const trials = [
    trial(0, 'completed', 0.7),
    trial(1, 'pruned', undefined, [
      [8, 0.9],
      [16, 0.6],
    ]),
    trial(2, 'completed', 0.9),
    trial(3, 'pruned', undefined, [[8, 0.95]]),
    trial(4, 'pruned', undefined, [
      [8, 0.5],
      [16, 0.65],
    ]),
  ];
  const ids = (ts: TrialRecord[]) => ts.map((t) => t.number);
  // max: the best completed (2, then 0); then the pruned that got furthest (4 with 0.65 beats 1 with 0.6 at step 16).
  assert.deepEqual(ids(splitTrials(trials, 1, 'max').below), [2]);
  assert.deepEqual(ids(splitTrials(trials, 3, 'max').below), [0, 2, 4]);
  assert.deepEqual(ids(splitTrials(trials, 4, 'max').below), [0, 1, 2, 4]);
  assert.deepEqual(ids(splitTrials(trials, 4, 'max').above), [3]);
  // min: 0 is the best completed; among pruned at step 16, 1 (0.6) beats 4 (0.65).
  assert.deepEqual(ids(splitTrials(trials, 3, 'min').below), [0, 1, 2]);
});

test('TPE: random for the first n_startup_trials finished trials, then reproducible from the seed and the history', () => {
  const s = settings({ strategy: 'tpe', seed: 3, tpe: { n_startup_trials: 3 }, parameters: SPACE });
  const r = settings({ strategy: 'random', seed: 3, parameters: SPACE });
  const history = [trial(0, 'completed', 0.6), trial(1, 'running', undefined), trial(2, 'completed', 0.8)];
  // Two finished trials (a running one does not count): still the random sampler's draw.
  assert.deepEqual(suggest(s, 3, history), suggest(r, 3, history));
  const more = [
    ...history.filter((t) => t.state !== 'running'),
    trial(3, 'completed', 0.7),
    trial(4, 'failed', undefined),
  ];
  const tpe = suggest(s, 5, more);
  assert.deepEqual(suggest(s, 5, more), tpe);
  assert.notDeepEqual(tpe, suggest(r, 5, more));
  // A parameter the history never saw is drawn from the prior alone, still inside its range.
  const lr = tpe['training.learning_rate'] as number;
  assert.ok(lr >= 1e-5 && lr <= 1e-2);
  // With one good trial far from the bad ones, TPE proposes values near the good one.
  const space: SweepParameter[] = [{ key: 'training.learning_rate', type: 'uniform', low: 0, high: 1 }];
  const curve = [0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.9].map((x, n) => ({
    ...trial(n, 'completed', x > 0.8 ? 1 : 0),
    params: { 'training.learning_rate': x },
  }));
  const picks = Array.from({ length: 10 }, (_, i) =>
    tpeSuggest(space, curve, 'max', { nStartupTrials: 10, nEiCandidates: 24, priorWeight: 1 }, rng(i)),
  ).map((p) => p['training.learning_rate'] as number);
  assert.ok(
    picks.every((x) => x > 0.6),
    `picks near 0.9: ${picks.join(', ')}`,
  );
});
