import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  describeLock,
  FOREIGN_SILENCE_MS,
  judgeLock,
  type LockFacts,
  parseRunLock,
  type RunLock,
  UNREADABLE_GRACE_MS,
} from '../../src/shared/run-lock.js';

const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();
const lock = (fields: Partial<RunLock> = {}): RunLock => ({
  pid: 4242,
  host: 'here',
  startedAt: iso(NOW - 60_000),
  command: 'resume',
  ...fields,
});
const facts = (fields: Partial<LockFacts> = {}): LockFacts => ({
  host: 'here',
  isAlive: () => true,
  now: NOW,
  bootTime: NOW - 86_400_000,
  lastActivity: NOW - 1_000,
  ...fields,
});

test('parseRunLock: pid, host and time; anything else is no lock', () => {
  assert.deepEqual(parseRunLock('{"pid":12,"host":"h","startedAt":"2025-01-01T00:00:00.000Z","command":"train"}\n'), {
    pid: 12,
    host: 'h',
    startedAt: '2025-01-01T00:00:00.000Z',
    command: 'train',
  });
  assert.deepEqual(parseRunLock('{"pid":12,"host":"h","command":"other"}'), { pid: 12, host: 'h', startedAt: '' });
  for (const bad of [
    '',
    '{',
    'null',
    '[]',
    '{"pid":"12","host":"h"}',
    '{"pid":0,"host":"h"}',
    '{"pid":1.5,"host":"h"}',
  ])
    assert.equal(parseRunLock(bad), undefined, bad);
});

test('same host: held while the pid lives, stale once it is gone or older than the last boot', () => {
  assert.deepEqual(judgeLock(lock(), facts()), { held: true, why: 'engine pid 4242 is running on this host' });
  const dead = judgeLock(lock(), facts({ isAlive: () => false }));
  assert.equal(dead.held, false);
  assert.match(dead.why, /pid 4242 is no longer running/);
  const rebooted = judgeLock(lock(), facts({ bootTime: NOW - 1_000 }));
  assert.equal(rebooted.held, false, 'a live pid after a reboot is someone else');
  assert.match(rebooted.why, /last boot/);
  // A terminal status does not override a live pid on this host: the engine is finishing.
  const ending = facts({ status: { state: 'completed', pid: 4242, updatedAt: iso(NOW) } });
  assert.equal(judgeLock(lock(), ending).held, true);
});

test('another host: respected unless its own end is recorded or the run is silent for hours', () => {
  const foreign = lock({ host: 'gpu-box' });
  // Its pid means nothing here: dead or alive locally, the lock is held.
  assert.equal(judgeLock(foreign, facts({ isAlive: () => false })).held, true);
  assert.equal(judgeLock(foreign, facts({ status: { state: 'running', pid: 4242, updatedAt: iso(NOW) } })).held, true);
  // The same engine wrote a final state after taking the lock: it ended and left the lock.
  const ended = judgeLock(foreign, facts({ status: { state: 'stopped', pid: 4242, updatedAt: iso(NOW - 1_000) } }));
  assert.equal(ended.held, false);
  assert.match(ended.why, /gpu-box recorded its end \(stopped\)/);
  // A final state of an older attempt (before this lock), or of another pid, says nothing.
  const older = facts({ status: { state: 'failed', pid: 4242, updatedAt: iso(NOW - 3_600_000) } });
  assert.equal(judgeLock(foreign, older).held, true);
  assert.equal(judgeLock(foreign, facts({ status: { state: 'stopped', pid: 7, updatedAt: iso(NOW) } })).held, true);
  assert.equal(judgeLock(foreign, facts({ lastActivity: NOW - FOREIGN_SILENCE_MS + 60_000 })).held, true);
  const silent = judgeLock(foreign, facts({ lastActivity: NOW - FOREIGN_SILENCE_MS - 60_000 }));
  assert.equal(silent.held, false);
  assert.match(silent.why, /nothing in the run has changed for 6 h/);
});

test('an unreadable lock is being written for a few seconds, then stale', () => {
  assert.equal(judgeLock(undefined, facts({ lastActivity: NOW - 100 })).held, true);
  assert.equal(judgeLock(undefined, facts({ lastActivity: NOW - UNREADABLE_GRACE_MS - 1 })).held, false);
});

test('describeLock names the pid, the host and what it does', () => {
  assert.equal(
    describeLock(lock({ startedAt: '2025-06-01T11:59:00.000Z' })),
    'engine pid 4242 on host here (resume, since 2025-06-01T11:59:00.000Z)',
  );
  assert.equal(describeLock({ pid: 9, host: 'h', startedAt: '' }), 'engine pid 9 on host h');
  assert.match(describeLock(undefined), /being written/);
});
