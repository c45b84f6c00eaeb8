import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { resumeRun, trainFromConfig } from '../../src/engine/train/finetune.js';
import { FIXTURE_SENTENCES, sentimentRows, toJsonl } from '../fixtures/datasets.js';
import { writeTinyModel } from '../fixtures/tiny-models.js';
import { lossByStep, readEvents } from './helpers/run-events.js';
import { cutToCheckpoint } from './helpers/tiny-run.js';

/**
 * task masked-lm with data.streaming: the corpus tokenized once into the cache beside the runs
 * folder, trained on from there with the same losses and weights as the in-memory run, found
 * again by a second run and by a resume (which resumes exactly), and refused by a task that
 * reads its data in memory.
 */
let dir = '';
const runs = () => join(dir, 'runs');
const config = (streaming: boolean, task = 'masked-lm') => `model: ./model
task: ${task}
data:
  train: text.jsonl
  validation: text-val.jsonl
  max_length: 16
  streaming: ${streaming}
  tokenize_workers: 2
training:
  epochs: 2
  batch_size: 8
  learning_rate: 3.0e-3
  save_steps: 2
device: cpu
`;

const train = async (name: string, streaming: boolean) => {
  const file = join(dir, `${name}.finetune.yaml`);
  writeFileSync(file, config(streaming));
  const runDir = join(runs(), name);
  assert.equal((await trainFromConfig(file, runDir, { threads: 1 })).outcome, 'completed');
  return runDir;
};
const log = (runDir: string) => readFileSync(join(runDir, 'engine.log'), 'utf8');
const weights = (runDir: string) => readFileSync(join(runDir, 'final', 'model.safetensors'));

let memoryRun = '';
let streamedRun = '';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'masked-lm-streamed-'));
  mkdirSync(join(dir, 'model'));
  writeTinyModel(join(dir, 'model'), 'bert', FIXTURE_SENTENCES);
  writeFileSync(join(dir, 'text.jsonl'), toJsonl(sentimentRows(96, 1).map((r) => ({ text: r.text }))));
  writeFileSync(join(dir, 'text-val.jsonl'), toJsonl(sentimentRows(16, 2).map((r) => ({ text: r.text }))));
  memoryRun = await train('memory', false);
  streamedRun = await train('streamed', true);
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('a streamed run tokenizes into the shared cache and trains exactly as the in-memory run', () => {
  assert.match(log(streamedRun), /tokenized data\.train \(\d+ texts, \d+ tokens, .* into cache [0-9a-f]{64}/);
  assert.match(log(streamedRun), /tokenized data\.validation /);
  assert.doesNotMatch(log(memoryRun), /tokenization cache|tokenized data/);
  assert.equal(readdirSync(join(dir, 'cache', 'tokens')).length, 2, 'train and validation caches');
  const events = (r: string) => readEvents(r);
  assert.deepEqual(lossByStep(events(streamedRun)), lossByStep(events(memoryRun)));
  const evals = (r: string) =>
    events(r)
      .filter((e) => e.type === 'eval')
      .map((e) => (e as { metrics: unknown }).metrics);
  assert.ok(evals(memoryRun).length > 0, 'the runs evaluate');
  assert.deepEqual(evals(streamedRun), evals(memoryRun));
  assert.ok(weights(streamedRun).equals(weights(memoryRun)));
  const report = JSON.parse(readFileSync(join(streamedRun, 'data-report.json'), 'utf8'));
  assert.equal(report.streamed.train.hit, false);
});

test('a second streamed run and a resume read the cache: "tokenization cache hit", nothing tokenized', async () => {
  const again = await train('again', true);
  assert.equal((log(again).match(/tokenization cache hit [0-9a-f]{64}/g) ?? []).length, 2, log(again));
  assert.doesNotMatch(log(again), /tokenized data/);
  assert.ok(weights(again).equals(weights(streamedRun)));

  const _run = cutToCheckpoint(again, 4);
  const before = log(again).length;
  assert.equal(await resumeRun(again, { threads: 1 }), 'completed');
  const resumed = log(again).slice(before);
  assert.match(resumed, /tokenization cache hit [0-9a-f]{64}/);
  assert.doesNotMatch(resumed, /tokenized data/);
  assert.match(resumed, /resumed from .*step-4 at step 4/);
  assert.deepEqual(lossByStep(readEvents(again)), lossByStep(readEvents(streamedRun)));
  assert.ok(weights(again).equals(weights(streamedRun)));
});

test('a task that reads its data in memory refuses data.streaming, saying which', async () => {
  const file = join(dir, 'classify.finetune.yaml');
  writeFileSync(file, config(true, 'text-classification'));
  await assert.rejects(
    trainFromConfig(file, join(runs(), 'classify'), { threads: 1 }),
    /task text-classification reads its data in memory: data\.streaming/,
  );
});

test('data.clean.near_dedup with a streamed corpus is refused before anything is tokenized', async () => {
  const file = join(dir, 'near.finetune.yaml');
  writeFileSync(file, config(true).replace('  streaming: true\n', '  streaming: true\n  clean: {near_dedup: true}\n'));
  rmSync(join(dir, 'cache'), { recursive: true, force: true });
  await assert.rejects(
    trainFromConfig(file, join(runs(), 'near'), { threads: 1 }),
    /data\.clean\.near_dedup compares every text with every other in memory/,
  );
  assert.equal(existsSync(join(dir, 'cache')), false, 'no corpus was tokenized');
});
