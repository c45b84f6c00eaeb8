import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { exportCommand, predictCommand } from '../../src/engine/commands/model-commands.js';
import { tensorNumbers } from '../../src/engine/graph/types.js';
import { loadFinetuned } from '../../src/engine/inference/finetuned-model.js';
import { createSession } from '../../src/engine/runtime.js';
import { trainFromConfig } from '../../src/engine/train/finetune.js';
import { FIXTURE_SENTENCES, sentimentRows, toJsonl } from '../fixtures/datasets.js';
import { writeTinyModel } from '../fixtures/tiny-models.js';

let dir = '';
let runDir = '';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ft-model-'));
  mkdirSync(join(dir, 'model'));
  writeTinyModel(join(dir, 'model'), 'bert', FIXTURE_SENTENCES);
  writeFileSync(join(dir, 'train.jsonl'), toJsonl(sentimentRows(320, 1)));
  writeFileSync(join(dir, 'val.jsonl'), toJsonl(sentimentRows(32, 2)));
  writeFileSync(
    join(dir, 'c.finetune.yaml'),
    'model: ./model\ntask: text-classification\ndata:\n  train: train.jsonl\n  validation: val.jsonl\ntraining:\n  epochs: 6\n  batch_size: 16\n  learning_rate: 3.0e-3\ndevice: cpu\n',
  );
  runDir = join(dir, 'run');
  await trainFromConfig(join(dir, 'c.finetune.yaml'), runDir, { threads: 1 });
});

test('predict writes one line per input line with label, score and raw logits', async () => {
  const out = join(dir, 'pred.jsonl');
  assert.equal(await predictCommand.run(['--model', runDir, '--input', join(dir, 'val.jsonl'), '--output', out]), 0);
  const lines = readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { label: string; score: number; logits: number[] });
  const gold = sentimentRows(32, 2);
  assert.equal(lines.length, gold.length);
  for (const p of lines) {
    assert.equal(p.logits.length, 2);
    const exps = p.logits.map((x) => Math.exp(x));
    assert.ok(
      Math.abs(p.score - Math.max(...exps) / exps.reduce((a, b) => a + b, 0)) < 1e-6,
      'score is the softmax probability',
    );
  }
  const correct = lines.filter((p, i) => p.label === gold[i]?.label).length;
  assert.ok(correct / gold.length > 0.7, `accuracy of predictions ${correct}/${gold.length}`);
});

test('exported ONNX and safetensors reload and give the logits of the eval graph', async () => {
  const model = await loadFinetuned(runDir, { device: 'cpu' });
  const encoded = model.recipe.encode(
    sentimentRows(4, 9).map((r, i) => ({
      kind: 'text' as const,
      text: r.text,
      label: r.label,
      source: { file: 'x', line: i + 1 },
    })),
  );
  const batch = model.recipe.collate(encoded);
  const expected = tensorNumbers((await model.evaluate(batch)).logits);
  await model.dispose();

  const onnxDir = join(dir, 'onnx');
  assert.equal(await exportCommand.run([runDir, '--format', 'onnx', '--out', onnxDir]), 0);
  const session = await createSession(readFileSync(join(onnxDir, 'model.onnx')), { device: 'cpu' });
  assert.deepEqual([...session.inputNames].sort(), ['attention_mask', 'input_ids', 'token_type_ids']);
  assert.deepEqual([...session.outputNames], ['logits']);
  const { labels: _labels, ...inputs } = batch;
  const onnxLogits = tensorNumbers((await session.run(inputs)).logits as never);
  await session.dispose();

  const stDir = join(dir, 'st');
  assert.equal(await exportCommand.run([runDir, '--format', 'safetensors', '--out', stDir]), 0);
  const reloaded = await loadFinetuned(stDir, { device: 'cpu' });
  const stLogits = tensorNumbers((await reloaded.evaluate(batch)).logits);
  await reloaded.dispose();
  expected.forEach((v, i) => {
    assert.ok(Math.abs(v - (onnxLogits[i] as number)) < 1e-5, `onnx logit ${i}`);
    assert.ok(Math.abs(v - (stLogits[i] as number)) < 1e-6, `safetensors logit ${i}`);
  });
});

test("export --quantize int8 of a trained run: measured on the run's validation data, within 1 point", async () => {
  const out = join(dir, 'int8');
  // No --data: the run's config.yaml names val.jsonl as data.validation.
  assert.equal(await exportCommand.run([runDir, '--format', 'onnx', '--out', out, '--quantize', 'int8']), 0);
  const report = JSON.parse(readFileSync(join(out, 'quantization.json'), 'utf8')) as {
    validation: { data: string; examples: number };
    float32: number;
    int8: number;
    drop: number;
    accepted: boolean;
  };
  assert.equal(report.validation.data, join(dir, 'val.jsonl'));
  assert.equal(report.validation.examples, 32);
  assert.ok(report.float32 > 70, `the trained model scores ${report.float32} on validation`);
  assert.ok(report.drop <= 1 && report.accepted, `int8 ${report.int8} vs float32 ${report.float32}`);
});
