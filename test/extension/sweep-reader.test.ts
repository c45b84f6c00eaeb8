import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { listRunDirs } from '../../src/extension/runs/run-reader.js';
import { describeSweep, listSweepDirs, listTrialDirs, readSweepInfo } from '../../src/extension/runs/sweep-reader.js';
import { sweepJson } from '../fixtures/sweep.js';
import { tempDir } from './helpers.js';

const alive = () => true;
const dead = () => false;

function sweepFolder(root: string, record: unknown = sweepJson()): string {
  const dir = join(root, 'demo-sweep-20250101-120000');
  mkdirSync(join(dir, 'trials', '0'), { recursive: true });
  writeFileSync(join(dir, 'config.yaml'), '# resolved from /nowhere/demo.finetune.yaml\nmodel: m\n');
  writeFileSync(join(dir, 'sweep.json'), typeof record === 'string' ? record : JSON.stringify(record));
  writeFileSync(join(dir, 'trials', '0', 'status.json'), '{}');
  return dir;
}

test('a sweep folder is a sweep, not a run; its trials are runs', async (t) => {
  const root = tempDir(t);
  const dir = sweepFolder(root);
  mkdirSync(join(root, 'demo-20250101-110000'));
  writeFileSync(join(root, 'demo-20250101-110000', 'status.json'), '{}');
  assert.deepEqual(await listRunDirs(root), [join(root, 'demo-20250101-110000')]);
  assert.deepEqual(await listSweepDirs(root), [dir]);
  assert.deepEqual(await listTrialDirs(dir), [join(dir, 'trials', '0')]);
});

test('readSweepInfo: the record, its state, the source config when it exists, the description', async (t) => {
  const root = tempDir(t);
  const source = join(root, 'demo.finetune.yaml');
  writeFileSync(source, 'model: m\n');
  const dir = sweepFolder(root, { ...sweepJson(), source });
  const info = await readSweepInfo(dir, alive);
  assert.equal(info.id, 'demo-sweep-20250101-120000');
  assert.equal(info.state, 'running');
  assert.equal(info.sourceFile, source);
  assert.equal(info.record?.trials.length, 3);
  assert.equal(describeSweep(info), 'running · 2/6 trials · best accuracy 0.800');
  // The source named in sweep.json no longer exists (nor the one of config.yaml's header): no button target.
  const gone = await readSweepInfo(sweepFolder(tempDir(t), { ...sweepJson(), source: join(root, 'x.yaml') }), alive);
  assert.equal(gone.sourceFile, undefined);
});

test('a running sweep whose process is gone shows as stopped, with how to resume it', async (t) => {
  const dir = sweepFolder(tempDir(t));
  const info = await readSweepInfo(dir, dead);
  assert.equal(info.state, 'stopped');
  assert.match(info.reason ?? '', /pid 123\) is gone; continue it with: finetune sweep --resume /);
});

test('an unreadable sweep.json is reported, not thrown', async (t) => {
  const info = await readSweepInfo(sweepFolder(tempDir(t), '{"version": 1'), alive);
  assert.equal(info.record, undefined);
  assert.match(info.error ?? '', /^sweep\.json is not valid JSON/);
  assert.equal(describeSweep(info), info.error);
  const wrong = await readSweepInfo(sweepFolder(tempDir(t), { ...sweepJson(), trials: 3 }), alive);
  assert.equal(wrong.error, 'sweep.json: trials is not an array');
});
