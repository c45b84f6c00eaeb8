import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodeModel } from '../../src/engine/graph/onnx-codec.js';
import { type TensorData, tensorNumbers } from '../../src/engine/graph/types.js';
import { loadPretrained } from '../../src/engine/io/pretrained.js';
import { readSafetensors } from '../../src/engine/io/safetensors.js';
import { ALL_LINEAR, Lora } from '../../src/engine/methods/lora.js';
import { causalLmModel } from '../../src/engine/models/decoder.js';
import { HfConfigReader } from '../../src/engine/models/hf-config.js';
import type { TrainableModel, Weights } from '../../src/engine/models/model.js';
import { decoderFamilyOf } from '../../src/engine/models/registry.js';
import { createSession } from '../../src/engine/runtime.js';
import { buildForward } from '../../src/engine/step/step-graph.js';
import { trainFromConfig } from '../../src/engine/train/finetune.js';
import { normal, rng } from '../../src/engine/util/random.js';
import { toJsonl } from '../fixtures/datasets.js';
import { type LlamaLikeType, referenceBatch, writeTinyDecoder } from '../fixtures/tiny-decoders.js';
import { GPT2_FIXTURE_SENTENCES, patternedSentences } from '../fixtures/tiny-gpt2.js';
import { batchOf } from './helpers/decoder-batch.js';
import { lossByStep, readEvents } from './helpers/run-events.js';

/** A folder with a tiny `type` model, patterned training texts and a config; returns the run's folder. */
async function train(type: LlamaLikeType, training: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), `ft-${type}-`));
  mkdirSync(join(dir, 'model'));
  writeTinyDecoder(join(dir, 'model'), type, { seed: 4, sentences: GPT2_FIXTURE_SENTENCES });
  writeFileSync(join(dir, 'train.jsonl'), toJsonl(patternedSentences(96, 1).map((text) => ({ text }))));
  writeFileSync(
    join(dir, 'lm.finetune.yaml'),
    `model: ./model
task: causal-lm
data:
  train: train.jsonl
  max_length: 32
  shuffle: false
  clean: { dedup: false }
training:
${training}
device: cpu
`,
  );
  const runDir = join(dir, 'run');
  const { outcome } = await trainFromConfig(join(dir, 'lm.finetune.yaml'), runDir, { threads: 1 });
  assert.equal(outcome, 'completed');
  return runDir;
}

/** Mean step loss of the first and of the last `n` steps. */
function firstAndLast(runDir: string, n = 3): [number, number] {
  const losses = [...lossByStep(readEvents(runDir)).values()];
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return [mean(losses.slice(0, n)), mean(losses.slice(-n))];
}

