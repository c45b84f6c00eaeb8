import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { RunSession, type SessionDeps } from '../../src/extension/runs/run-session.js';
import { waitFor } from './helpers.js';

type Recorded = SessionDeps & { gone: number; signals: string[] };

function deps(over: Partial<SessionDeps> = {}): Recorded {
  const d: Recorded = {
    gone: 0,
    signals: [],
    isAlive: () => true,
    signal: (_pid: number, s: NodeJS.Signals): boolean => {
      d.signals.push(s);
      return true;
    },
    onProcessGone: () => {
      d.gone++;
    },
    watchdogMs: 10,
    ...over,
  };
  return d;
}

test('a spawned engine: its exit is reported, no watchdog needed', async () => {
  const d = deps({ isAlive: () => false });
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30)']);
  const session = new RunSession('/r', d, child);
  assert.equal(session.processId, child.pid);
  session.attach(child.pid ?? 0);
  await waitFor(() => d.gone >= 1, 3000, 'exit');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(d.gone, 1, 'exactly once: no watchdog for a child of ours');
  session.dispose();
});

test('a re-attached engine: the watchdog notices the pid is gone, and stops with the session', async () => {
  let alive = true;
  const d = deps({ isAlive: () => alive });
  const session = new RunSession('/r', d);
  session.attach(4242);
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(d.gone, 0);
  alive = false;
  await waitFor(() => d.gone >= 1, 2000, 'watchdog');
  session.dispose();
  const after = d.gone;
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(d.gone, after, 'disposed: no more checks');
});

test('escalate arms once, and disposal cancels it', async () => {
  const d = deps();
  const session = new RunSession('/r', d);
  session.escalate({ graceMs: 10, killMs: 10 });
  assert.equal(session.isStopping, false, 'no pid yet: nothing to signal');
  session.attach(99);
  session.escalate({ graceMs: 10, killMs: 10 });
  session.escalate({ graceMs: 10, killMs: 10 });
  assert.ok(session.isStopping);
  await waitFor(() => d.signals.length === 2, 2000, 'signals');
  assert.deepEqual(d.signals, ['SIGTERM', 'SIGKILL']);

  const d2 = deps();
  const s2 = new RunSession('/r', d2);
  s2.attach(99);
  s2.escalate({ graceMs: 20, killMs: 20 });
  s2.dispose();
  await new Promise((r) => setTimeout(r, 80));
  assert.deepEqual(d2.signals, []);
});
