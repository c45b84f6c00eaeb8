import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  costLensTitle,
  costWarnings,
  epochSeconds,
  formatBytes,
  formatDuration,
  stepsPerEpoch,
} from '../../src/shared/cost-estimate.js';
import { dataStamp, estimateKey, modelStamp } from '../../src/shared/node/estimate-cache.js';

test('steps per epoch count micro-batches, then optimizer steps of k, as the trainer does', () => {
  // 1000 rows, batch 32: ceil(1000/32) = 32 micro-batches; k = 4: 8 steps; k = 5: ceil(32/5) = 7.
  assert.equal(stepsPerEpoch(1000, 32, 1), 32);
  assert.equal(stepsPerEpoch(1000, 32, 4), 8);
  assert.equal(stepsPerEpoch(1000, 32, 5), 7);
  assert.equal(stepsPerEpoch(7, 8, 1), 1);
  // 0.75 s a step × 8 steps = 6 s.
  assert.equal(epochSeconds(0.75, 1000, 32, 4), 6);
});

test('durations and sizes read as estimates', () => {
  assert.equal(formatDuration(0.2), '1 s');
  assert.equal(formatDuration(40), '40 s');
  assert.equal(formatDuration(240), '4 min');
  assert.equal(formatDuration(89 * 60), '89 min');
  assert.equal(formatDuration(90 * 60), '1.5 h');
  assert.equal(formatDuration(12 * 3600), '12 h');
  assert.equal(formatBytes(1.94e9), '1.9 GB');
  assert.equal(formatBytes(640e6), '640 MB');
  assert.equal(formatBytes(23.4e9), '23 GB');
});

test('the CodeLens title and the Start warnings', () => {
  assert.equal(
    costLensTitle({ memoryBytes: 1.9e9, epochSeconds: 240, epochs: 3 }),
    '≈ 1.9 GB · ≈ 4 min/epoch on this machine',
  );
  assert.equal(costLensTitle({ memoryBytes: 640e6, epochs: 3 }), '≈ 640 MB on this machine');
  assert.equal(costLensTitle({ epochs: 3 }), undefined);
  assert.deepEqual(costWarnings({ memoryBytes: 1.9e9, epochSeconds: 240, epochs: 3 }, 8e9), []);
  // 3 × 1300 s = 65 min: over an hour; 2 GB needed, 1 GB free.
  assert.deepEqual(costWarnings({ memoryBytes: 2e9, epochSeconds: 1300, epochs: 3 }, 1e9), [
    'it needs about 2.0 GB of memory and 1.0 GB is free',
    '3 epochs take about 65 min on this machine',
  ]);
  // Exactly an hour does not warn.
  assert.deepEqual(costWarnings({ epochSeconds: 1200, epochs: 3 }, 1e9), []);
});

const CONFIG = {
  task: 'text-classification',
  device: 'auto',
  training: { method: 'full', lora: { r: 8, alpha: 16 }, batch_size: 8, gradient_accumulation_steps: 1 },
  data: { max_length: 128 },
} as unknown as Parameters<typeof estimateKey>[0];

test('the cache key: model files, method, shape, threads and device; not the order of keys', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'estimate-key-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'config.json'), '{}');
  writeFileSync(join(dir, 'model.safetensors'), 'x');
  writeFileSync(join(dir, 'README.md'), 'not part of the model');
  const stamp = modelStamp(dir);
  const key = estimateKey(CONFIG, stamp, 1);
  assert.match(key, /^[0-9a-f]{24}$/);
  const reordered = {
    data: { max_length: 128 },
    training: { gradient_accumulation_steps: 1, batch_size: 8, lora: { alpha: 16, r: 8 }, method: 'full' },
    device: 'auto',
    task: 'text-classification',
  } as unknown as typeof CONFIG;
  assert.equal(estimateKey(reordered, stamp, 1), key);
  const other = (edit: (c: Record<string, Record<string, unknown>>) => void) => {
    const c = structuredClone(CONFIG) as unknown as Record<string, Record<string, unknown>>;
    edit(c);
    return estimateKey(c as unknown as typeof CONFIG, stamp, 1);
  };
  assert.notEqual(estimateKey(CONFIG, stamp, 2), key, 'threads');
  assert.notEqual(estimateKey(CONFIG, stamp, 1, 'cpu'), key, 'device');
  assert.notEqual(
    other((c) => Object.assign(c.training as object, { batch_size: 16 })),
    key,
    'batch_size',
  );
  assert.notEqual(
    other((c) => Object.assign(c.data as object, { max_length: 64 })),
    key,
    'max_length',
  );
  assert.notEqual(
    other((c) => Object.assign(c.training as object, { gradient_accumulation_steps: 2 })),
    key,
  );
  const lora = other((c) => Object.assign(c.training as object, { method: 'lora' }));
  assert.notEqual(lora, key, 'method');
  // LoRA's settings count only under method: lora.
  assert.equal(
    other((c) => Object.assign(c.training as object, { lora: { r: 4 } })),
    key,
  );
  assert.notEqual(
    other((c) => Object.assign(c.training as object, { method: 'lora', lora: { r: 4 } })),
    lora,
    'lora.r',
  );
  // Rewritten weights (another size or time) are another model; a README is not part of it.
  writeFileSync(join(dir, 'README.md'), 'edited');
  assert.equal(modelStamp(dir), stamp);
  writeFileSync(join(dir, 'model.safetensors'), 'xy');
  assert.notEqual(estimateKey(CONFIG, modelStamp(dir), 1), key, 'weights');
});

test('the data stamp: the same for the relative and the absolute paths, another for other data', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'estimate-data-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'train.jsonl'), '{"text":"a","label":"x"}\n');
  const data = { train: 'train.jsonl', validation_split: 0.1, max_length: 32 } as unknown as Parameters<
    typeof dataStamp
  >[0];
  const stamp = dataStamp(data, dir);
  assert.equal(dataStamp({ ...data, train: join(dir, 'train.jsonl') }, '/elsewhere'), stamp);
  assert.notEqual(dataStamp({ ...data, validation_split: 0.2 } as typeof data, dir), stamp);
  utimesSync(join(dir, 'train.jsonl'), new Date(0), new Date(0));
  assert.notEqual(dataStamp(data, dir), stamp, 'the train file changed');
});
