import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { type QueuedJob, RunQueue, setExtensionState } from '../../src/extension/runs/run-queue.js';
import { tempDir } from './helpers.js';

test('the queue is first in, first out, and saved on every change', () => {
  let saved: readonly QueuedJob[] = [{ kind: 'train', runDir: '/r/a', configPath: '/c', cwd: '/w' }];
  const q = new RunQueue({ load: () => saved, save: (jobs) => (saved = [...jobs]) });
  assert.equal(q.size, 1);
  q.add({ kind: 'resume', runDir: '/r/b', cwd: '/w' });
  q.add({ kind: 'train', runDir: '/r/c', configPath: '/c', cwd: '/w' });
  assert.ok(q.has('/r/b'));
  assert.equal(q.remove('/r/b')?.kind, 'resume');
  assert.equal(q.remove('/r/b'), undefined);
  assert.equal(q.shift()?.runDir, '/r/a');
  assert.deepEqual(
    saved.map((j) => j.runDir),
    ['/r/c'],
  );
  // Adding a run that is already queued moves it to the end rather than queueing it twice.
  q.add({ kind: 'train', runDir: '/r/d', configPath: '/c', cwd: '/w' });
  q.add({ kind: 'train', runDir: '/r/c', configPath: '/c', cwd: '/w' });
  assert.deepEqual(
    q.list().map((j) => j.runDir),
    ['/r/d', '/r/c'],
  );
});

test('setExtensionState writes status.json atomically and keeps an earlier attempt’s progress', async (t) => {
  const dir = join(tempDir(t), 'run');
  mkdirSync(dir);
  await setExtensionState(dir, 'queued', 111);
  const first = JSON.parse(readFileSync(join(dir, 'status.json'), 'utf8'));
  assert.equal(first.state, 'queued');
  assert.equal(first.pid, 111);
  assert.equal(first.step, 0);

  writeFileSync(
    join(dir, 'status.json'),
    JSON.stringify({
      state: 'stopped',
      pid: 5,
      startedAt: '2025-01-01T00:00:00.000Z',
      updatedAt: 'x',
      step: 40,
      totalSteps: 90,
      epoch: 1,
      best: { metric: 'f1', value: 0.8, step: 30 },
    }),
  );
  await setExtensionState(dir, 'failed', 5, 'engine gone');
  const next = JSON.parse(readFileSync(join(dir, 'status.json'), 'utf8'));
  assert.deepEqual(
    {
      state: next.state,
      step: next.step,
      totalSteps: next.totalSteps,
      startedAt: next.startedAt,
      best: next.best,
      reason: next.reason,
    },
    {
      state: 'failed',
      step: 40,
      totalSteps: 90,
      startedAt: '2025-01-01T00:00:00.000Z',
      best: { metric: 'f1', value: 0.8, step: 30 },
      reason: 'engine gone',
    },
  );
});
