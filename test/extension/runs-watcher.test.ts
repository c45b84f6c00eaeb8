import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { RunsWatcher } from '../../src/extension/runs/runs-watcher.js';
import { tempDir, waitFor } from './helpers.js';

function recorder() {
  const events: string[] = [];
  return {
    events,
    listener: {
      onRunChanged: (dir: string, file: string | undefined) => events.push(`changed ${dir} ${file ?? ''}`.trim()),
      onRunRemoved: (dir: string) => events.push(`removed ${dir}`),
      onRootAppeared: (root: string) => events.push(`root ${root}`),
      onError: (err: unknown) => events.push(`error ${String(err)}`),
    },
  };
}

test('a runs folder that appears later is picked up, then its runs and their files', async (t) => {
  const ws = tempDir(t);
  const root = join(ws, '.finetune', 'runs');
  const { events, listener } = recorder();
  const watcher = new RunsWatcher(listener);
  t.after(() => watcher.dispose());
  watcher.setRoots([root]);
  await new Promise((r) => setTimeout(r, 200));
  mkdirSync(root, { recursive: true });
  await waitFor(() => events.includes(`root ${root}`), 5000, 'root to appear');
  // chokidar sets up the new folder's watch asynchronously; what is created meanwhile is found by
  // the rescan that onRootAppeared triggers in the run manager, not by an event.
  await new Promise((r) => setTimeout(r, 300));

  const run = join(root, 'a-20250101-000000');
  mkdirSync(run);
  await waitFor(() => events.includes(`changed ${run}`), 5000, 'run folder');
  writeFileSync(join(run, 'events.jsonl'), '{}\n');
  await waitFor(() => events.includes(`changed ${run} events.jsonl`), 5000, 'events.jsonl');
  appendFileSync(join(run, 'engine.log'), 'x\n');
  await waitFor(() => events.includes(`changed ${run} engine.log`), 5000, 'engine.log');
  // An atomic status write: the temporary file is not reported, the rename is.
  writeFileSync(join(run, 'status.json.tmp-1'), '{}');
  renameSync(join(run, 'status.json.tmp-1'), join(run, 'status.json'));
  await waitFor(() => events.includes(`changed ${run} status.json`), 5000, 'status.json');
  assert.ok(!events.some((e) => e.includes('.tmp')), events.join('\n'));

  rmSync(run, { recursive: true });
  await waitFor(() => events.includes(`removed ${run}`), 5000, 'removal');
  assert.ok(!events.some((e) => e.startsWith('error')), events.join('\n'));
  assert.deepEqual(watcher.watchedRoots, [root]);
});

test('setRoots drops roots that are no longer wanted', async (t) => {
  const a = tempDir(t);
  const b = tempDir(t);
  const { events, listener } = recorder();
  const watcher = new RunsWatcher(listener);
  t.after(() => watcher.dispose());
  watcher.setRoots([a, b]);
  watcher.setRoots([b]);
  assert.deepEqual(watcher.watchedRoots, [b]);
  await new Promise((r) => setTimeout(r, 200));
  mkdirSync(join(b, 'run-b'));
  await waitFor(() => events.includes(`changed ${join(b, 'run-b')}`), 5000, 'run in b');
  mkdirSync(join(a, 'run-a'));
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(!events.some((e) => e.includes('run-a')), events.join('\n'));
});

test("a sweep's trials folder watched as a root inside the runs folder reports its trials as runs", async (t) => {
  const root = tempDir(t);
  const sweep = join(root, 'demo-sweep-20250101-000000');
  const trials = join(sweep, 'trials');
  mkdirSync(trials, { recursive: true });
  const { events, listener } = recorder();
  const watcher = new RunsWatcher(listener);
  t.after(() => watcher.dispose());
  watcher.setRoots([root, trials]);
  await new Promise((r) => setTimeout(r, 300));
  writeFileSync(join(sweep, 'sweep.json.tmp-1'), '{}');
  renameSync(join(sweep, 'sweep.json.tmp-1'), join(sweep, 'sweep.json'));
  await waitFor(() => events.includes(`changed ${sweep} sweep.json`), 5000, 'sweep.json');
  const trial = join(trials, '0');
  mkdirSync(trial);
  await waitFor(() => events.includes(`changed ${trial}`), 5000, 'trial folder');
  writeFileSync(join(trial, 'status.json'), '{}');
  await waitFor(() => events.includes(`changed ${trial} status.json`), 5000, 'trial status.json');
  // Named by the deepest root: never as a change of the sweep folder's `trials` entry.
  assert.ok(!events.some((e) => e.startsWith(`changed ${sweep} trials`)), events.join('\n'));
});
