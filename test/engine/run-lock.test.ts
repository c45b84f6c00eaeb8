import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type TestContext, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { acquireRunLock, hostLockDeps, type LockDeps, RunLockedError } from '../../src/engine/train/run-lock.js';
import { createRunDirectory } from '../../src/shared/node/run-claims.js';
import { FOREIGN_SILENCE_MS, parseRunLock } from '../../src/shared/run-lock.js';

/**
 * The run lock and the run folder names at the file level: exclusive creation, refusal naming
 * the owner, stale takeover (same host, another host, after a reboot), release, and real races
 * between processes. test/engine/run-lock-train.test.ts runs engines against it.
 */
const ROOT = resolve(__dirname, '..', '..');
const TSX = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const CONTENDER = join(__dirname, 'helpers', 'lock-contender.ts');

function runDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'finetune-lock-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function deadPid(): number {
  const { pid } = spawnSync(process.execPath, ['-e', '']);
  if (pid === undefined) throw new Error('could not spawn a short-lived process for a dead pid');
  return pid;
}

const lockOf = (dir: string) => parseRunLock(readFileSync(join(dir, 'lock'), 'utf8'));

test('the lock names pid and host; a second engine is refused with the owner named; release removes it', (t) => {
  const dir = runDir(t);
  const first = acquireRunLock(dir, 'resume');
  assert.deepEqual(lockOf(dir), first.lock);
  assert.equal(first.lock.pid, process.pid);
  assert.equal(first.lock.host, hostname());
  assert.equal(first.tookOver, undefined);
  assert.throws(
    () => acquireRunLock(dir, 'train'),
    (err: unknown) => {
      assert.ok(err instanceof RunLockedError);
      assert.equal(err.owner?.pid, process.pid);
      assert.match(err.message, new RegExp(`in use by engine pid ${process.pid} on host .*running on this host`));
      assert.match(err.message, new RegExp(`kill -TERM ${process.pid}`));
      return true;
    },
  );
  first.release();
  assert.equal(existsSync(join(dir, 'lock')), false);
  first.release(); // twice is harmless
  acquireRunLock(dir, 'train').release();
});

test('a stale lock (dead pid, this host) is taken over; the old owner cannot remove the new lock', (t) => {
  const dir = runDir(t);
  const pid = deadPid();
  const deps: LockDeps = { ...hostLockDeps(), pid };
  const old = acquireRunLock(dir, 'resume', deps);
  const next = acquireRunLock(dir, 'resume');
  assert.match(next.tookOver?.why ?? '', new RegExp(`pid ${pid} is no longer running on this host`));
  assert.equal(next.tookOver?.previous?.pid, pid);
  old.release();
  assert.equal(lockOf(dir)?.pid, process.pid, 'the stale owner releasing late leaves the new lock alone');
  next.release();
  assert.equal(existsSync(join(dir, 'lock')), false);
});

test('a lock written before the last boot is stale even if its pid is alive again', (t) => {
  const dir = runDir(t);
  acquireRunLock(dir, 'resume', { ...hostLockDeps(), now: () => Date.now() - 3_600_000, bootTime: 0 });
  const next = acquireRunLock(dir, 'resume', { ...hostLockDeps(), bootTime: Date.now() - 60_000 });
  assert.match(next.tookOver?.why ?? '', /last boot/);
  next.release();
});

