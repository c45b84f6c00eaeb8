import assert from 'node:assert/strict';
import { mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  EDITOR_VALIDATION_BUDGET_MS,
  RecordingConfigFs,
  readConfigFile,
  validateInEditor,
} from '../../src/extension/validation/config-fs.js';
import { validateConfig } from '../../src/shared/config-validate.js';
import { tempDir } from './helpers.js';

test('RecordingConfigFs reads like fs and records every path the validator asks about', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'a.txt'), 'hello world');
  mkdirSync(join(dir, 'sub'));
  const fs = new RecordingConfigFs();
  assert.equal(await fs.exists(join(dir, 'a.txt')), true);
  assert.equal(await fs.exists(join(dir, 'nope')), false);
  assert.equal(await fs.readText(join(dir, 'a.txt')), 'hello world');
  assert.equal(await fs.readText(join(dir, 'nope')), undefined);
  assert.equal(await fs.readHead(join(dir, 'a.txt'), 5), 'hello');
  assert.deepEqual(await fs.readDir(dir), ['a.txt', 'sub']);
  assert.equal(await fs.readDir(join(dir, 'a.txt')), undefined);
  assert.ok(fs.touched.has(join(dir, 'nope')));
  assert.ok(fs.touched.has(dir));
});

test('the shared validator through it: a missing data file is reported and its path recorded', async (t) => {
  const dir = tempDir(t);
  const text = 'model: ./no-model\ntask: text-classification\ndata:\n  train: data/train.jsonl\n';
  const fs = new RecordingConfigFs();
  const diagnostics = await validateConfig(text, 'yaml', { fs, configDir: dir });
  assert.ok(
    diagnostics.some((d) => d.severity === 'error' && d.path.join('.') === 'data.train'),
    diagnostics.map((d) => `${d.code} ${d.path.join('.')}`).join('\n'),
  );
  assert.ok(fs.touched.has(join(dir, 'data', 'train.jsonl')));
  assert.ok([...fs.touched].some((p) => p.startsWith(join(dir, 'no-model'))));
});

test('readConfigFile reads a config within the size limit, and only says so for one over it', async (t) => {
  const dir = tempDir(t);
  const small = join(dir, 'a.finetune.yaml');
  writeFileSync(small, 'model: m\n');
  assert.deepEqual(await readConfigFile(small), { text: 'model: m\n' });
  // Sparse: reading it whole would be slow and take memory; it is only measured.
  const big = join(dir, 'big.finetune.yaml');
  writeFileSync(big, 'model: m\n');
  truncateSync(big, 2 ** 40);
  const read = await readConfigFile(big);
  assert.ok(read && 'tooLarge' in read);
  assert.deepEqual([read.tooLarge.code, read.tooLarge.range.start], ['too-large', { line: 0, character: 0 }]);
  assert.match(read.tooLarge.message, /^The config file is 1 TB, over the 256 KB a config may have/);
  assert.equal(await readConfigFile(join(dir, 'missing.finetune.yaml')), undefined);
});

test('validation in the editor stops within its time budget, before the file checks', async (t) => {
  const dir = tempDir(t);
  const text = 'model: ./no-model\ntask: text-classification\ndata:\n  train: data/train.jsonl\n';
  // A clock that jumps past the budget at each reading: the parse is the only phase that runs.
  let now = 0;
  const slow = () => {
    now += EDITOR_VALIDATION_BUDGET_MS + 1;
    return now;
  };
  const fs = new RecordingConfigFs();
  const stopped = await validateInEditor(text, 'yaml', { fs, configDir: dir }, { now: slow });
  assert.deepEqual(
    stopped.map((d) => d.code),
    ['validation-stopped'],
  );
  assert.equal(fs.touched.size, 0);
  const full = await validateInEditor(text, 'yaml', { fs, configDir: dir });
  assert.ok(full.some((d) => d.code === 'data-not-found'));
});
