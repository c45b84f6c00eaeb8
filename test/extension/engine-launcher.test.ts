import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type TestContext, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { EngineLauncher, type LaunchResult } from '../../src/extension/runs/engine-launcher.js';
import type { QueuedJob } from '../../src/extension/runs/run-queue.js';
import { tempDir, waitFor } from './helpers.js';

/**
 * Two windows pressing Resume on one run start one engine. Each "window" is an EngineLauncher (the
 * run manager's, without VS Code); the engine is test/extension/fixtures/fake-engine.ts, which
 * takes the real engine lock and exits with the real refusal code.
 */
const ROOT = resolve(__dirname, '..', '..');
const TSX = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const FAKE_ENGINE = join(__dirname, 'fixtures', 'fake-engine.ts');

interface Window {
  launcher: EngineLauncher;
  refused: number[];
  children: ChildProcess[];
}

function window(t: TestContext, env: NodeJS.ProcessEnv = {}, checkOwner = true): Window {
  const w: Window = { refused: [], children: [], launcher: undefined as unknown as EngineLauncher };
  w.launcher = new EngineLauncher({
    cliPath: FAKE_ENGINE,
    spawn: (args, _runDir, cwd) => {
      const child = spawn(process.execPath, ['--import', TSX, ...args], {
        cwd,
        env: { ...process.env, ...env },
        stdio: 'ignore',
      });
      w.children.push(child);
      t.after(() => child.kill());
      return child;
    },
    // Without the check: both windows looked before either engine started (the race).
    ...(checkOwner ? {} : { owner: async () => undefined }),
    onRefused: (_dir, child) => w.refused.push(child.pid ?? 0),
    onSpawnError: () => assert.fail('the fake engine should start'),
    log: () => {},
  });
  return w;
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((r) => (child.exitCode !== null ? r(child.exitCode) : child.on('exit', r)));

const job = (runDir: string): QueuedJob => ({ kind: 'resume', runDir, cwd: ROOT });
const trainedBy = (dir: string) => readFileSync(join(dir, 'trained'), 'utf8').trim().split('\n').map(Number);

test('Resume in a second window while the first window’s engine runs: nothing started, the owner reported', async (t) => {
  const dir = tempDir(t);
  const a = window(t, { FAKE_ENGINE_MS: '3000' });
  const b = window(t);
  const first = await a.launcher.launch(job(dir), { device: 'auto', threads: 0 });
  assert.equal(first.kind, 'started');
  const pid = a.children[0]?.pid;
  assert.equal(a.launcher.pendingPid(dir), pid);
  await waitFor(() => existsSync(join(dir, 'trained')), 10_000, 'the first engine to take the lock');
  const second = await b.launcher.launch(job(dir), { device: 'auto', threads: 0 });
  assert.deepEqual(second.kind === 'owned' && second.owner.lock?.pid, pid);
  assert.equal(b.children.length, 0, 'the second window spawned nothing');
  assert.match(
    readFileSync(join(dir, 'engine.log'), 'utf8'),
    new RegExp(`\\[extension\\] not starting an engine: the run is owned by engine pid ${pid} on host`),
  );
  assert.equal(await exited(a.children[0] as ChildProcess), 0);
  assert.deepEqual(trainedBy(dir), [pid]);
});

test('both windows start an engine at the same moment: one trains, the other is refused and reported', async (t) => {
  const dir = tempDir(t);
  const a = window(t, { FAKE_ENGINE_MS: '3000' }, false);
  const b = window(t, { FAKE_ENGINE_MS: '3000' }, false);
  const results: LaunchResult[] = await Promise.all([
    a.launcher.launch(job(dir), { device: 'auto', threads: 0 }),
    b.launcher.launch(job(dir), { device: 'auto', threads: 0 }),
  ]);
  assert.deepEqual(
    results.map((r) => r.kind),
    ['started', 'started'],
  );
  const children = [...a.children, ...b.children];
  const codes = await Promise.all(children.map(exited));
  assert.deepEqual([...codes].sort(), [0, 3], 'one engine completed, one was refused with LOCKED_EXIT_CODE');
  const winner = children[codes.indexOf(0)]?.pid;
  const loser = children[codes.indexOf(3)]?.pid;
  assert.deepEqual(trainedBy(dir), [winner], 'exactly one engine trained');
  // The refused engine's window was told, and nothing is pending there any more.
  const loserWindow = a.children[0]?.pid === loser ? a : b;
  assert.deepEqual(loserWindow.refused, [loser]);
  assert.equal(loserWindow.launcher.pendingPid(dir), undefined);
  assert.equal([a, b].flatMap((w) => w.refused).length, 1);
});

test('a refused engine is not a failure while the owner lives; an engine that died owning the run is', async (t) => {
  const dir = tempDir(t);
  const a = window(t, { FAKE_ENGINE_MS: '3000' });
  await a.launcher.launch(job(dir), { device: 'auto', threads: 0 });
  await waitFor(() => existsSync(join(dir, 'trained')), 10_000, 'the engine to take the lock');
  const owner = a.children[0]?.pid ?? 0;
  assert.equal(await a.launcher.diedOwning(dir, owner + 1), false, 'another live engine owns the run');
  a.children[0]?.kill('SIGKILL');
  await exited(a.children[0] as ChildProcess);
  assert.equal(await a.launcher.diedOwning(dir, owner), true, 'killed holding the lock: the run failed');

  const crash = tempDir(t);
  const c = window(t, { FAKE_ENGINE_CRASH: '1' });
  await c.launcher.launch(job(crash), { device: 'auto', threads: 0 });
  assert.equal(await exited(c.children[0] as ChildProcess), 1);
  assert.deepEqual(c.refused, [], 'a crash is not a refusal');
  assert.equal(await c.launcher.diedOwning(crash, c.children[0]?.pid ?? 0), true);
});