test("another host's lock is respected while the run lives, taken over once clearly stale", (t) => {
  const dir = runDir(t);
  const pid = deadPid(); // dead here, which says nothing about the other machine
  acquireRunLock(dir, 'resume', { ...hostLockDeps(), host: 'gpu-box', pid });
  assert.throws(
    () => acquireRunLock(dir, 'resume'),
    (err: unknown) =>
      err instanceof RunLockedError &&
      err.message.includes(`engine pid ${pid} on host gpu-box`) &&
      err.message.includes(`delete ${join(dir, 'lock')}`),
  );
  // That engine's own final state, written after its lock: it ended and left the lock behind.
  const later = new Date(Date.now() + 1000).toISOString();
  writeFileSync(join(dir, 'status.json'), JSON.stringify({ state: 'stopped', pid, updatedAt: later }));
  const ended = acquireRunLock(dir, 'resume');
  assert.match(ended.tookOver?.why ?? '', /gpu-box recorded its end \(stopped\)/);
  ended.release();

  // Silence: no change to the lock or status.json for longer than FOREIGN_SILENCE_MS.
  rmSync(join(dir, 'status.json'));
  acquireRunLock(dir, 'resume', { ...hostLockDeps(), host: 'gpu-box', pid });
  const old = (Date.now() - FOREIGN_SILENCE_MS - 60_000) / 1000;
  utimesSync(join(dir, 'lock'), old, old);
  const silent = acquireRunLock(dir, 'resume');
  assert.match(silent.tookOver?.why ?? '', /nothing in the run has changed/);
  silent.release();
});

test('an empty lock (crash between create and write) is waited for, then taken over', (t) => {
  const dir = runDir(t);
  writeFileSync(join(dir, 'lock'), '');
  assert.throws(() => acquireRunLock(dir, 'resume'), /being written/);
  const old = (Date.now() - 60_000) / 1000;
  utimesSync(join(dir, 'lock'), old, old);
  const next = acquireRunLock(dir, 'resume');
  assert.match(next.tookOver?.why ?? '', /not a valid lock/);
  next.release();
});

/** Starts `count` contenders, lets them go at once, and returns their JSON lines. */
async function race(t: TestContext, count: number, args: (i: number) => string[]): Promise<Record<string, unknown>[]> {
  const go = join(runDir(t), 'go');
  const children = Array.from({ length: count }, (_, i) =>
    spawn(process.execPath, ['--import', TSX, CONTENDER, ...args(i).slice(0, 2), go, ...args(i).slice(2)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  const outputs = children.map(
    (child) =>
      new Promise<string>((resolvePromise, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
        });
        child.on('exit', (code) => (code === 0 ? resolvePromise(out) : reject(new Error(`contender exit ${code}`))));
      }),
  );
  // Loading tsx takes a while (seconds on a loaded machine): go only once every contender has
  // said it is ready, or a late one would find the race over and the winner gone.
  const ready = children.map((child) => `${go}.ready-${child.pid}`);
  const gone = () => children.some((child) => child.exitCode !== null);
  while (!ready.every((f) => existsSync(f)) && !gone()) await new Promise((r) => setTimeout(r, 20));
  writeFileSync(go, '');
  return (await Promise.all(outputs)).map((o) => JSON.parse(o) as Record<string, unknown>);
}

test('processes racing for a stale lock: exactly one wins, the others are refused naming it', async (t) => {
  const dir = runDir(t);
  acquireRunLock(dir, 'resume', { ...hostLockDeps(), pid: deadPid() });
  const results = await race(t, 4, () => ['lock', dir, '1500']);
  const winners = results.filter((r) => r.won === true);
  assert.equal(winners.length, 1, JSON.stringify(results));
  assert.match(String(winners[0]?.tookOver), /no longer running/);
  for (const r of results.filter((r) => r.won === false)) assert.equal(r.owner, winners[0]?.pid);
  assert.equal(existsSync(join(dir, 'lock')), false, 'the winner released it');
});

test('runs started in the same second into one folder get distinct directories (processes racing)', async (t) => {
  const root = join(runDir(t), 'runs');
  const at = new Date(2025, 0, 2, 3, 4, 5);
  // Different configs with the same name (two folders), as two workspaces sharing a runs folder.
  const results = await race(t, 4, (i) => ['mkdir', root, `/w${i}/demo.finetune.yaml`, String(at.getTime())]);
  const dirs = results.map((r) => String(r.dir)).sort();
  assert.deepEqual(
    dirs,
    ['', '-2', '-3', '-4'].map((s) => join(root, `demo-20250102-030405${s}`)),
  );
  // In one process too: the name after the last one taken.
  assert.equal(createRunDirectory(root, '/w/demo.finetune.yaml', at), join(root, 'demo-20250102-030405-5'));
});
