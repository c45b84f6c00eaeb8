import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ashaPrune, estimateMinResource, medianPrune, nanPercentile } from '../../../src/engine/sweep/pruners.js';
import type { TrialRecord } from '../../../src/engine/sweep/state.js';

/** Decisions worked by hand from Optuna's rules (optuna/pruners/_percentile.py, _successive_halving.py). */
function trial(
  number: number,
  state: TrialRecord['state'],
  curve: [number, number][],
  rungs: number[] = [],
): TrialRecord {
  return {
    number,
    state,
    params: {},
    dir: `trials/${number}`,
    intermediate: curve.map(([step, value]) => ({ step, value })),
    rungs,
    startedAt: '',
  };
}

const MEDIAN = { nStartupTrials: 2, nWarmupSteps: 0, intervalSteps: 1 };
const done = [
  trial(0, 'completed', [
    [8, 0.6],
    [16, 0.7],
    [24, 0.8],
  ]),
  trial(1, 'completed', [
    [8, 0.5],
    [16, 0.8],
    [24, 0.9],
  ]),
  trial(2, 'completed', [
    [8, 0.7],
    [16, 0.9],
  ]),
];
const curve = (points: [number, number][]) => trial(9, 'running', points).intermediate;

test('median: the best value so far against the median of the completed trials at the same step', () => {
  // Step 8: completed values 0.6, 0.5, 0.7 → median 0.6. (max)
  assert.equal(medianPrune(curve([[8, 0.55]]), done, MEDIAN, 'max'), true);
  assert.equal(medianPrune(curve([[8, 0.6]]), done, MEDIAN, 'max'), false, 'equal to the median goes on');
  // Step 16: values 0.7, 0.8, 0.9 → median 0.8; the trial's best so far is 0.85 (at step 8).
  assert.equal(
    medianPrune(
      curve([
        [8, 0.85],
        [16, 0.75],
      ]),
      done,
      MEDIAN,
      'max',
    ),
    false,
  );
  assert.equal(
    medianPrune(
      curve([
        [8, 0.6],
        [16, 0.75],
      ]),
      done,
      MEDIAN,
      'max',
    ),
    true,
  );
  // Step 24: only two completed trials reached it: median of 0.8 and 0.9 = 0.85 (linear interpolation).
  assert.equal(medianPrune(curve([[24, 0.84]]), done, MEDIAN, 'max'), true);
  // min mode: lower is better; step 8 median 0.6, best so far 0.55 → goes on; 0.65 → pruned.
  assert.equal(medianPrune(curve([[8, 0.55]]), done, MEDIAN, 'min'), false);
  assert.equal(medianPrune(curve([[8, 0.65]]), done, MEDIAN, 'min'), true);
  // A step no completed trial reported: nothing to compare with.
  assert.equal(medianPrune(curve([[12, 0.1]]), done, MEDIAN, 'max'), false);
  // All NaN so far: pruned.
  assert.equal(medianPrune(curve([[8, Number.NaN]]), done, MEDIAN, 'max'), true);
});

test('median: n_startup_trials, n_warmup_steps and interval_steps hold pruning back', () => {
  assert.equal(medianPrune(curve([[8, 0.1]]), done.slice(0, 1), MEDIAN, 'max'), false, 'one completed trial of 2');
  assert.equal(medianPrune(curve([[8, 0.1]]), done, { ...MEDIAN, nWarmupSteps: 10 }, 'max'), false, 'in the warmup');
  // interval 16 from warmup 0: pruning steps 0, 16, 32…; a report at 24 after one at 16 is not the first in its interval.
  const interval = { ...MEDIAN, intervalSteps: 16 };
  assert.equal(
    medianPrune(
      curve([
        [16, 0.1],
        [24, 0.1],
      ]),
      done,
      interval,
      'max',
    ),
    false,
  );
  assert.equal(
    medianPrune(
      curve([
        [8, 0.1],
        [16, 0.1],
      ]),
      done,
      interval,
      'max',
    ),
    true,
  );
  assert.equal(nanPercentile([3, 1, Number.NaN, 2], 50), 2);
  assert.equal(nanPercentile([1, 2, 3, 4], 50), 2.5);
});

test('ASHA: at each rung min_resource·η^k, only the top 1/η of the values recorded there go on', () => {
  const s = { minResource: 4, reductionFactor: 2, minEarlyStoppingRate: 0 };
  // Rung 0 at step 4: the first trial there competes with itself only and goes on.
  const a = trial(0, 'running', [[4, 0.5]]);
  assert.equal(ashaPrune(a, [a], s, 'max'), false);
  assert.deepEqual(a.rungs, [0.5]);
  // Before the next rung (step 8) nothing is decided.
  a.intermediate.push({ step: 6, value: 0.1 });
  assert.equal(ashaPrune(a, [a], s, 'max'), false);
  // Four trials at rung 0 with 0.5, 0.7, 0.3 and now 0.6: 4 // 2 − 1 = index 1 from the top, 0.6 ≥ 0.6 goes on.
  const others = [a, trial(1, 'completed', [], [0.7, 0.8]), trial(2, 'pruned', [], [0.3])];
  const d = trial(3, 'running', [[4, 0.6]]);
  assert.equal(ashaPrune(d, [...others, d], s, 'max'), false);
  // 0.55 against 0.5, 0.7, 0.3, 0.55: second best is 0.55 → on; 0.4 → pruned.
  assert.equal(ashaPrune(trial(4, 'running', [[4, 0.55]]), others, s, 'max'), false);
  const e = trial(5, 'running', [[4, 0.4]]);
  assert.equal(ashaPrune(e, [...others, d, e], s, 'max'), true);
  assert.deepEqual(e.rungs, [0.4], 'the value is recorded at the rung where it was judged');
  // A report past two rungs is judged at each in turn (step 9 ≥ 4 and ≥ 8).
  const f = trial(6, 'running', [[9, 0.75]]);
  assert.equal(ashaPrune(f, [...others, f], s, 'max'), true, '0.75 < 0.8, the only other value at rung 1');
  assert.deepEqual(f.rungs, [0.75, 0.75]);
});

test("ASHA's min_resource 'auto': a hundredth of the longest completed trial, at least 1", () => {
  assert.equal(estimateMinResource([trial(0, 'running', [[500, 1]])]), undefined);
  assert.equal(estimateMinResource([trial(0, 'completed', [[48, 1]])]), 1);
  assert.equal(estimateMinResource([trial(0, 'completed', [[250, 1]]), trial(1, 'completed', [[990, 1]])]), 9);
});
