import assert from 'node:assert/strict';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { acquireRunLock, hostLockDeps } from '../../src/engine/train/run-lock.js';
import { ownerMessage, runOwner } from '../../src/extension/runs/run-owner.js';
import { createRunDirectory } from '../../src/shared/node/run-claims.js';
import { deadPid, tempDir } from './helpers.js';

/**
 * The extension reads the lock the engine writes (the engine's own acquireRunLock here) with the
 * engine's rule, and creates new run folders exclusively.
 */
test('runOwner: a live engine of this host owns the run; none, or a dead one, does not', async (t) => {
  const dir = tempDir(t);
  assert.equal(await runOwner(dir), undefined, 'no lock');
  const lock = acquireRunLock(dir, 'resume');
  const owner = await runOwner(dir);
  assert.equal(owner?.lock?.pid, process.pid);
  assert.equal(owner?.lock?.host, hostname());
  assert.match(owner?.why ?? '', /is running on this host/);
  lock.release();
  assert.equal(await runOwner(dir), undefined, 'released');
  acquireRunLock(dir, 'resume', { ...hostLockDeps(), pid: deadPid() });
  assert.equal(await runOwner(dir), undefined, 'a dead pid is a stale lock: the run may be resumed (and taken over)');
});

test("runOwner: another host's engine owns the run until its end is in status.json", async (t) => {
  const dir = tempDir(t);
  acquireRunLock(dir, 'resume', { ...hostLockDeps(), host: 'gpu-box', pid: 77 });
  assert.match((await runOwner(dir))?.why ?? '', /pid 77 on host gpu-box/);
  const later = new Date(Date.now() + 1000).toISOString();
  writeFileSync(join(dir, 'status.json'), JSON.stringify({ state: 'failed', pid: 77, updatedAt: later }));
  assert.equal(await runOwner(dir), undefined);
});

test('runOwner: a lock being written counts as owned for a few seconds', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'lock'), '');
  const owner = await runOwner(dir);
  assert.equal(owner?.lock, undefined);
  assert.match(ownerMessage('r1', owner), /^Run r1 is already being trained by an engine that is starting/);
  const old = (Date.now() - 60_000) / 1000;
  utimesSync(join(dir, 'lock'), old, old);
  assert.equal(await runOwner(dir), undefined);
});

test('ownerMessage names the run and the engine, and says nothing was started', () => {
  const message = ownerMessage('demo-20250101-120000', {
    lock: { pid: 12, host: 'box', startedAt: '2025-01-01T12:00:00.000Z', command: 'resume' },
    why: 'engine pid 12 is running on this host',
  });
  assert.equal(
    message,
    "Run demo-20250101-120000 is already being trained by engine pid 12 on host box (resume, since 2025-01-01T12:00:00.000Z): showing that engine's progress instead of starting a second one.",
  );
});

test('createRunDir: windows starting runs of same-named configs in the same second get their own folders', (t) => {
  const root = join(tempDir(t), 'runs');
  const at = new Date(2025, 0, 2, 3, 4, 5);
  const a = createRunDirectory(root, '/ws1/demo.finetune.yaml', at);
  const b = createRunDirectory(root, '/ws2/demo.finetune.yaml', at);
  assert.equal(a, join(root, 'demo-20250102-030405'));
  assert.equal(b, join(root, 'demo-20250102-030405-2'));
  // A name taken by something that is not a run folder yet (an engine mid-mkdir) is skipped too.
  mkdirSync(join(root, 'demo-20250102-030405-3'));
  assert.equal(createRunDirectory(root, '/ws3/demo.finetune.yaml', at), join(root, 'demo-20250102-030405-4'));
});
