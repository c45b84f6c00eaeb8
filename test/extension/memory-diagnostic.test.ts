import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { RecordingConfigFs, validateInEditor } from '../../src/extension/validation/config-fs.js';
import { parseConfigText } from '../../src/shared/config-tree.js';
import { estimateForConfig } from '../../src/shared/node/model-memory.js';
import { writeTinyDecoder } from '../fixtures/tiny-decoders.js';
import { tempDir } from './helpers.js';

/** The memory estimate in the editor's validation (src/shared/node/model-memory.ts). */
test('in the editor: information with the estimate, a warning when it is more than the free memory', async (t) => {
  const dir = tempDir(t);
  writeTinyDecoder(join(dir, 'model'), 'llama', {});
  writeFileSync(join(dir, 'train.jsonl'), '{"text": "hello there"}\n');
  const text =
    'model: ./model\ntask: causal-lm\ndata:\n  train: train.jsonl\n  max_length: 16\ntraining:\n  batch_size: 2\neval:\n  metrics: []\n';
  const run = (free: number) =>
    validateInEditor(text, 'yaml', { fs: new RecordingConfigFs(), configDir: dir }, { freeMemory: () => free });
  const plenty = (await run(64 * 2 ** 30)).filter((d) => d.code === 'memory-estimate');
  assert.equal(plenty.length, 1);
  assert.equal(plenty[0]?.severity, 'info');
  assert.deepEqual(plenty[0]?.path, ['training', 'batch_size']);
  assert.match(
    plenty[0]?.message ?? '',
    /^Estimated peak memory ≈ 0\.12 GiB \(weights 0\.00, optimizer 0\.00, activations 0\.00, runtime 0\.12\); free RAM 64 GiB\.$/,
  );
  const short = (await run(2 ** 20)).filter((d) => d.code === 'memory-estimate');
  assert.equal(short[0]?.severity, 'warning');
  assert.match(short[0]?.message ?? '', /free RAM 0\.00 GiB\. That is more than is free/);
});

test('a sharded model (model.safetensors.index.json) is estimated from every shard', async (t) => {
  const dir = tempDir(t);
  writeTinyDecoder(join(dir, 'one'), 'llama', {});
  writeTinyDecoder(join(dir, 'sharded'), 'llama', { shards: 3 });
  const config = (m: string) => parseConfigText(`model: ./${m}\ntask: causal-lm\ndata:\n  train: t.jsonl\n`, 'yaml');
  const read: string[] = [];
  const one = await estimateForConfig(config('one'), dir);
  const sharded = await estimateForConfig(config('sharded'), dir, { note: (p) => read.push(p) });
  assert.ok(one && one.weights > 0);
  assert.deepEqual(sharded, one);
  assert.equal(read.filter((p) => /model-0000\d-of-00003\.safetensors$/.test(p)).length, 3);
});
