import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { type SweepSnapshot, SweepTracker } from '../../src/extension/runs/sweep-tracker.js';
import { topLevel, trialOf, trialsOf } from '../../src/extension/views/runs-grouping.js';
import { sweepJson } from '../fixtures/sweep.js';
import { tempDir } from './helpers.js';

function makeSweep(root: string): string {
  const dir = join(root, 'demo-sweep-20250101-120000');
  for (const n of [0, 1, 2]) {
    mkdirSync(join(dir, 'trials', String(n)), { recursive: true });
    writeFileSync(join(dir, 'trials', String(n), 'status.json'), '{}');
  }
  writeFileSync(join(dir, 'sweep.json'), JSON.stringify(sweepJson()));
  return dir;
}

test('the tracker reads a sweep, names its trials folder and trials, and forgets a deleted one', async (t) => {
  const root = tempDir(t);
  const dir = makeSweep(root);
  const reports: [string, SweepSnapshot | undefined, string[]][] = [];
  const tracker = new SweepTracker({ changed: (...r) => reports.push(r), isAlive: () => true });
  t.after(() => tracker.dispose());
  assert.equal(tracker.claims(dir), true);
  assert.equal(tracker.claims(join(dir, 'trials', '0')), false);
  await tracker.read(dir);
  const [changedDir, sweep, trials] = reports[0] ?? [];
  assert.equal(changedDir, dir);
  assert.equal(sweep?.startedAt, Date.parse('2025-01-01T12:00:00.000Z'));
  assert.deepEqual(
    trials,
    [0, 1, 2].map((n) => join(dir, 'trials', String(n))),
  );
  assert.deepEqual(tracker.trialFolders(), [join(dir, 'trials')]);
  assert.equal(tracker.sweepOf(join(dir, 'trials', '1'))?.dir, dir);
  assert.equal(tracker.sweepOf(join(root, 'other-20250101-120000')), undefined);

  rmSync(dir, { recursive: true });
  await tracker.read(dir);
  assert.deepEqual(reports[1], [dir, undefined, []]);
  assert.deepEqual(tracker.list(), []);
});

test('the Runs view: runs and sweeps newest first at the top, trials under their sweep by number', async (t) => {
  const root = tempDir(t);
  const dir = makeSweep(root);
  const tracker = new SweepTracker({ changed: () => undefined, isAlive: () => true });
  t.after(() => tracker.dispose());
  await tracker.read(dir);
  const sweep = tracker.get(dir) as SweepSnapshot;
  const sweepOf = (d: string) => tracker.sweepOf(d);
  const at = (iso: string) => Date.parse(iso);
  const runs = [
    { dir: join(root, 'demo-20250101-110000'), startedAt: at('2025-01-01T11:00:00Z') },
    { dir: join(dir, 'trials', '2'), startedAt: at('2025-01-01T12:05:00Z') },
    { dir: join(root, 'demo-20250101-130000'), startedAt: at('2025-01-01T13:00:00Z') },
    { dir: join(dir, 'trials', '0'), startedAt: at('2025-01-01T12:00:00Z') },
    { dir: join(dir, 'trials', '1'), startedAt: at('2025-01-01T12:04:00Z') },
  ];
  assert.deepEqual(topLevel(runs, [sweep], sweepOf), [
    { kind: 'run', dir: join(root, 'demo-20250101-130000') },
    { kind: 'sweep', dir },
    { kind: 'run', dir: join(root, 'demo-20250101-110000') },
  ]);
  assert.deepEqual(
    trialsOf(runs, sweep, sweepOf).map((r) => r.dir),
    [0, 1, 2].map((n) => join(dir, 'trials', String(n))),
  );
  assert.equal(trialOf(sweep, join(dir, 'trials', '1'))?.state, 'pruned');
});
