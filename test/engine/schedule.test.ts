import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  learningRate,
  lrMultiplier,
  type ScheduleConfig,
  type SchedulerName,
  warmupStepsOf,
} from '../../src/engine/optim/schedule.js';

// Expected multipliers of Hugging Face's get_{linear,cosine,constant}_schedule_with_warmup for
// num_training_steps T = 10 and num_warmup_steps w = 3, at steps 0..10, worked out by hand:
//   warmup (step < 3):  step / 3                              -> 0, 1/3, 2/3
//   linear:             (10 - step) / 7                       -> 7/7, 6/7, ..., 0/7
//   cosine (0.5 cycle): 0.5 * (1 + cos(pi * (step - 3) / 7))  -> cos(k*pi/7) for k = 0..7:
//                       1, 0.9009688679024191, 0.6234898018587335, 0.2225209339563144, and their negatives
//   constant:           1
const EXPECTED: Record<SchedulerName, number[]> = {
  linear: [
    0, 0.3333333333333333, 0.6666666666666666, 1, 0.8571428571428571, 0.7142857142857143, 0.5714285714285714,
    0.42857142857142855, 0.2857142857142857, 0.14285714285714285, 0,
  ],
  cosine: [
    0, 0.3333333333333333, 0.6666666666666666, 1, 0.9504844339512095, 0.8117449009293668, 0.6112604669781572,
    0.3887395330218428, 0.1882550990706332, 0.04951556604879045, 0,
  ],
  constant: [0, 0.3333333333333333, 0.6666666666666666, 1, 1, 1, 1, 1, 1, 1, 1],
};

const near = (got: number, want: number, what: string) =>
  assert.ok(Math.abs(got - want) <= 1e-12, `${what}: got ${got}, expected ${want}`);

for (const scheduler of ['linear', 'cosine', 'constant'] as const) {
  test(`${scheduler} schedule with 3 warmup steps of 10 matches Hugging Face at steps 0..10`, () => {
    const cfg: ScheduleConfig = { scheduler, baseLr: 2e-5, totalSteps: 10, warmupSteps: 3 };
    assert.equal(warmupStepsOf(cfg), 3);
    const want = EXPECTED[scheduler];
    for (let step = 0; step <= 10; step++) {
      const w = want[step] as number;
      near(lrMultiplier(cfg, step), w, `${scheduler} multiplier at step ${step}`);
      near(learningRate(cfg, step), 2e-5 * w, `${scheduler} lr at step ${step}`);
    }
    // Never negative, and the first update takes a zero step, as in Hugging Face.
    assert.equal(lrMultiplier(cfg, 0), 0);
    for (let step = 0; step <= 10; step++) assert.ok(lrMultiplier(cfg, step) >= 0);
  });
}

test('cosine honours num_cycles: a full cycle (1.0) comes back up to 1 at the end', () => {
  const cfg: ScheduleConfig = { scheduler: 'cosine', baseLr: 1, totalSteps: 10, warmupSteps: 2, numCycles: 1 };
  // progress = (step - 2) / 8; 0.5 * (1 + cos(2 pi progress)).
  near(lrMultiplier(cfg, 2), 1, 'start');
  near(lrMultiplier(cfg, 4), 0.5, 'quarter');
  near(lrMultiplier(cfg, 6), 0, 'half');
  near(lrMultiplier(cfg, 8), 0.5, 'three quarters');
  near(lrMultiplier(cfg, 10), 1, 'end');
});

test('no warmup: linear starts at the full rate and decays to zero; constant stays at 1', () => {
  const linear: ScheduleConfig = { scheduler: 'linear', baseLr: 1e-3, totalSteps: 4 };
  assert.equal(warmupStepsOf(linear), 0);
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5].map((s) => lrMultiplier(linear, s)),
    [1, 0.75, 0.5, 0.25, 0, 0],
  );
  const constant: ScheduleConfig = { scheduler: 'constant', baseLr: 1e-3, totalSteps: 4, warmupSteps: 0 };
  assert.deepEqual(
    [0, 1, 4].map((s) => learningRate(constant, s)),
    [1e-3, 1e-3, 1e-3],
  );
});

test('warmup_ratio 0.1 of 25 steps gives ceil(2.5) = 3 warmup steps', () => {
  const cfg: ScheduleConfig = { scheduler: 'linear', baseLr: 1e-2, totalSteps: 25, warmupRatio: 0.1 };
  assert.equal(warmupStepsOf(cfg), 3);
  near(lrMultiplier(cfg, 0), 0, 'step 0');
  near(lrMultiplier(cfg, 1), 1 / 3, 'step 1');
  near(lrMultiplier(cfg, 2), 2 / 3, 'step 2');
  near(lrMultiplier(cfg, 3), 1, 'step 3'); // (25 - 3) / (25 - 3)
  near(lrMultiplier(cfg, 14), 0.5, 'step 14'); // (25 - 14) / 22
  near(lrMultiplier(cfg, 25), 0, 'step 25');
  // Other ratios round up the same way; a ratio of 0 means no warmup.
  assert.equal(warmupStepsOf({ ...cfg, warmupRatio: 0.25, totalSteps: 10 }), 3);
  assert.equal(warmupStepsOf({ ...cfg, warmupRatio: 0.2, totalSteps: 10 }), 2);
  assert.equal(warmupStepsOf({ ...cfg, warmupRatio: 0 }), 0);
});

test('setting both warmup_steps and warmup_ratio is an error', () => {
  const cfg: ScheduleConfig = { scheduler: 'linear', baseLr: 1e-2, totalSteps: 25, warmupSteps: 3, warmupRatio: 0.1 };
  assert.throws(() => warmupStepsOf(cfg), /warmup_steps or warmup_ratio, not both/);
  assert.throws(() => lrMultiplier(cfg, 5), /not both/);
  assert.throws(() => learningRate(cfg, 5), /not both/);
});
