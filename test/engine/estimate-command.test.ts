import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { measuredBatches } from '../../src/engine/train/estimate.js';
import { ESTIMATE_VERSION, type EstimateRecord } from '../../src/shared/cost-estimate.js';
import { estimateCacheDir, readEstimate } from '../../src/shared/node/estimate-cache.js';
import { finetune } from './helpers/cli.js';
import { writeTinyRun } from './helpers/tiny-run.js';

/**
 * `finetune estimate` on the tiny BERT of tiny-run.ts (128 training rows, batch_size 8): the step
 * it times is the trainer's, so it returns a positive step time and peak memory, counts the rows
 * the run would train on, and records the measurement where the editor's CodeLens reads it.
 */
test('finetune estimate times one step of a tiny BERT and records it in the cache', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'estimate-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = writeTinyRun(dir);
  const r = await finetune(dir, 'estimate', config, '--format', 'json', '--threads', '1');
  assert.equal(r.code, 0, r.stderr);
  const record = JSON.parse(r.stdout) as EstimateRecord;
  assert.equal(record.version, ESTIMATE_VERSION);
  assert.ok(record.stepSeconds > 0 && record.stepSeconds < 60, `step ${record.stepSeconds} s`);
  // A Node process with onnxruntime loaded holds tens of MB at least; under 4 GB for a tiny BERT.
  assert.ok(record.peakRssBytes > 20e6 && record.peakRssBytes < 4e9, `peak ${record.peakRssBytes}`);
  assert.equal(record.trainRows, 128);
  assert.equal(record.batchSize, 8);
  assert.equal(record.threads, 1);
  assert.equal(record.gradientAccumulationSteps, 1);
  assert.ok(record.tokens > 0 && record.tokens <= record.longestTokens && record.longestTokens <= 32);
  const cached = readEstimate(estimateCacheDir(config), record.key);
  assert.deepEqual(cached, record);
  // The scratch run directory is gone: nothing but the cache is written beside the config.
  assert.ok(!existsSync(join(dir, '.finetune', 'runs')));

  const text = await finetune(dir, 'estimate', config, '--threads', '1', '--no-cache');
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^step: \d+\.\d{3} s \(1 x 8 rows x \d+ tokens\)$/m);
  assert.match(text.stdout, /^epoch: ≈ \d+ s \(128 rows\)$/m);
});

test('finetune estimate says what is wrong with a bad config, exit code 1', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'estimate-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = writeTinyRun(dir);
  writeFileSync(config, readFileSync(config, 'utf8').replace('batch_size: 8', 'batch_size: 0'));
  const r = await finetune(dir, 'estimate', config);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /tiny\.finetune\.yaml:\d+:\d+: error: .*batch_size/);
});

test('the longest batch is the rows with the most tokens; the timed one the first rows', () => {
  const train = [3, 9, 1, 9, 5];
  const picked = measuredBatches({ train, tokensOf: (e) => e as number }, 2);
  assert.deepEqual(picked.longest, [1, 3]); // ties keep the data's order
  assert.deepEqual(picked.sample, [0, 1]);
  assert.deepEqual(measuredBatches({ train: [4], tokensOf: () => 1 }, 8), { longest: [0], sample: [0] });
});
