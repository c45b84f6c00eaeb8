import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseConfigText, toValue } from '../../src/shared/config-tree.js';
import { applyDefaults } from '../../src/shared/config-validate.js';
import { ESTIMATE_VERSION, type EstimateRecord, formatBytes } from '../../src/shared/cost-estimate.js';
import { configCost, costLenses } from '../../src/shared/node/config-cost.js';
import {
  dataStamp,
  estimateCacheDir,
  estimateKey,
  estimatePath,
  modelStamp,
} from '../../src/shared/node/estimate-cache.js';
import { estimateForConfig } from '../../src/shared/node/model-memory.js';
import { FIXTURE_SENTENCES, sentimentRows, toJsonl } from '../fixtures/datasets.js';
import { writeTinyModel } from '../fixtures/tiny-models.js';
import { tempDir } from './helpers.js';

/**
 * The cost CodeLens (src/extension/validation/cost-lens.ts shows these titles) for a tiny BERT
 * config: before a measurement, the memory formula and "Measure time"; with a measurement in the
 * cache for this model, shape, method, threads and device, its peak and the time per epoch; after
 * the data changed, the peak and "Measure time" again. The record is written as the engine writes
 * it (test/engine/estimate-command.test.ts runs the engine).
 */
const TEXT = `model: ./model
task: text-classification
data:
  train: train.jsonl
  max_length: 32
training:
  epochs: 3
  batch_size: 8
device: cpu
`;

test('the cost CodeLens of a config: estimated, measured, and measured for other data', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'model'));
  writeTinyModel(join(dir, 'model'), 'bert', FIXTURE_SENTENCES);
  writeFileSync(join(dir, 'train.jsonl'), toJsonl(sentimentRows(128, 1)));
  const path = join(dir, 'tiny.finetune.yaml');
  writeFileSync(path, TEXT);
  const settings = { threads: 1, device: 'auto' } as const;

  const formula = await estimateForConfig(parseConfigText(TEXT, 'yaml'), dir);
  assert.ok(formula);
  const before = costLenses(await configCost(TEXT, 'yaml', path, settings));
  assert.deepEqual(
    before.map((l) => l.title),
    [`≈ ${formatBytes(formula.total)} on this machine`, '$(watch) Measure time'],
  );

  const config = applyDefaults(toValue(parseConfigText(TEXT, 'yaml').root));
  // device: the setting's auto leaves the config's cpu, as the engine then runs it.
  const key = estimateKey(config, modelStamp(join(dir, 'model')), 1, 'cpu');
  const record: EstimateRecord = {
    version: ESTIMATE_VERSION,
    key,
    measuredAt: '2026-12-06T10:00:00.000Z',
    stepSeconds: 0.5,
    peakRssBytes: 310e6,
    batchSize: 8,
    tokens: 20,
    longestTokens: 32,
    trainRows: 128,
    dataStamp: dataStamp(config.data, dir),
    gradientAccumulationSteps: 1,
    threads: 1,
    device: 'cpu',
  };
  mkdirSync(estimateCacheDir(path), { recursive: true });
  writeFileSync(estimatePath(estimateCacheDir(path), key), JSON.stringify(record));
  const measured = await configCost(TEXT, 'yaml', path, settings);
  // 128 rows / 8 = 16 steps × 0.5 s = 8 s per epoch.
  assert.equal(measured?.summary.epochSeconds, 8);
  assert.deepEqual(
    costLenses(measured).map((l) => l.title),
    ['≈ 310 MB · ≈ 8 s/epoch on this machine'],
  );
  // Another thread count is another measurement: none yet.
  const twoThreads = costLenses(await configCost(TEXT, 'yaml', path, { threads: 2, device: 'auto' }));
  assert.equal(twoThreads.at(-1)?.title, '$(watch) Measure time');
  // batch_size 16 is another shape: not measured either.
  const bigger = TEXT.replace('batch_size: 8', 'batch_size: 16');
  assert.equal(costLenses(await configCost(bigger, 'yaml', path, settings)).at(-1)?.title, '$(watch) Measure time');

  // More rows: the step is still measured (same key), the epoch is not known for this data.
  writeFileSync(
    join(dir, 'train.jsonl'),
    `${readFileSync(join(dir, 'train.jsonl'), 'utf8')}${toJsonl(sentimentRows(8, 3))}`,
  );
  assert.deepEqual(
    costLenses(await configCost(TEXT, 'yaml', path, settings)).map((l) => l.title),
    ['≈ 310 MB on this machine', '$(watch) Measure time'],
  );
});

test('no cost lens when the model folder cannot be read', async (t) => {
  const dir = tempDir(t);
  const text = TEXT.replace('./model', './missing');
  assert.deepEqual(
    costLenses(await configCost(text, 'yaml', join(dir, 'x.finetune.yaml'), { threads: 0, device: 'auto' })),
    [],
  );
});
