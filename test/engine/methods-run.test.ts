import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { exportCommand } from '../../src/engine/commands/model-commands.js';
import { encodeModel } from '../../src/engine/graph/onnx-codec.js';
import { type TensorData, tensorNumbers } from '../../src/engine/graph/types.js';
import { readSafetensors } from '../../src/engine/io/safetensors.js';
import { Lora, readPeftAdapter } from '../../src/engine/methods/lora.js';
import { createSession } from '../../src/engine/runtime.js';
import { buildForward } from '../../src/engine/step/step-graph.js';
import { encoderRecipe } from '../../src/engine/tasks/encoder/recipe.js';
import { Tokenizer } from '../../src/engine/tokenize/index.js';
import { resumeRun, trainFromConfig } from '../../src/engine/train/finetune.js';
import { applyDefaults } from '../../src/shared/config-validate.js';
import type { RunEvent } from '../../src/shared/run-directory.js';
import { FIXTURE_SENTENCES, sentimentRows, toJsonl } from '../fixtures/datasets.js';
import { writeTinyModel } from '../fixtures/tiny-models.js';
import { trainUntilStopped } from './helpers/tiny-run.js';

/**
 * training.method through `trainFromConfig` on a tiny BERT: frozen weights stay bit-identical,
 * the rest trains, the log states trainable/total parameters and bytes carried per step, LoRA writes
 * a PEFT adapter and a merged model whose logits are the adapter graph's, and resumes exactly.
 */
let dir = '';
let base = new Map<string, TensorData>();
const modelDir = () => join(dir, 'model');

const TRAINING = `  epochs: 3
  batch_size: 16
  warmup_ratio: 0.1`;

