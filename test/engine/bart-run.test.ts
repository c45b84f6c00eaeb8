import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { exportCommand, predictCommand } from '../../src/engine/commands/model-commands.js';
import { encodeModel } from '../../src/engine/graph/onnx-codec.js';
import { type TensorData, tensorNumbers, tensorOf } from '../../src/engine/graph/types.js';
import { loadSeq2Seq } from '../../src/engine/inference/seq2seq-model.js';
import { readHfConfig } from '../../src/engine/io/hf-config.js';
import { loadPretrained } from '../../src/engine/io/pretrained.js';
import { readSafetensors } from '../../src/engine/io/safetensors.js';
import type { BartVariant } from '../../src/engine/models/bart/arch.js';
import { HfConfigReader } from '../../src/engine/models/hf-config.js';
import { seq2seqFamilyOf } from '../../src/engine/models/registry.js';
import { seq2seqLmModel } from '../../src/engine/models/seq2seq.js';
import { createSession } from '../../src/engine/runtime.js';
import { buildInference } from '../../src/engine/step/step-graph.js';
import { argmax } from '../../src/engine/tasks/metrics/classification.js';
import { resumeRun, trainFromConfig } from '../../src/engine/train/finetune.js';
import { RunDirectory } from '../../src/engine/train/run-dir.js';
import { toJsonl } from '../fixtures/datasets.js';
import { writeTinyBart } from '../fixtures/tiny-bart.js';
import { toyPairs } from '../fixtures/tiny-t5.js';
import { evalMetrics, lossByStep, readEvents } from './helpers/run-events.js';

/**
 * Whole translation runs on tiny BART, mBART and Marian folders: the toy language pair of the T5
 * tests (each word through a lexicon, the order reversed) learnt by teacher forcing and then
 * generated greedily; the export reloaded with the same logits; a resumed run equal to an
 * uninterrupted one; LoRA on q_proj and v_proj.
 */
const VARIANTS: readonly BartVariant[] = ['bart', 'mbart', 'marian'];
let dir = '';
const runs = new Map<BartVariant, string>();

const configText = (model: string, training = '') => `model: ./${model}
task: translation
data:
  train: train.jsonl
  validation: val.jsonl
  source_lang: en
  target_lang: toy
  max_source_length: 16
  max_target_length: 12
training:
  epochs: 12
  batch_size: 8
  learning_rate: 5.0e-3
  warmup_steps: 5
  dropout: 0.0
  save_steps: 20
${training}eval:
  every: 40
device: cpu
`;

const MODEL_CONFIG = {
  d_model: 32,
  encoder_ffn_dim: 64,
  decoder_ffn_dim: 64,
  encoder_attention_heads: 4,
  decoder_attention_heads: 4,
  // Weights drawn with std 0.2, not the configs' 0.02: from 0.02 a 32-wide model takes several times
  // the steps to start reading the source (measured: Marian's eval loss 1.89 -> 1.11 in 400 steps).
  init_std: 0.2,
};

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bart-run-'));
  const rows = (n: number, seed: number) =>
    toyPairs(n, seed).map((p) => ({ translation: { en: p.source, toy: p.target } }));
  writeFileSync(join(dir, 'train.jsonl'), toJsonl(rows(320, 1)));
  writeFileSync(join(dir, 'val.jsonl'), toJsonl(rows(16, 2)));
  for (const variant of VARIANTS) {
    mkdirSync(join(dir, variant));
    writeTinyBart(join(dir, variant), variant, { seed: 2, config: MODEL_CONFIG });
    writeFileSync(join(dir, `${variant}.finetune.yaml`), configText(variant));
    const runDir = join(dir, `${variant}-run`);
    const { outcome } = await trainFromConfig(join(dir, `${variant}.finetune.yaml`), runDir, { threads: 1 });
    assert.equal(outcome, 'completed');
    runs.set(variant, runDir);
  }
});

after(() => rmSync(dir, { recursive: true, force: true }));

