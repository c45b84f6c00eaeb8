import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CONTEXT_KEYS } from '../../src/extension/ids.js';
import { ChangedOnly, runContext, runningCount } from '../../src/extension/run-context.js';

test('run context keys follow the states of the runs', () => {
  assert.deepEqual(runContext([]), {
    [CONTEXT_KEYS.hasRuns]: false,
    [CONTEXT_KEYS.hasRunningRuns]: false,
    [CONTEXT_KEYS.hasResumableRuns]: false,
    [CONTEXT_KEYS.hasDeletableRuns]: false,
    [CONTEXT_KEYS.hasCompletedRuns]: false,
    [CONTEXT_KEYS.canCompareRuns]: false,
  });
  assert.deepEqual(runContext(['running', 'stopped']), {
    [CONTEXT_KEYS.hasRuns]: true,
    [CONTEXT_KEYS.hasRunningRuns]: true,
    [CONTEXT_KEYS.hasResumableRuns]: true,
    [CONTEXT_KEYS.hasDeletableRuns]: true,
    [CONTEXT_KEYS.hasCompletedRuns]: false,
    [CONTEXT_KEYS.canCompareRuns]: true,
  });
  const queued = runContext(['queued']);
  assert.equal(queued[CONTEXT_KEYS.hasRunningRuns], true);
  assert.equal(queued[CONTEXT_KEYS.canCompareRuns], false);
  assert.equal(runContext(['completed'])[CONTEXT_KEYS.hasCompletedRuns], true);
  assert.equal(runningCount(['running', 'queued', 'running', 'failed']), 2);
});

test('ChangedOnly sends the first value of each key, then only changes', () => {
  const sent: [string, boolean][] = [];
  const keys = new ChangedOnly<boolean>((key, value) => sent.push([key, value]));
  assert.equal(keys.set('a', false), true);
  assert.equal(keys.set('b', true), true);
  assert.equal(keys.set('a', false), false);
  assert.equal(keys.set('b', true), false);
  assert.equal(keys.set('a', true), true);
  assert.equal(keys.set('a', true), false);
  assert.deepEqual(sent, [
    ['a', false],
    ['b', true],
    ['a', true],
  ]);
});

test('ChangedOnly: many reads of a running run send nothing after the first', () => {
  let sends = 0;
  const keys = new ChangedOnly<boolean>(() => sends++);
  const badge = new ChangedOnly<number>(() => sends++);
  for (let i = 0; i < 50; i++) {
    const states = ['running', 'completed'] as const;
    for (const [k, v] of Object.entries(runContext(states))) keys.set(k, v);
    badge.set('running', runningCount(states));
  }
  assert.equal(sends, 7);
});
