import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { exportCommand } from '../../src/engine/commands/model-commands.js';
import { type TensorData, tensorNumbers } from '../../src/engine/graph/types.js';
import { loadFinetuned } from '../../src/engine/inference/finetuned-model.js';
import { readSafetensors } from '../../src/engine/io/safetensors.js';
import { createSession } from '../../src/engine/runtime.js';
import { trainFromConfig } from '../../src/engine/train/finetune.js';
import { FIXTURE_SENTENCES, sentimentRows, toJsonl } from '../fixtures/datasets.js';
import { writeTinyModel } from '../fixtures/tiny-models.js';
import { evalMetrics } from './helpers/run-events.js';

/**
 * A fine-tuned XLNet leaves the run as a Hugging Face folder: exported to ONNX and to safetensors
 * it reloads with the logits of the eval graph, on a left-padded batch. LoRA on XLNet targets the
 * feed-forward Linears (layer_1, layer_2: PEFT cannot wrap the einsum tensors q/k/v/o/r), trains
 * with the base frozen, writes PEFT's adapter and a merged model that scores as the adapter graph.
 */
let dir = '';
const modelDir = () => join(dir, 'model');

function writeConfig(name: string, method: string): string {
  const file = join(dir, `${name}.finetune.yaml`);
  writeFileSync(
    file,
    `model: ./model
task: text-classification
data:
  train: train.jsonl
  validation: val.jsonl
  max_length: 32
training:
  epochs: 4
  batch_size: 16
  learning_rate: 1.0e-2
  warmup_ratio: 0.1
${method}
eval:
  metrics: [accuracy]
device: cpu
`,
  );
  return file;
}

const textRows = (n: number, seed: number) =>
  sentimentRows(n, seed).map((r, i) => ({
    kind: 'text' as const,
    text: r.text,
    label: r.label,
    source: { file: 'x', line: i + 1 },
  }));

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ft-xlnet-export-'));
  mkdirSync(modelDir());
  writeTinyModel(modelDir(), 'xlnet', FIXTURE_SENTENCES);
  writeFileSync(join(dir, 'train.jsonl'), toJsonl(sentimentRows(160, 1)));
  writeFileSync(join(dir, 'val.jsonl'), toJsonl(sentimentRows(32, 2)));
});

test('xlnet export: ONNX and safetensors reload with the logits of the eval graph (left-padded batch)', async () => {
  const runDir = join(dir, 'run-full');
  assert.equal((await trainFromConfig(writeConfig('full', ''), runDir, { threads: 1 })).outcome, 'completed');
  const model = await loadFinetuned(runDir, { device: 'cpu' });
  const batch = model.recipe.collate(model.recipe.encode(textRows(6, 9)));
  const mask = tensorNumbers(batch.attention_mask as TensorData);
  assert.ok(mask.includes(0), 'the batch is padded');
  const expected = tensorNumbers((await model.evaluate(batch)).logits);
  await model.dispose();

  const onnxDir = join(dir, 'onnx');
  assert.equal(await exportCommand.run([runDir, '--format', 'onnx', '--out', onnxDir]), 0);
  const session = await createSession(readFileSync(join(onnxDir, 'model.onnx')), { device: 'cpu' });
  assert.deepEqual([...session.inputNames].sort(), ['attention_mask', 'input_ids', 'token_type_ids']);
  const { labels: _labels, ...inputs } = batch;
  const onnxLogits = tensorNumbers((await session.run(inputs)).logits as TensorData);
  await session.dispose();

  const stDir = join(dir, 'st');
  assert.equal(await exportCommand.run([runDir, '--format', 'safetensors', '--out', stDir]), 0);
  const names = [...readSafetensors(join(stDir, 'model.safetensors')).tensors.keys()];
  for (const n of ['transformer.mask_emb', 'sequence_summary.summary.weight', 'logits_proj.weight'])
    assert.ok(names.includes(n), `${n} exported`);
  const reloaded = await loadFinetuned(stDir, { device: 'cpu' });
  const stLogits = tensorNumbers((await reloaded.evaluate(batch)).logits);
  await reloaded.dispose();
  assert.equal(onnxLogits.length, expected.length);
  expected.forEach((v, i) => {
    assert.ok(Math.abs(v - (onnxLogits[i] as number)) < 1e-5, `onnx logit ${i}: ${v} vs ${onnxLogits[i]}`);
    assert.equal(stLogits[i], v, `safetensors logit ${i}`);
  });
});