for (const variant of VARIANTS) {
  test(`${variant}: translation learns the toy pair; greedy generation with the KV cache equals the full recompute and the teacher-forced argmax`, async () => {
    const runDir = runs.get(variant) as string;
    const evals = evalMetrics(runDir);
    const [first, last] = [evals[0]?.loss as number, evals.at(-1)?.loss as number];
    process.stdout.write(`# ${variant} toy translation eval loss ${first.toFixed(3)} -> ${last.toFixed(3)}\n`);
    assert.ok(evals.length >= 3 && last < first / 3, `eval loss ${first} -> ${last}`);
    const log = readFileSync(join(runDir, 'engine.log'), 'utf8');
    assert.doesNotMatch(log, /unused weights in the checkpoint/); // tied copies and sinusoids are ignored
    const model = await loadSeq2Seq(runDir, { threads: 1 });
    try {
      const pairs = toyPairs(16, 2);
      const cached = await model.generate(pairs.map((p) => p.source));
      const recomputed = await model.generate(
        pairs.map((p) => p.source),
        { useCache: false },
      );
      assert.deepEqual(
        cached.map((g) => g.ids),
        recomputed.map((g) => g.ids),
      );
      // The teacher-forced model.onnx (the `decode` graph) picks each generated token at its position.
      const forward = await createSession(readFileSync(join(runDir, 'final', 'model.onnx')), {
        device: 'cpu',
        threads: 1,
      });
      try {
        const { decoderStartTokenId: start, eosTokenIds } = model.defaults;
        for (const [b, g] of cached.entries()) {
          const ids = model.tokenizer.encode(pairs[b]?.source as string, null).ids;
          const targets = g.finishReason === 'stop' ? [...g.ids, eosTokenIds[0] as number] : g.ids;
          const decoderIds = [start, ...targets.slice(0, -1)];
          const out = await forward.run({
            input_ids: tensorOf('int64', [1, ids.length], ids),
            attention_mask: tensorOf('int64', [1, ids.length], new Array<number>(ids.length).fill(1)),
            decoder_input_ids: tensorOf('int64', [1, decoderIds.length], decoderIds),
          });
          const logits = tensorNumbers(out.logits as TensorData);
          const V = logits.length / decoderIds.length;
          assert.deepEqual(
            targets.map((_, t) => argmax(logits, t * V, V)),
            targets,
            `row ${b}`,
          );
        }
      } finally {
        await forward.dispose();
      }
      const exact = cached.filter((g, i) => g.text.trim() === pairs[i]?.target).length;
      process.stdout.write(`# ${variant} greedy translations equal to the toy target: ${exact}/${pairs.length}\n`);
      assert.ok(exact >= pairs.length / 2, `${exact} exact: ${cached.map((g) => g.text).join(' | ')}`);
    } finally {
      await model.dispose();
    }
  });
}

test('export: safetensors in Hugging Face names (no Marian sinusoids, final_logits_bias kept) reload with the logits of model.onnx; --format onnx the same', async () => {
  const feeds = (start: number) => ({
    input_ids: tensorOf('int64', [2, 4], [5, 6, 7, 8, 9, 10, 11, 12]),
    attention_mask: tensorOf('int64', [2, 4], [1, 1, 1, 1, 1, 1, 1, 0]),
    decoder_input_ids: tensorOf('int64', [2, 3], [start, 13, 14, start, 15, 16]),
  });
  for (const variant of VARIANTS) {
    const runDir = runs.get(variant) as string;
    const cfg = new HfConfigReader(readHfConfig(join(runDir, 'final')), 'final/config.json');
    const batch = feeds(cfg.int('decoder_start_token_id'));
    const logitsOf = async (onnx: Uint8Array) => {
      const session = await createSession(onnx, { device: 'cpu', threads: 1 });
      try {
        return tensorNumbers((await session.run(batch)).logits as TensorData);
      } finally {
        await session.dispose();
      }
    };
    const trained = await logitsOf(readFileSync(join(runDir, 'final', 'model.onnx')));
    const folder = join(dir, `${variant}-exported`);
    assert.equal(await exportCommand.run([runDir, '--format', 'safetensors', '--out', folder]), 0);
    const names = [...readSafetensors(join(folder, 'model.safetensors')).tensors.keys()];
    assert.ok(names.includes('final_logits_bias') && names.includes('model.shared.weight'), names.join());
    assert.equal(
      names.some((n) => n.includes('embed_positions')),
      variant !== 'marian',
      variant,
    );
    assert.ok(!names.some((n) => n.includes('embed_tokens') || n === 'lm_head.weight'), names.join());
    const exported = new HfConfigReader(readHfConfig(folder), `${folder}/config.json`);
    const family = seq2seqFamilyOf(exported);
    const model = seq2seqLmModel(family, { config: exported });
    const loaded = loadPretrained(folder, model.params, {
      basePrefix: family.basePrefix,
      tiedNames: model.seq2seq.tiedNames,
    });
    assert.deepEqual([loaded.missing, loaded.unexpected], [[], []]);
    assert.deepEqual(await logitsOf(encodeModel(buildInference(model, loaded.weights))), trained, variant);
    const architecture = {
      bart: 'BartForConditionalGeneration',
      mbart: 'MBartForConditionalGeneration',
      marian: 'MarianMTModel',
    };
    assert.deepEqual(exported.raw.architectures, [architecture[variant]]);
    // Generation settings pass through (forced_eos_token_id, decoder_start_token_id) for generate().
    const source = readHfConfig(join(dir, variant));
    assert.deepEqual(
      [exported.raw.forced_eos_token_id, exported.raw.decoder_start_token_id],
      [source.forced_eos_token_id, source.decoder_start_token_id],
    );
    const onnx = join(dir, `${variant}-onnx`);
    assert.equal(await exportCommand.run([runDir, '--format', 'onnx', '--out', onnx]), 0);
    assert.deepEqual(await logitsOf(readFileSync(join(onnx, 'model.onnx'))), trained, variant);
  }
});

