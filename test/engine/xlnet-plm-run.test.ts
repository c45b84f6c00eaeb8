import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Example } from '../../src/engine/data/records.js';
import { type TensorData, tensorNumbers } from '../../src/engine/graph/types.js';
import { TASKS } from '../../src/engine/tasks/registry.js';
import { Tokenizer } from '../../src/engine/tokenize/index.js';
import { resumeRun, trainFromConfig } from '../../src/engine/train/finetune.js';
import { applyDefaults } from '../../src/shared/config-validate.js';
import { FIXTURE_SENTENCES, sentimentRows, toJsonl } from '../fixtures/datasets.js';
import { writeTinyModel } from '../fixtures/tiny-models.js';
import { evalMetrics, lossByStep, readEvents } from './helpers/run-events.js';
import { cutToCheckpoint } from './helpers/tiny-run.js';

/**
 * XLNet's permutation LM (task causal-lm) through the trainer: its masks are drawn per (epoch,
 * batch) from the run's seed, so a run stopped and resumed logs the losses of an uninterrupted one
 * and ends with the same weights, with texts grouped into blocks and line by line (padded batches).
 */
let dir = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'xlnet-plm-run-'));
  mkdirSync(join(dir, 'model'));
  writeTinyModel(join(dir, 'model'), 'xlnet', FIXTURE_SENTENCES);
  writeFileSync(join(dir, 'text.jsonl'), toJsonl(sentimentRows(96, 1).map((r) => ({ text: r.text }))));
  writeFileSync(join(dir, 'text-val.jsonl'), toJsonl(sentimentRows(16, 2).map((r) => ({ text: r.text }))));
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** A permutation-LM config: 2 epochs of batches of 8, dropout on (the model's 0.1), checkpoints every 2 steps. */
function writeConfig(name: string, lineByLine: boolean): string {
  const path = join(dir, `${name}.finetune.yaml`);
  writeFileSync(
    path,
    `model: ./model
task: causal-lm
data:
  train: text.jsonl
  validation: text-val.jsonl
  max_length: 16
  line_by_line: ${lineByLine}
training:
  epochs: 2
  batch_size: 8
  learning_rate: 3.0e-3
  save_steps: 2
device: cpu
`,
  );
  return path;
}

test('permutation LM masks: the same for the same (epoch, batch), drawn afresh for another epoch or batch', () => {
  const modelDir = join(dir, 'model');
  const recipe = TASKS['causal-lm'].recipe({
    config: applyDefaults({ model: modelDir, task: 'causal-lm', data: { train: 'x.jsonl', max_length: 16 } }),
    modelDir,
    tokenizer: Tokenizer.fromFolder(modelDir),
    labelSet: undefined,
    seed: 42,
  });
  const texts: Example[] = sentimentRows(24, 3).map((r, i) => ({
    kind: 'text',
    text: r.text,
    source: { file: 't.jsonl', line: i + 1 },
  }));
  const blocks = recipe.encode(texts).slice(0, 8);
  const perm = (epoch: number, batch: number) =>
    tensorNumbers(recipe.collate(blocks, { epoch, batch }).perm_mask as TensorData).join('');
  assert.equal(perm(1, 3), perm(1, 3));
  assert.notEqual(perm(1, 3), perm(2, 3), 'a later epoch draws new masks for the same blocks');
  assert.notEqual(perm(1, 3), perm(1, 4));
});

for (const lineByLine of [false, true]) {
  const mode = lineByLine ? 'line by line (left-padded batches)' : 'texts grouped into blocks';
  test(`permutation LM resume, ${mode}: the same step losses and the same final weights`, async () => {
    const name = lineByLine ? 'lines' : 'grouped';
    const config = writeConfig(name, lineByLine);
    const straight = join(dir, `${name}-straight`);
    assert.equal((await trainFromConfig(config, straight, { threads: 1 })).outcome, 'completed');
    const resumed = join(dir, `${name}-resumed`);
    assert.equal((await trainFromConfig(config, resumed, { threads: 1 })).outcome, 'completed');
    const run = cutToCheckpoint(resumed, 4);
    assert.equal(await resumeRun(resumed, { threads: 1 }), 'completed');
    assert.match(readFileSync(run.file('engine.log'), 'utf8'), /resumed from .*step-4 at step 4/);
    const losses = lossByStep(readEvents(straight));
    console.log(`${name}: ${losses.size} steps, loss ${[...losses.values()].map((l) => l.toFixed(3)).join(' ')}`);
    assert.ok(losses.size > 8, `the resume point lies well inside the run (${losses.size} steps)`);
    assert.deepEqual(lossByStep(readEvents(resumed)), losses);
    const bytes = (r: string) => readFileSync(join(r, 'final', 'model.safetensors'));
    assert.ok(bytes(resumed).equals(bytes(straight)));
    const evals = evalMetrics(straight);
    assert.equal(evals.length, 2);
    for (const m of evals) assert.ok(Number.isFinite(m.loss) && Number.isFinite(m.perplexity), JSON.stringify(m));
  });
}
