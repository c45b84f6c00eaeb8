import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { RecordingConfigFs } from '../../src/extension/validation/config-fs.js';
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
