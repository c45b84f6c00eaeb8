import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  allows,
  canTransition,
  contextValue,
  effectiveState,
  isActive,
  RUN_STATES,
} from '../../src/extension/runs/run-state.js';
import { isPidAlive } from '../../src/shared/node/run-claims.js';
import type { RunState, RunStatus } from '../../src/shared/run-directory.js';
import { deadPid } from './helpers.js';

function status(state: RunState, pid: number, extra: Partial<RunStatus> = {}): RunStatus {
  const now = new Date().toISOString();
  return { state, pid, startedAt: now, updatedAt: now, step: 0, totalSteps: 100, epoch: 0, ...extra };
}

test('transitions: the engine path, resume, and completed as terminal', () => {
  assert.ok(canTransition('queued', 'running'));
  assert.ok(canTransition('running', 'completed'));
  assert.ok(canTransition('running', 'failed'));
  assert.ok(canTransition('running', 'stopped'));
  assert.ok(canTransition('stopped', 'queued'));
  assert.ok(canTransition('failed', 'running'));
  for (const to of RUN_STATES)
    if (to !== 'completed') assert.equal(canTransition('completed', to), false, `completed -> ${to}`);
  assert.equal(canTransition('queued', 'completed'), false);
  assert.equal(canTransition('stopped', 'completed'), false);
  for (const s of RUN_STATES) assert.ok(canTransition(s, s), `${s} -> ${s}`);
  // What the run manager writes itself: queueing a resume, re-adopting the queue after a reload,
  // a stop while queued, a queued run that could not start, a launched engine that died.
  for (const [from, to] of [
    ['stopped', 'queued'],
    ['failed', 'queued'],
    ['queued', 'queued'],
    ['queued', 'stopped'],
    ['queued', 'failed'],
    ['running', 'failed'],
  ] as const)
    assert.ok(canTransition(from, to), `${from} -> ${to}`);
  assert.equal(canTransition('completed', 'queued'), false);
  assert.equal(canTransition('completed', 'failed'), false);
});

test('actions per state: stop only when active, resume only when stopped or failed, delete when not running', () => {
  const table = Object.fromEntries(
    RUN_STATES.map((s) => [s, (['stop', 'resume', 'delete', 'export'] as const).filter((a) => allows(s, a))]),
  );
  assert.deepEqual(table, {
    queued: ['stop', 'delete'],
    running: ['stop'],
    completed: ['delete', 'export'],
    failed: ['resume', 'delete'],
    stopped: ['resume', 'delete'],
    cancelled: ['resume', 'delete'],
  });
  assert.ok(RUN_STATES.every((s) => allows(s, 'open') && allows(s, 'log')));
  assert.equal(contextValue('running'), 'run.running');
  assert.deepEqual(RUN_STATES.filter(isActive), ['queued', 'running']);
});

test('effectiveState: a live engine keeps its state', () => {
  const eff = effectiveState({ status: status('running', 42), isAlive: () => true, logTail: [] });
  assert.deepEqual(eff, { state: 'running', died: false });
});

test('effectiveState: running with a dead pid is failed, with the last log lines as the reason', () => {
  const eff = effectiveState({
    status: status('running', 42),
    isAlive: () => false,
    logTail: ['step 10 loss 0.5', 'Error: out of memory'],
  });
  assert.equal(eff.state, 'failed');
  assert.equal(eff.died, true);
  assert.match(eff.reason ?? '', /pid 42.*without writing a final state/);
  assert.match(eff.reason ?? '', /Error: out of memory$/);
});

test('effectiveState: a cluster job is judged by its synced state, never by a pid of another host', () => {
  const queued = { ...status('queued', 42), reason: 'Priority', job: { scheduler: 'slurm' as const, id: '17' } };
  const eff = effectiveState({ status: queued, isAlive: () => false, logTail: [] });
  assert.deepEqual(eff, { state: 'queued', reason: 'Priority', died: false });
});

test('effectiveState: final states are kept whatever the pid, with the engine reason', () => {
  const eff = effectiveState({
    status: status('failed', 42, { reason: 'NaN loss' }),
    isAlive: () => false,
    logTail: [],
  });
  assert.deepEqual(eff, { state: 'failed', reason: 'NaN loss', died: false });
  assert.equal(
    effectiveState({ status: status('completed', 1), isAlive: () => false, logTail: [] }).state,
    'completed',
  );
});

test('effectiveState: no status.json yet', () => {
  // An engine this window just launched: starting.
  assert.deepEqual(effectiveState({ status: undefined, isAlive: () => true, launchedPid: 7, logTail: [] }), {
    state: 'queued',
    reason: 'starting',
    died: false,
  });
  // ... that exited before writing it: failed, died.
  const died = effectiveState({ status: undefined, isAlive: () => false, launchedPid: 7, logTail: ['boom'] });
  assert.equal(died.state, 'failed');
  assert.equal(died.died, true);
  assert.match(died.reason ?? '', /pid 7\) exited before writing status\.json.*\nboom$/s);
  // A folder nobody is known to be writing: failed, saying what is missing.
  const orphan = effectiveState({
    status: undefined,
    statusError: 'status.json is not valid JSON (x).',
    isAlive: () => true,
    logTail: [],
  });
  assert.equal(orphan.state, 'failed');
  assert.equal(orphan.reason, 'status.json is not valid JSON (x).');
});

test('isPidAlive: this process is, an exited one and nonsense pids are not', () => {
  assert.equal(isPidAlive(process.pid), true);
  assert.equal(isPidAlive(deadPid()), false);
  assert.equal(isPidAlive(0), false);
  assert.equal(isPidAlive(-1), false);
  assert.equal(isPidAlive(1.5), false);
});
