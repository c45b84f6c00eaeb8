import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunEvent, RunStatus } from '../../src/shared/run-directory.js';
import { formatDuration, formatTick } from '../../src/webview/format.js';
import { appendEvents, metricSummary, newRunData, summarize } from '../../src/webview/run-data.js';

const T0 = 1_700_000_000_000;
const step = (s: number, loss = 1 / s, t = T0 + s * 1000): RunEvent => ({
  type: 'step',
  step: s,
  epoch: s / 10,
  loss,
  lr: 1e-5,
  tokensPerSec: 500,
  t,
});
const evalAt = (s: number, metrics: Record<string, number>): RunEvent => ({
  type: 'eval',
  step: s,
  metrics,
  t: T0 + s * 1000 + 1,
});
const status = (fields: Partial<RunStatus>): RunStatus => ({
  state: 'running',
  pid: 1,
  startedAt: new Date(T0).toISOString(),
  updatedAt: new Date(T0).toISOString(),
  step: 0,
  totalSteps: 100,
  epoch: 0,
  ...fields,
});

test('step events become columns for every x axis', () => {
  const run = newRunData({ id: 'r', dir: '/r' });
  const changes = appendEvents(run, [step(1), step(2), step(3)]);
  assert.equal(changes.train, true);
  assert.deepEqual(run.train.step, [1, 2, 3]);
  assert.deepEqual(run.train.epoch, [0.1, 0.2, 0.3]);
  assert.deepEqual(run.train.relative, [0, 1, 2]);
  assert.deepEqual(run.train.wall, [(T0 + 1000) / 1000, (T0 + 2000) / 1000, (T0 + 3000) / 1000]);
  assert.deepEqual(run.train.loss, [1, 0.5, 1 / 3]);
});

test('a non-finite loss is a gap, not a point', () => {
  const run = newRunData({ id: 'r', dir: '/r' });
  appendEvents(run, [step(1, Number.NaN), step(2, 0.5)]);
  assert.deepEqual(run.train.loss, [null, 0.5]);
});

test('evaluations: one column per metric, aligned, with the epoch of the step before', () => {
  const run = newRunData({ id: 'r', dir: '/r' });
  appendEvents(run, [step(10), evalAt(10, { loss: 0.9, accuracy: 0.6 }), step(20), evalAt(20, { loss: 0.7, f1: 0.5 })]);
  assert.deepEqual(run.evals.step, [10, 20]);
  assert.deepEqual(run.evals.epoch, [1, 2]);
  assert.deepEqual(run.evals.metrics.get('loss'), [0.9, 0.7]);
  assert.deepEqual(run.evals.metrics.get('accuracy'), [0.6, null]);
  assert.deepEqual(run.evals.metrics.get('f1'), [null, 0.5]);
  assert.deepEqual(metricSummary(run, 'loss'), { best: 0.7, bestStep: 20, last: 0.7 });
  assert.deepEqual(metricSummary(run, 'accuracy'), { best: 0.6, bestStep: 10, last: 0.6 });
});

test('steps repeated after a resume replace the ones after the checkpoint', () => {
  const run = newRunData({ id: 'r', dir: '/r' });
  appendEvents(
    run,
    [1, 2, 3, 4, 5].map((s) => step(s)),
  );
  appendEvents(run, [evalAt(4, { loss: 1 })]);
  const changes = appendEvents(run, [step(4, 0.01, T0 + 60_000), step(5, 0.02, T0 + 61_000)]);
  assert.equal(changes.reset, true);
  assert.equal(run.generation, 1);
  assert.deepEqual(run.train.step, [1, 2, 3, 4, 5]);
  assert.deepEqual(run.train.loss.slice(3), [0.01, 0.02]);
  assert.deepEqual(run.evals.step, [4], 'the evaluation at the checkpoint step stays');
});

test('log lines are kept; the device comes from the engine line that names it', () => {
  const run = newRunData({ id: 'r', dir: '/r', config: { device: 'auto' } });
  assert.equal(summarize(run, T0).device, 'auto (configured)');
  const changes = appendEvents(run, [
    { type: 'log', level: 'info', message: 'onnxruntime: using cuda (auto: CUDA provider installed)', t: T0 },
  ]);
  assert.equal(changes.logs, true);
  assert.equal(run.logs.length, 1);
  assert.equal(summarize(run, T0).device, 'cuda');
});

test('throughput is the recent mean; the ETA follows the recent pace and grows while the run stalls', () => {
  const run = newRunData({ id: 'r', dir: '/r', status: status({ step: 10, totalSteps: 100 }) });
  appendEvents(
    run,
    Array.from({ length: 10 }, (_, i) => step(i + 1)),
  );
  const now = T0 + 10_000;
  const s = summarize(run, now);
  assert.equal(s.tokensPerSec, 500);
  assert.equal(s.progress, 0.1);
  assert.equal(s.etaSeconds, 90, '90 steps left at one step a second');
  assert.equal(summarize(run, now + 5000).etaSeconds, 85);
  assert.equal(summarize(run, now + 120_000).etaSeconds, undefined, 'overdue: no estimate');
  assert.equal(summarize(run, now).step, 10);
  run.info = { ...run.info, status: status({ state: 'completed', step: 100 }) };
  assert.equal(summarize(run, now).etaSeconds, undefined, 'no ETA for a run that is not running');
});

test('durations read short', () => {
  assert.equal(formatDuration(42.4), '42s');
  assert.equal(formatDuration(245), '4m 05s');
  assert.equal(formatDuration(7380), '2h 03m');
});

test('axis ticks get the digits their spacing needs', () => {
  assert.deepEqual(
    [2e-5, 1.995e-5, 1.99e-5].map((v) => formatTick(v, 5e-8)),
    ['2.000e-5', '1.995e-5', '1.990e-5'],
  );
  assert.deepEqual(
    [0, 0.5, 1, 1.5].map((v) => formatTick(v, 0.5)),
    ['0', '0.5', '1.0', '1.5'],
  );
  assert.deepEqual(
    [100, 200].map((v) => formatTick(v, 100)),
    ['100', '200'],
  );
  assert.equal(formatTick(2e-5, 5e-6), '2.0e-5');
});

test("samples events are kept per evaluation; a resumed run's repeated evaluation replaces them", () => {
  const run = newRunData({ id: 'r', dir: '/r' });
  const samples = (step: number, prediction: string): RunEvent => ({
    type: 'samples',
    step,
    samples: [{ source: 'a b', reference: 'B A', prediction }],
    t: 1000 + step,
  });
  const changes = appendEvents(run, [samples(10, 'x'), samples(20, 'y')]);
  assert.equal(changes.evals, true);
  assert.deepEqual(
    run.samples.map((s) => [s.step, s.samples[0]?.prediction]),
    [
      [10, 'x'],
      [20, 'y'],
    ],
  );
  // Resumed from step 15: its evaluation at 20 comes again.
  appendEvents(run, [samples(20, 'z')]);
  assert.deepEqual(
    run.samples.map((s) => [s.step, s.samples[0]?.prediction]),
    [
      [10, 'x'],
      [20, 'z'],
    ],
  );
});