test('marian: finetune predict on the run prints the greedy translations (MarianMTModel is a seq2seq head)', async () => {
  const runDir = runs.get('marian') as string;
  const pairs = toyPairs(4, 2);
  const input = join(dir, 'predict.jsonl');
  const output = join(dir, 'predict.out.jsonl');
  writeFileSync(input, toJsonl(pairs.map((p) => ({ text: p.source }))));
  assert.equal(await predictCommand.run(['--model', runDir, '--input', input, '--output', output]), 0);
  const lines = readFileSync(output, 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { translation_text: string }).translation_text);
  const model = await loadSeq2Seq(runDir, { threads: 1 });
  try {
    assert.deepEqual(
      lines,
      (await model.generate(pairs.map((p) => p.source))).map((g) => g.text),
    );
  } finally {
    await model.dispose();
  }
});

test('mbart: resume from a mid-run checkpoint gives the same losses and the same final weights (dropout on)', async () => {
  const config = join(dir, 'resume.finetune.yaml');
  writeFileSync(
    config,
    configText('mbart', '').replace('epochs: 12', 'epochs: 1').replace('dropout: 0.0', 'dropout: 0.1'),
  );
  const whole = join(dir, 'whole');
  const resumed = join(dir, 'resumed');
  for (const r of [whole, resumed])
    assert.equal((await trainFromConfig(config, r, { threads: 1 })).outcome, 'completed');
  const run = new RunDirectory(resumed, { totalSteps: 0 });
  for (const step of run.checkpointSteps()) if (step > 20) rmSync(run.checkpointPath(step), { recursive: true });
  rmSync(run.file('final'), { recursive: true });
  assert.equal(await resumeRun(resumed, { threads: 1 }), 'completed');
  assert.match(readFileSync(run.file('engine.log'), 'utf8'), /resumed from .*step-20 at step 20/);
  assert.deepEqual(lossByStep(readEvents(resumed)), lossByStep(readEvents(whole)));
  const bytes = (r: string) => readFileSync(join(r, 'final', 'model.safetensors'));
  assert.ok(bytes(resumed).equals(bytes(whole)));
});

test('marian: LoRA on q_proj and v_proj (PEFT SEQ_2_SEQ_LM); final_logits_bias stays a frozen buffer', async () => {
  const config = join(dir, 'lora.finetune.yaml');
  writeFileSync(
    config,
    configText('marian', '  method: lora\n  lora: {r: 4, alpha: 8, dropout: 0.0}\n')
      .replace('epochs: 12', 'epochs: 1')
      .replace('learning_rate: 5.0e-3', 'learning_rate: 1.0e-2'),
  );
  const { runDir, outcome } = await trainFromConfig(config, join(dir, 'lora-run'), { threads: 1 });
  assert.equal(outcome, 'completed');
  const log = readFileSync(join(runDir, 'engine.log'), 'utf8');
  // 2 encoder layers × (q, v) + 2 decoder layers × (self q, v + cross q, v) = 12 modules
  assert.match(log, /on 12 modules \(target_modules: q_proj, v_proj\); base model frozen, head trained \(none\)/);
  const names = [...readSafetensors(join(runDir, 'final', 'adapter', 'adapter_model.safetensors')).tensors.keys()];
  assert.equal(names.length, 24);
  assert.ok(names.includes('base_model.model.model.decoder.layers.1.encoder_attn.v_proj.lora_B.weight'), names.join());
  const bias = (folder: string) =>
    tensorNumbers(readSafetensors(join(folder, 'model.safetensors')).tensors.get('final_logits_bias') as TensorData);
  assert.deepEqual(bias(join(runDir, 'final')), bias(join(dir, 'marian')));
});

test('marian: training on a folder with source.spm / target.spm and no tokenizer.json is refused with how to convert', async () => {
  const model = join(dir, 'marian-spm');
  writeTinyBart(model, 'marian', { config: MODEL_CONFIG });
  unlinkSync(join(model, 'tokenizer.json'));
  writeFileSync(join(model, 'source.spm'), 'sentencepiece model');
  writeFileSync(join(model, 'target.spm'), 'sentencepiece model');
  writeFileSync(join(dir, 'spm.finetune.yaml'), configText('marian-spm'));
  await assert.rejects(
    trainFromConfig(join(dir, 'spm.finetune.yaml'), join(dir, 'spm-run'), { threads: 1 }),
    new RegExp(
      `${model}: a Marian folder with SentencePiece models \\(source\\.spm, target\\.spm\\) but no tokenizer\\.json`,
    ),
  );
});
