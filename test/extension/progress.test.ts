import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type EventsSummary, emptySummary } from '../../src/extension/runs/events.js';
import {
  describeRun,
  estimateEta,
  formatDuration,
  formatNumber,
  percentDone,
  type RunProgress,
  reasonHeadline,
} from '../../src/extension/runs/progress.js';
import type { RunStatus } from '../../src/shared/run-directory.js';

test('estimateEta from the recent step rate', () => {
  // 10 steps in 20 s: 2 s a step; 880 steps left.
  const points = [
    { step: 10, t: 0 },
    { step: 20, t: 20_000 },
  ];
  assert.equal(estimateEta(points, 20, 900), 880 * 2000);
  assert.equal(estimateEta(points, 900, 900), 0);
  assert.equal(estimateEta(points.slice(0, 1), 10, 900), undefined, 'one point gives no rate');
  assert.equal(estimateEta([], 0, 900), undefined);
  assert.equal(estimateEta(points, 20, 0), undefined, 'unknown total');
  assert.equal(
    estimateEta(
      [
        { step: 5, t: 10 },
        { step: 5, t: 20 },
      ],
      5,
      10,
    ),
    undefined,
    'no progress',
  );
});

test('formatDuration', () => {
  assert.equal(formatDuration(0), '0s');
  assert.equal(formatDuration(45_000), '45s');
  assert.equal(formatDuration(190_000), '3m 10s');
  assert.equal(formatDuration(3_900_000), '1h 05m');
  assert.equal(formatDuration(2 * 86_400_000 + 3 * 3_600_000), '2d 3h');
  assert.equal(formatDuration(-1), '?');
  assert.equal(formatDuration(Number.NaN), '?');
});

test('formatNumber', () => {
  assert.equal(formatNumber(0.41234), '0.412');
  assert.equal(formatNumber(0), '0.000');
  assert.equal(formatNumber(123.45), '123.5');
  assert.equal(formatNumber(0.00002), '2.00e-5');
  assert.equal(formatNumber(Number.NaN), 'NaN');
});

function progress(
  state: RunProgress['state'],
  status: Partial<RunStatus>,
  events: Partial<EventsSummary> = {},
  extra: Partial<RunProgress> = {},
): RunProgress {
  const full: RunStatus = {
    state,
    pid: 1,
    startedAt: '2025-01-01T10:00:00.000Z',
    updatedAt: '2025-01-01T10:12:03.000Z',
    step: 0,
    totalSteps: 900,
    epoch: 0,
    ...status,
  };
  return { state, status: full, events: { ...emptySummary(), ...events }, ...extra };
}

test('describeRun: running, with step, loss and ETA', () => {
  const lastStep = { type: 'step' as const, step: 120, epoch: 0, loss: 0.41234, lr: 1e-5, tokensPerSec: 1, t: 0 };
  assert.equal(
    describeRun(progress('running', { step: 118 }, { lastStep }, { eta: 190_000 })),
    'step 120/900 · loss 0.412 · ETA 3m 10s',
  );
  assert.equal(describeRun(progress('running', { step: 0 })), 'starting');
});

test('describeRun: the other states', () => {
  assert.equal(describeRun(progress('queued', {})), 'queued');
  assert.equal(describeRun(progress('queued', {}, {}, { reason: 'starting' })), 'starting');
  assert.equal(
    describeRun(progress('completed', { step: 900, best: { metric: 'f1', value: 0.9123, step: 800 } })),
    'completed · f1 0.912 · 12m 3s',
  );
  assert.equal(
    describeRun(progress('failed', { step: 120 }, {}, { reason: 'The engine died.\nline 1\nRangeError: bad shape' })),
    'failed at step 120 · RangeError: bad shape',
  );
  assert.equal(describeRun(progress('failed', {})), 'failed');
  assert.equal(describeRun(progress('stopped', { step: 300 })), 'stopped at step 300/900');
});

test('reasonHeadline takes the last non-empty line and shortens it', () => {
  assert.equal(reasonHeadline('a\nb\n\n'), 'b');
  assert.equal(reasonHeadline(undefined), undefined);
  assert.equal(reasonHeadline('x'.repeat(100), 10), `${'x'.repeat(9)}…`);
});

test('percentDone', () => {
  assert.equal(percentDone(progress('running', { step: 450 })), 50);
  assert.equal(percentDone(progress('running', { step: 10, totalSteps: 0 })), 0);
  assert.equal(percentDone(progress('running', { step: 1000 })), 100);
});
