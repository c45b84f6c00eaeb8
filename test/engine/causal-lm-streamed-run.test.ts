import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { trainFromConfig } from '../../src/engine/train/finetune.js';
import { toJsonl } from '../fixtures/datasets.js';
import { GPT2_FIXTURE_SENTENCES, patternedSentences, writeTinyGpt2 } from '../fixtures/tiny-gpt2.js';
import { lossByStep, readEvents } from './helpers/run-events.js';

/**
 * task causal-lm on text rows with data.streaming: packed blocks read from the tokenized-corpus
 * cache, two micro-batches an optimizer step (the token-weighted collateStep over indices), with
 * the losses, evaluations and weights of the in-memory run.
 */
let dir = '';
const config = (streaming: boolean) => `model: ./model
task: causal-lm
data:
  train: train.jsonl
  validation: val.jsonl
  format: text
  packing: true
  max_length: 16
  streaming: ${streaming}
  tokenize_workers: 1
training:
  epochs: 1
  batch_size: 4
  gradient_accumulation_steps: 2
  learning_rate: 1.0e-3
device: cpu
`;

const train = async (name: string, streaming: boolean) => {
  const file = join(dir, `${name}.finetune.yaml`);
  writeFileSync(file, config(streaming));
  const runDir = join(dir, 'runs', name);
  assert.equal((await trainFromConfig(file, runDir, { threads: 1 })).outcome, 'completed');
  return runDir;
};

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'causal-lm-streamed-'));
  mkdirSync(join(dir, 'model'));
  writeTinyGpt2(join(dir, 'model'), GPT2_FIXTURE_SENTENCES);
  writeFileSync(join(dir, 'train.jsonl'), toJsonl(patternedSentences(120, 1).map((text) => ({ text }))));
  writeFileSync(join(dir, 'val.jsonl'), toJsonl(patternedSentences(20, 2).map((text) => ({ text }))));
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('a streamed causal-LM run trains exactly as the in-memory run', { timeout: 300_000 }, async () => {
  const memory = await train('memory', false);
  const streamed = await train('streamed', true);
  assert.match(readFileSync(join(streamed, 'engine.log'), 'utf8'), /tokenized data\.train .* into cache [0-9a-f]{64}/);
  const losses = lossByStep(readEvents(streamed));
  assert.ok(losses.size > 2);
  assert.deepEqual(losses, lossByStep(readEvents(memory)));
  // The in-memory run's n-gram baseline (an eval event at step 0) needs the texts: not streamed.
  const evals = (r: string) =>
    readEvents(r).flatMap((e) => (e.type === 'eval' && e.step > 0 ? [(e as { metrics: unknown }).metrics] : []));
  assert.deepEqual(evals(streamed), evals(memory));
  const weights = (r: string) => readFileSync(join(r, 'final', 'model.safetensors'));
  assert.ok(weights(streamed).equals(weights(memory)));
});
