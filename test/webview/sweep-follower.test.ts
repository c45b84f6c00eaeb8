import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SweepFollower } from '../../src/extension/panel/sweep-follower.js';
import type { SweepInfo } from '../../src/shared/messages.js';
import type { SweepRecord } from '../../src/shared/sweep-record.js';
import { sweepJson } from '../fixtures/sweep.js';

const root = mkdtempSync(join(tmpdir(), 'sweep-follower-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** As the engine writes it: a temporary file renamed over sweep.json. */
function writeAtomic(dir: string, record: SweepRecord): void {
  writeFileSync(join(dir, 'sweep.json.tmp-1'), JSON.stringify(record));
  renameSync(join(dir, 'sweep.json.tmp-1'), join(dir, 'sweep.json'));
}

test('the panel follows sweep.json as the sweep replaces it', async (t) => {
  const dir = join(root, 'demo-sweep-20250101-120000');
  mkdirSync(dir);
  const record = sweepJson();
  writeAtomic(dir, record);
  const seen: SweepInfo[] = [];
  const follower = new SweepFollower(
    dir,
    (info) => seen.push(info),
    () => true,
  );
  t.after(() => follower.dispose());
  const first = await follower.load();
  assert.equal(first.record?.trials.length, 3);
  follower.start();
  await new Promise((r) => setTimeout(r, 300));

  const next = sweepJson();
  Object.assign(next.trials[2] ?? {}, { state: 'completed', value: 0.9, endedAt: '2025-01-01T12:09:00.000Z' });
  next.best = { trial: 2, value: 0.9, params: next.trials[2]?.params ?? {} };
  writeAtomic(dir, next);
  const deadline = Date.now() + 5000;
  while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(seen.length, 1, 'one report for the new version');
  assert.equal(seen[0]?.record?.best?.trial, 2);
  assert.equal(follower.info.record?.trials[2]?.state, 'completed');
});