test('finetune train: a tiny Llama (full fine-tuning, causal-lm on text) converges and saves LlamaForCausalLM', async () => {
  const runDir = await train(
    'llama',
    '  method: full\n  epochs: 3\n  batch_size: 8\n  learning_rate: 3.0e-3\n  warmup_ratio: 0\n  max_grad_norm: 1.0\n  seed: 42',
  );
  const [first, last] = firstAndLast(runDir);
  assert.ok(last < first * 0.6, `step loss ${first} -> ${last}`);
  const config = JSON.parse(readFileSync(join(runDir, 'final', 'config.json'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(config.architectures, ['LlamaForCausalLM']);
  const saved = readSafetensors(join(runDir, 'final', 'model.safetensors')).tensors;
  assert.ok(saved.has('model.layers.1.self_attn.k_proj.weight') && saved.has('lm_head.weight'));
  assert.ok(![...saved.keys()].some((n) => n.includes('inv_freq')));
});

test('lora all-linear with rsLoRA on Qwen2: every projection adapted (never lm_head), PEFT names and config', async () => {
  const runDir = await train(
    'qwen2',
    '  method: lora\n  lora: { r: 4, alpha: 8, dropout: 0, target_modules: all-linear, use_rslora: true }\n  epochs: 2\n  batch_size: 8\n  learning_rate: 1.0e-2\n  seed: 1',
  );
  const [first, last] = firstAndLast(runDir);
  assert.ok(last < first, `step loss ${first} -> ${last}`);
  const adapter = join(runDir, 'final', 'adapter');
  const config = JSON.parse(readFileSync(join(adapter, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
  const modules = ['down_proj', 'gate_proj', 'k_proj', 'o_proj', 'q_proj', 'up_proj', 'v_proj'];
  assert.deepEqual(config.target_modules, modules);
  assert.equal(config.task_type, 'CAUSAL_LM');
  assert.equal(config.use_rslora, true);
  assert.equal(config.modules_to_save, null);
  const names = [...readSafetensors(join(adapter, 'adapter_model.safetensors')).tensors.keys()].sort();
  const expected = [0, 1].flatMap((i) =>
    modules.flatMap((m) => {
      const parent = ['gate_proj', 'up_proj', 'down_proj'].includes(m) ? 'mlp' : 'self_attn';
      const module = `base_model.model.model.layers.${i}.${parent}.${m}`;
      return [`${module}.lora_A.weight`, `${module}.lora_B.weight`];
    }),
  );
  assert.deepEqual(names, expected.sort());
  const log = readFileSync(join(runDir, 'engine.log'), 'utf8');
  assert.match(log, /alpha 8 \(scale 4\)/, 'rsLoRA: alpha / sqrt(r) = 8 / 2');
  assert.match(log, /head trained \(none\)/, 'lm_head stays frozen, as PEFT CAUSAL_LM leaves it');
});

test('lora target_modules by Hugging Face names on Phi-3 and Llama: only the named projections', async () => {
  const phi3 = await train(
    'phi3',
    '  method: lora\n  lora: { r: 2, alpha: 4, dropout: 0 }\n  epochs: 1\n  batch_size: 16\n  learning_rate: 1.0e-2',
  );
  const phi3Names = [...readSafetensors(join(phi3, 'final', 'adapter', 'adapter_model.safetensors')).tensors.keys()];
  assert.deepEqual(
    phi3Names.filter((n) => n.endsWith('lora_A.weight')).sort(),
    [0, 1].map((i) => `base_model.model.model.layers.${i}.self_attn.qkv_proj.lora_A.weight`),
    "Phi-3's PEFT default: qkv_proj",
  );
  const llama = await train(
    'llama',
    '  method: lora\n  lora: { r: 2, alpha: 4, dropout: 0, target_modules: [k_proj, o_proj, up_proj] }\n  epochs: 1\n  batch_size: 16\n  learning_rate: 1.0e-2',
  );
  const config = JSON.parse(readFileSync(join(llama, 'final', 'adapter', 'adapter_config.json'), 'utf8')) as {
    target_modules: string[];
    use_rslora: boolean;
  };
  assert.deepEqual(config.target_modules, ['k_proj', 'o_proj', 'up_proj']);
  assert.equal(config.use_rslora, false);
  const adapted = [...readSafetensors(join(llama, 'final', 'adapter', 'adapter_model.safetensors')).tensors.keys()]
    .filter((n) => n.endsWith('lora_B.weight'))
    .map((n) => n.split('.').slice(-3, -2)[0]);
  assert.deepEqual([...new Set(adapted)].sort(), ['k_proj', 'o_proj', 'up_proj']);
  assert.equal(adapted.length, 6);
});

test('lora all-linear on Llama: the merged weights compute what the adapter graph computes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lora-merge-'));
  const config = writeTinyDecoder(dir, 'llama', { seed: 6 });
  const cfg = new HfConfigReader(config, `${dir}/config.json`);
  const lora = new Lora({ r: 2, alpha: 6, dropout: 0, targetModules: ALL_LINEAR, useRslora: true });
  const base = causalLmModel(decoderFamilyOf(cfg), { config: cfg, adapters: lora.hook });
  const weights = loadPretrained(dir, base.params, { basePrefix: 'model' }).weights;
  assert.equal(lora.plan(base, new Set()).length, 2 * 7);
  const adapters = lora.initWeights(3);
  // B starts at zero (the adapter adds nothing): filled here so the comparison means something.
  const rand = rng(5);
  for (const m of lora.modules) {
    const b = adapters.get(m.B)?.data as Float32Array;
    for (let i = 0; i < b.length; i++) b[i] = 0.3 * normal(rand);
  }
  const batch = batchOf(referenceBatch(config.vocab_size as number));
  const lossOf = async (model: TrainableModel, w: Weights) => {
    const spec = buildForward({
      model,
      weights: w,
      trainable: new Set(),
      optimizer: { kind: 'adamw', weightDecay: 0 },
    });
    const session = await createSession(encodeModel(spec.graph), { device: 'cpu', threads: 1 });
    try {
      return tensorNumbers((await session.run(batch))[spec.loss] as TensorData)[0] as number;
    } finally {
      await session.dispose();
    }
  };
  const all = new Map([...weights, ...adapters]);
  const adapted = await lossOf(lora.wrap(base), all);
  const merged = await lossOf(base, lora.merge(all));
  const plain = await lossOf(base, weights);
  assert.ok(Math.abs(adapted - plain) > 1e-2, `the adapters change the loss (${plain} -> ${adapted})`);
  assert.ok(Math.abs(adapted - merged) < 1e-5, `adapter graph ${adapted} vs merged ${merged}`);
});