function writeConfig(name: string, method: string, learningRate: number): string {
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
${TRAINING}
  learning_rate: ${learningRate}
${method}
eval:
  metrics: [accuracy]
device: cpu
`,
  );
  return file;
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ft-methods-run-'));
  mkdirSync(modelDir());
  writeTinyModel(modelDir(), 'bert', FIXTURE_SENTENCES);
  writeFileSync(join(dir, 'train.jsonl'), toJsonl(sentimentRows(160, 1)));
  writeFileSync(join(dir, 'val.jsonl'), toJsonl(sentimentRows(32, 2)));
  base = readSafetensors(join(modelDir(), 'model.safetensors')).tensors;
});

const bytesOf = (t: TensorData) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
const identical = (a: TensorData | undefined, b: TensorData | undefined) =>
  a !== undefined && b !== undefined && bytesOf(a).equals(bytesOf(b));
const size = (w: Map<string, TensorData>, names: Iterable<string>) =>
  [...names].reduce((n, name) => n + (w.get(name)?.data.length ?? 0), 0);
const readLog = (runDir: string) => readFileSync(join(runDir, 'engine.log'), 'utf8');
const events = (runDir: string) =>
  readFileSync(join(runDir, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as RunEvent);
const evalLosses = (runDir: string) => events(runDir).flatMap((e) => (e.type === 'eval' ? [e.metrics.loss] : []));
const latestCheckpoint = (runDir: string) => {
  const steps = (JSON.parse(readFileSync(join(runDir, 'status.json'), 'utf8')) as { step: number }).step;
  return join(runDir, 'checkpoints', `step-${steps}`);
};

/** "method X: T of N parameters trained" and "parameter bytes carried per step: B" from engine.log. */
function logged(runDir: string): { method: string; trained: number; total: number; fed: number } {
  const log = readLog(runDir);
  const num = (s: string) => Number(s.replaceAll(',', ''));
  const m = /method (\w+): ([\d,]+) of ([\d,]+) parameters trained/.exec(log);
  const b =
    /parameter bytes carried per step: ([\d,]+) \(trained parameters ([\d,]+) \+ optimizer state ([\d,]+)\)/.exec(log);
  assert.ok(m && b, `engine.log states the method and the bytes carried:\n${log}`);
  assert.equal(num(b[1] as string), num(b[2] as string) + num(b[3] as string));
  return { method: m[1] as string, trained: num(m[2] as string), total: num(m[3] as string), fed: num(b[1] as string) };
}

test('freeze: embeddings and layer 0 stay bit-identical, layer 1, pooler and head train; the log states it', async () => {
  const config = writeConfig('freeze', '  method: freeze\n  freeze_layers: 1', 3e-3);
  const runDir = join(dir, 'run-freeze');
  const { outcome } = await trainFromConfig(config, runDir, { threads: 1 });
  assert.equal(outcome, 'completed');
  const final = readSafetensors(join(runDir, 'final', 'model.safetensors')).tensors;
  const frozen = [...base.keys()].filter(
    (n) => n.startsWith('bert.embeddings.') || n.startsWith('bert.encoder.layer.0.'),
  );
  assert.equal(frozen.length, 5 + 16);
  for (const name of frozen) assert.ok(identical(final.get(name), base.get(name)), `${name} is frozen`);
  const trained = [...final.keys()].filter((n) => !frozen.includes(n));
  for (const name of trained.filter((n) => base.has(n) && n.endsWith('.weight'))) {
    assert.ok(!identical(final.get(name), base.get(name)), `${name} trained`);
  }
  assert.ok(final.has('classifier.weight'));
  const log = logged(runDir);
  assert.equal(log.method, 'freeze');
  assert.equal(log.total, size(final, final.keys()));
  assert.equal(log.trained, size(final, trained));
  assert.equal(log.fed, log.trained * 4 * 3, 'parameters + AdamW exp_avg + exp_avg_sq');
  assert.match(readLog(runDir), /embeddings and layer 0 of 2 frozen/);
  const losses = evalLosses(runDir);
  assert.ok((losses.at(-1) as number) < (losses[0] as number), `eval loss ${losses.join(' -> ')}`);
});

const LORA = '  method: lora\n  lora:\n    r: 4\n    alpha: 8\n    dropout: 0.1\n    target_modules: [query, value]';
const TARGETED = [0, 1].flatMap((i) => ['query', 'value'].map((m) => `bert.encoder.layer.${i}.attention.self.${m}`));
let loraRun = '';

test('lora: the base stays bit-identical, adapters and head train; PEFT adapter files; merged final weights', async () => {
  const config = writeConfig('lora', LORA, 1e-2);
  loraRun = join(dir, 'run-lora');
  const { outcome } = await trainFromConfig(config, loraRun, { threads: 1 });
  assert.equal(outcome, 'completed');

  // The last checkpoint holds the unmerged state: every base weight as loaded, adapters beside them.
  const ckpt = readSafetensors(join(latestCheckpoint(loraRun), 'model.safetensors')).tensors;
  for (const [name, t] of base) assert.ok(identical(ckpt.get(name), t), `${name} is frozen`);

  // PEFT layout: adapter_config.json + adapter_model.safetensors with PEFT's key names.
  const adapterDir = join(loraRun, 'final', 'adapter');
  const config1 = JSON.parse(readFileSync(join(adapterDir, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(config1.peft_type, 'LORA');
  assert.equal(config1.task_type, 'SEQ_CLS');
  assert.equal(config1.r, 4);
  assert.equal(config1.lora_alpha, 8);
  assert.equal(config1.lora_dropout, 0.1);
  assert.deepEqual(config1.target_modules, ['query', 'value']);
  assert.deepEqual(config1.modules_to_save, ['classifier']);
  assert.equal(config1.bias, 'none');
  assert.equal(config1.fan_in_fan_out, false);
  assert.equal(config1.inference_mode, true);
  assert.equal(config1.base_model_name_or_path, modelDir());
  const st = readSafetensors(join(adapterDir, 'adapter_model.safetensors'));
  assert.deepEqual(st.metadata, { format: 'pt' });
  const expectedKeys = [
    ...TARGETED.flatMap((m) => [`base_model.model.${m}.lora_A.weight`, `base_model.model.${m}.lora_B.weight`]),
    'base_model.model.classifier.weight',
    'base_model.model.classifier.bias',
  ];
  assert.deepEqual([...st.tensors.keys()].sort(), expectedKeys.sort());
  for (const m of TARGETED) {
    assert.deepEqual(st.tensors.get(`base_model.model.${m}.lora_A.weight`)?.dims, [4, 32]);
    const b = st.tensors.get(`base_model.model.${m}.lora_B.weight`) as TensorData;
    assert.deepEqual(b.dims, [32, 4]);
    assert.ok(
      tensorNumbers(b).some((v) => v !== 0),
      `${m}.lora_B trained away from zero`,
    );
  }

  // final/model.safetensors: a plain Hugging Face model, the adapters merged: W + (alpha / r) B A.
  const final = readSafetensors(join(loraRun, 'final', 'model.safetensors')).tensors;
  assert.ok(![...final.keys()].some((n) => n.includes('lora_')));
  for (const [name, t] of base) {
    const module = name.slice(0, name.lastIndexOf('.'));
    if (!TARGETED.includes(module) || !name.endsWith('.weight')) {
      assert.ok(identical(final.get(name), t), `${name} unchanged`);
      continue;
    }
    const A = tensorNumbers(st.tensors.get(`base_model.model.${module}.lora_A.weight`) as TensorData);
    const B = tensorNumbers(st.tensors.get(`base_model.model.${module}.lora_B.weight`) as TensorData);
    const W = tensorNumbers(t);
    const got = tensorNumbers(final.get(name) as TensorData);
    for (let o = 0; o < 32; o++)
      for (let i = 0; i < 32; i++) {
        let s = 0;
        for (let k = 0; k < 4; k++) s += (B[o * 4 + k] as number) * (A[k * 32 + i] as number);
        const want = (W[o * 32 + i] as number) + 2 * s;
        assert.ok(Math.abs((got[o * 32 + i] as number) - want) < 1e-6, `${name}[${o}, ${i}] merged`);
      }
  }

  // The log: adapters + head trained of base + adapters; bytes carried = those and their AdamW state only.
  const log = logged(loraRun);
  assert.equal(log.method, 'lora');
  const adapters = 4 * (4 * 32 + 32 * 4);
  assert.equal(log.trained, adapters + 2 * 32 + 2);
  assert.equal(log.total, size(base, base.keys()) + adapters + 2 * 32 + 2);
  assert.equal(log.fed, log.trained * 12);
  assert.match(
    readLog(loraRun),
    /lora: 1,024 adapter parameters in 4 modules \(12,288 bytes carried per step with their optimizer state\), 66 head parameters \(792 bytes\)/,
  );
  const losses = evalLosses(loraRun);
  assert.ok((losses.at(-1) as number) < (losses[0] as number), `eval loss ${losses.join(' -> ')}`);
});

test('lora: `export` gives the merged model, with the logits of the unmerged adapter graph (1e-5)', async () => {
  assert.ok(loraRun, 'runs after the LoRA run');
  const out = join(dir, 'export-lora');
  assert.equal(await exportCommand.run([loraRun, '--format', 'onnx', '--out', out]), 0);
  assert.ok(!existsSync(join(out, 'adapter_config.json')), 'the export is a plain model folder');

  // The unmerged graph: the base model folder + the PEFT adapter, adapters as separate Gemms.
  const { config, weights: adapter } = readPeftAdapter(join(loraRun, 'final', 'adapter'));
  const lora = new Lora({
    r: config.r as number,
    alpha: config.lora_alpha as number,
    dropout: config.lora_dropout as number,
    targetModules: config.target_modules as string[],
  });
  const labels = JSON.parse(readFileSync(join(loraRun, 'final', 'labels.json'), 'utf8')) as string[];
  const recipe = encoderRecipe({
    config: applyDefaults({ model: modelDir(), task: 'text-classification', data: { train: '', max_length: 32 } }),
    modelDir: modelDir(),
    tokenizer: Tokenizer.fromFolder(modelDir()),
    labelSet: { labels, ids: new Map(labels.map((l, i) => [l, i])), order: 'model-config' },
    seed: 0,
    adapters: lora.hook,
  });
  lora.plan(recipe.model, new Set(['classifier.weight', 'classifier.bias']));
  const weights = new Map([...recipe.weights, ...adapter]);
  const forward = buildForward({
    model: lora.wrap(recipe.model),
    weights,
    trainable: new Set(),
    optimizer: { kind: 'adamw', weightDecay: 0 },
  });
  const rows = sentimentRows(6, 9).map((r, i) => ({
    kind: 'text' as const,
    text: r.text,
    label: r.label,
    source: { file: 'x', line: i + 1 },
  }));
  const batch = recipe.collate(recipe.encode(rows));
  const unmerged = await createSession(encodeModel(forward.graph), { device: 'cpu', threads: 1 });
  const want = tensorNumbers((await unmerged.run(batch))[forward.logits as string] as TensorData);
  await unmerged.dispose();
  const merged = await createSession(readFileSync(join(out, 'model.onnx')), { device: 'cpu', threads: 1 });
  const { labels: _labels, ...inputs } = batch;
  const got = tensorNumbers((await merged.run(inputs)).logits as TensorData);
  await merged.dispose();
  assert.equal(got.length, want.length);
  want.forEach((v, i) => {
    assert.ok(Math.abs(v - (got[i] as number)) < 1e-5, `logit ${i}: ${v} vs ${got[i]}`);
  });
});

test('lora: a run stopped mid-epoch and resumed ends exactly where an uninterrupted one does', async () => {
  assert.ok(loraRun, 'runs after the LoRA run');
  const config = join(dir, 'lora.finetune.yaml');
  const runDir = join(dir, 'run-lora-resumed');
  const stopAt = 7; // mid-epoch 1 (10 steps per epoch), after the first checkpoint-free stretch
  await trainUntilStopped(config, runDir, stopAt);
  assert.equal(await resumeRun(runDir, { threads: 1 }), 'completed');

  const stepLosses = (d: string) =>
    new Map(events(d).flatMap((e) => (e.type === 'step' ? [[e.step, e.loss] as const] : [])));
  const want = stepLosses(loraRun);
  const got = stepLosses(runDir);
  assert.equal(got.size, want.size);
  for (const [step, loss] of want) assert.equal(got.get(step), loss, `step ${step} loss`);
  const a = readSafetensors(join(loraRun, 'final', 'adapter', 'adapter_model.safetensors')).tensors;
  const b = readSafetensors(join(runDir, 'final', 'adapter', 'adapter_model.safetensors')).tensors;
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  for (const [name, t] of a) assert.ok(identical(t, b.get(name)), `${name} identical after resume`);
});