test('xlnet lora: layer_1/layer_2 adapters train on a frozen base; PEFT adapter; the merged export scores as the adapter graph', async () => {
  const runDir = join(dir, 'run-lora');
  const config = writeConfig('lora', '  method: lora\n  lora:\n    r: 4\n    alpha: 8\n    dropout: 0');
  assert.equal((await trainFromConfig(config, runDir, { threads: 1 })).outcome, 'completed');
  const evals = evalMetrics(runDir);
  const losses = evals.map((m) => m.loss as number);
  assert.ok((losses.at(-1) as number) < (losses[0] as number), `eval loss ${losses.join(' -> ')}`);

  const adapterDir = join(runDir, 'final', 'adapter');
  const peft = JSON.parse(readFileSync(join(adapterDir, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(peft.target_modules, ['layer_1', 'layer_2'], 'the XLNet family default');
  assert.equal(peft.task_type, 'SEQ_CLS');
  assert.deepEqual([...(peft.modules_to_save as string[])].sort(), ['logits_proj', 'sequence_summary']);
  const adapter = readSafetensors(join(adapterDir, 'adapter_model.safetensors')).tensors;
  for (let l = 0; l < 2; l++)
    for (const [m, inner] of [
      ['layer_1', [4, 32]],
      ['layer_2', [4, 64]],
    ] as const) {
      const key = `base_model.model.transformer.layer.${l}.ff.${m}`;
      assert.deepEqual(adapter.get(`${key}.lora_A.weight`)?.dims, inner);
      const b = adapter.get(`${key}.lora_B.weight`) as TensorData;
      assert.ok(b && tensorNumbers(b).some((v) => v !== 0), `${key}.lora_B trained away from zero`);
    }
  // Attention tensors stay the base model's: LoRA trains no rel_attn weight.
  const base = readSafetensors(join(modelDir(), 'model.safetensors')).tensors;
  const final = readSafetensors(join(runDir, 'final', 'model.safetensors')).tensors;
  for (const name of ['transformer.layer.0.rel_attn.q', 'transformer.layer.1.rel_attn.r_w_bias'])
    assert.deepEqual(tensorNumbers(final.get(name) as TensorData), tensorNumbers(base.get(name) as TensorData), name);
  assert.notDeepEqual(
    tensorNumbers(final.get('transformer.layer.0.ff.layer_1.weight') as TensorData),
    tensorNumbers(base.get('transformer.layer.0.ff.layer_1.weight') as TensorData),
    'the adapters are merged into layer_1',
  );

  // The merged model, exported to ONNX, gives the validation loss the trainer's adapter graph gave.
  const out = join(dir, 'export-lora');
  assert.equal(await exportCommand.run([runDir, '--format', 'onnx', '--out', out]), 0);
  const merged = await loadFinetuned(out, { device: 'cpu' });
  const val = merged.recipe.encode(
    sentimentRows(32, 2).map((r, i) => ({ kind: 'text' as const, ...r, source: { file: 'val', line: i + 1 } })),
  );
  const batch = merged.recipe.collate(val);
  const { loss } = await merged.evaluate(batch);
  const { labels: _labels, ...inputs } = batch;
  const session = await createSession(readFileSync(join(out, 'model.onnx')), { device: 'cpu' });
  const onnxLogits = tensorNumbers((await session.run(inputs)).logits as TensorData);
  await session.dispose();
  const logits = tensorNumbers((await merged.evaluate(batch)).logits);
  await merged.dispose();
  assert.ok(Math.abs(loss - (losses.at(-1) as number)) < 1e-4, `merged loss ${loss} vs adapter graph ${losses.at(-1)}`);
  logits.forEach((v, i) => {
    assert.ok(Math.abs(v - (onnxLogits[i] as number)) < 1e-5, `onnx logit ${i}`);
  });
});
