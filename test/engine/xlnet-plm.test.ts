import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodeModel } from '../../src/engine/graph/onnx-codec.js';
import { type TensorData, tensorNumbers, tensorOf } from '../../src/engine/graph/types.js';
import { loadCausalLm } from '../../src/engine/inference/causal-lm-model.js';
import { readSafetensors } from '../../src/engine/io/safetensors.js';
import { HfConfigReader } from '../../src/engine/models/hf-config.js';
import { initWeights } from '../../src/engine/models/init.js';
import { xlnetLmModel } from '../../src/engine/models/xlnet/two-stream.js';
import { createSession } from '../../src/engine/runtime.js';
import type { Batch } from '../../src/engine/step/batch.js';
import { buildForward } from '../../src/engine/step/step-graph.js';
import {
  factorisationOrder,
  type PermutationOptions,
  PLM_DEFAULTS,
  permutationBatch,
} from '../../src/engine/tasks/causal-lm/permutation.js';
import { trainFromConfig } from '../../src/engine/train/finetune.js';
import { StepRunner } from '../../src/engine/train/step-runner.js';
import { rng } from '../../src/engine/util/random.js';
import { FIXTURE_SENTENCES, sentimentRows, toJsonl } from '../fixtures/datasets.js';
import { tinyConfig } from '../fixtures/tiny-configs.js';
import { writeTinyModel } from '../fixtures/tiny-models.js';
import { evalMetrics } from './helpers/run-events.js';
import { type PlmBatch, referencePlm } from './helpers/xlnet-plm-reference.js';
import { randomWeights } from './helpers/xlnet-reference.js';

/**
 * XLNet's permutation language model (XLNetLMHeadModel with DataCollatorForPermutationLanguageModeling's
 * perm_mask and target_mapping): the collator's masks by their definitions, the two-stream graph
 * against a float64 re-computation of modeling_xlnet.py's formulas, and a loss that falls.
 */
const MASK = 6; // <mask> in the XLNet fixture's vocabulary order
const PAD = 5;
const SPECIALS = new Set([3, 4, PAD]); // <cls>, <sep>, <pad>
const VOCAB = 40;

const options = (seed: number): PermutationOptions => ({
  ...PLM_DEFAULTS,
  maskId: MASK,
  isSpecial: (id) => SPECIALS.has(id),
  rand: rng(seed),
});

const matrix = (t: TensorData, B: number, R: number, C: number): number[][][] => {
  const v = tensorNumbers(t);
  return Array.from({ length: B }, (_, b) =>
    Array.from({ length: R }, (_, r) => Array.from({ length: C }, (_, c) => v[(b * R + r) * C + c] as number)),
  );
};

/** Blocks of ids 7..VOCAB-1 ending in <sep> <cls>, as the tokenizer leaves each text. */
function blocks(count: number, T: number, seed: number): number[][] {
  const rand = rng(seed);
  return Array.from({ length: count }, () => [
    ...Array.from({ length: T - 2 }, () => 7 + Math.floor(rand() * (VOCAB - 7))),
    4,
    3,
  ]);
}

test('permutation collator: spans, labels, target_mapping and perm_mask as DataCollatorForPermutationLanguageModeling', () => {
  const T = 24;
  const input = blocks(40, T, 1);
  const batch = permutationBatch(input, options(2));
  const ids = tensorNumbers(batch.input_ids as TensorData);
  const labels = tensorNumbers(batch.labels as TensorData);
  const perm = matrix(batch.perm_mask as TensorData, 40, T, T);
  const mapping = matrix(batch.target_mapping as TensorData, 40, T, T);
  let predicted = 0;
  input.forEach((block, b) => {
    const masked = block.map((_, t) => labels[b * T + t] !== -100);
    block.forEach((id, t) => {
      if (masked[t]) {
        predicted++;
        assert.equal(labels[b * T + t], id, 'a predicted token keeps its id in labels');
        assert.equal(ids[b * T + t], MASK, 'and is the mask token in input_ids');
        assert.ok(!SPECIALS.has(id), 'specials are never predicted');
      } else assert.equal(ids[b * T + t], id);
    });
    for (let i = 0; i < T; i++)
      for (let j = 0; j < T; j++) {
        assert.equal(mapping[b]?.[i]?.[j], i === j ? 1 : 0, 'target_mapping is the identity');
        const blocked = perm[b]?.[i]?.[j] === 1;
        if (!masked[j]) assert.ok(!blocked, 'only predicted tokens are hidden');
        // Tokens that are neither predicted nor special (order -1) see no predicted token.
        if (masked[j] && !masked[i] && !SPECIALS.has(block[i] as number)) assert.ok(blocked);
        if (masked[j] && i === j) assert.ok(blocked, 'a predicted token never sees itself');
      }
    // Among predicted tokens the factorisation order is a strict order: i sees j or j sees i, never both.
    for (let i = 0; i < T; i++)
      for (let j = i + 1; j < T; j++) if (masked[i] && masked[j]) assert.notEqual(perm[b]?.[i]?.[j], perm[b]?.[j]?.[i]);
  });
  // plm_probability 1/6 of the tokens (spans may run past the end or hit the specials): about 4 of 24.
  const rate = predicted / (40 * T);
  assert.ok(rate > 0.1 && rate < 0.2, `predicted fraction ${rate}`);
  assert.throws(() => permutationBatch(blocks(1, 7, 3), options(1)), /sequence length 7 is odd/);
});

test('factorisation order: the two halves are permuted by the same columns and never cross', () => {
  const order = factorisationOrder(10, rng(4));
  const first = order.slice(0, 5);
  assert.deepEqual([...first].sort(), [0, 1, 2, 3, 4]);
  assert.deepEqual(
    order.slice(5),
    first.map((c) => c + 5),
  );
});

function model() {
  const config = new HfConfigReader(tinyConfig('xlnet', VOCAB, { dropout: 0 }), 'xlnet/config.json');
  return xlnetLmModel(config);
}

async function forward(weights: Map<string, TensorData>, batch: Batch): Promise<{ logits: number[]; loss: number }> {
  const m = model();
  const spec = buildForward({ model: m, weights, trainable: new Set(), optimizer: { kind: 'adamw', weightDecay: 0 } });
  const session = await createSession(encodeModel(spec.graph), { device: 'cpu', threads: 1 });
  try {
    const out = await session.run(batch);
    return {
      logits: tensorNumbers(out[spec.logits as string] as TensorData),
      loss: (out[spec.loss] as TensorData).data[0] as number,
    };
  } finally {
    await session.dispose();
  }
}

function assertClose(actual: readonly number[], expected: readonly number[], tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const worst = Math.max(...actual.map((v, i) => Math.abs(v - (expected[i] as number))));
  assert.ok(worst < tol, `${what}: max |graph - float64 reference| = ${worst}`);
}

test('two-stream graph: logits and loss match a float64 re-computation (identity and general target_mapping)', async () => {
  const T = 8;
  const m = model();
  const weights = randomWeights(m.params, 7);
  const batch = permutationBatch(blocks(2, T, 5), { ...options(6), plmProbability: 1 / 3 });
  const ref = (b: Batch, M: number): PlmBatch => ({
    ids: matrix(b.input_ids as TensorData, 2, 1, T).map((x) => x[0] as number[]),
    permMask: matrix(b.perm_mask as TensorData, 2, T, T),
    targetMapping: matrix(b.target_mapping as TensorData, 2, M, T),
    labels: matrix(b.labels as TensorData, 2, 1, M).map((x) => x[0] as number[]),
  });
  const want = referencePlm(m.arch, weights, ref(batch, T));
  assert.ok(
    want.logits.flat(2).some((v) => Math.abs(v) > 1),
    'logits are not trivially small',
  );
  const got = await forward(weights, batch);
  assertClose(got.logits, want.logits.flat(2), 1e-4, 'logits');
  assert.ok(Math.abs(got.loss - want.loss) < 1e-4, `loss ${got.loss} vs ${want.loss}`);

  // Three predictions mixing tokens (not one-hot rows): the einsum rewrites, checked in general.
  const rand = rng(9);
  const general: Batch = {
    ...batch,
    target_mapping: tensorOf(
      'float32',
      [2, 3, T],
      Array.from({ length: 2 * 3 * T }, () => rand()),
    ),
    labels: tensorOf('int64', [2, 3], [9, -100, 12, 20, 21, 22]),
  };
  const want3 = referencePlm(m.arch, weights, ref(general, 3));
  const got3 = await forward(weights, general);
  assertClose(got3.logits, want3.logits.flat(2), 1e-4, 'logits (general target_mapping)');
  assert.ok(Math.abs(got3.loss - want3.loss) < 1e-4, `loss ${got3.loss} vs ${want3.loss}`);
});

/** Rows of ids 7..VOCAB-1 ending in <sep> <cls>, of the given lengths. */
const rowsOf = (lengths: readonly number[], seed: number) =>
  lengths.map((L, i) => blocks(1, L, seed + i)[0] as number[]);

const padded = (seed: number, plmProbability = PLM_DEFAULTS.plmProbability): PermutationOptions => ({
  ...options(seed),
  plmProbability,
  padding: { id: PAD, side: 'left' },
});

test('padded permutation batch: rows left-padded to an even length, padding never predicted nor attended', () => {
  const lengths = [15, 8, 11];
  const input = rowsOf(lengths, 20);
  const batch = permutationBatch(input, padded(21, 1 / 3));
  const T = 16; // the longest row, 15, made even: the collator itself refuses an odd length
  assert.deepEqual(batch.input_ids?.dims, [3, T]);
  const ids = tensorNumbers(batch.input_ids as TensorData);
  const labels = tensorNumbers(batch.labels as TensorData);
  const attention = tensorNumbers(batch.attention_mask as TensorData);
  const perm = matrix(batch.perm_mask as TensorData, 3, T, T);
  let predicted = 0;
  input.forEach((row, b) => {
    const off = T - row.length;
    for (let t = 0; t < T; t++) {
      const pad = t < off;
      assert.equal(attention[b * T + t], pad ? 0 : 1, `row ${b} position ${t}: attention_mask`);
      if (pad) {
        assert.equal(ids[b * T + t], PAD, 'padding is the pad token, on the left');
        assert.equal(labels[b * T + t], -100, 'padding is never a target');
        for (let i = 0; i < T; i++)
          assert.equal(perm[b]?.[i]?.[t], 0, 'perm_mask never hides padding (it is not predicted)');
      } else {
        const id = row[t - off] as number;
        if (labels[b * T + t] === -100) assert.equal(ids[b * T + t], id, 'the row, right-aligned');
        else {
          predicted++;
          assert.equal(labels[b * T + t], id);
          assert.equal(ids[b * T + t], MASK);
        }
      }
    }
  });
  assert.ok(predicted > 0, 'some tokens are predicted');
  // Equal full rows need no pad token; rows of different lengths without one are refused.
  assert.equal(permutationBatch(blocks(2, 8, 1), options(1)).input_ids?.dims[1], 8);
  assert.throws(() => permutationBatch(rowsOf([8, 6], 1), options(1)), /differ in length and no pad token/);
});

test('padded permutation batch: each row computes what it computes alone, unpadded (padding does not leak in)', async () => {
  const m = model();
  const weights = randomWeights(m.params, 11);
  const lengths = [16, 9, 12];
  const batch = permutationBatch(rowsOf(lengths, 30), padded(31, 1 / 3));
  const T = 16;
  const V = m.arch.vocabSize;
  const ids = matrix(batch.input_ids as TensorData, 3, 1, T).map((x) => x[0] as number[]);
  const labels = matrix(batch.labels as TensorData, 3, 1, T).map((x) => x[0] as number[]);
  const perm = matrix(batch.perm_mask as TensorData, 3, T, T);
  const together = await forward(weights, batch);
  const want = referencePlm(m.arch, weights, {
    ids,
    permMask: perm,
    targetMapping: matrix(batch.target_mapping as TensorData, 3, T, T),
    labels,
    mask: matrix(batch.attention_mask as TensorData, 3, 1, T).map((x) => x[0] as number[]),
  });
  assertClose(together.logits, want.logits.flat(2), 1e-4, 'padded batch against the float64 reference');
  let nll = 0;
  let targets = 0;
  for (const [b, L] of lengths.entries()) {
    // The row alone: its tokens, its part of perm_mask and labels, an identity target_mapping.
    const off = T - L;
    const alone: Batch = {
      input_ids: tensorOf('int64', [1, L], (ids[b] as number[]).slice(off)),
      attention_mask: tensorOf('int64', [1, L], new Array<number>(L).fill(1)),
      perm_mask: tensorOf(
        'float32',
        [1, L, L],
        (perm[b] as number[][]).slice(off).flatMap((r) => r.slice(off)),
      ),
      target_mapping: tensorOf(
        'float32',
        [1, L, L],
        Array.from({ length: L * L }, (_, k) => (Math.floor(k / L) === k % L ? 1 : 0)),
      ),
      labels: tensorOf('int64', [1, L], (labels[b] as number[]).slice(off)),
    };
    const single = await forward(weights, alone);
    const rowLogits = together.logits.slice((b * T + off) * V, (b + 1) * T * V);
    assertClose(rowLogits, single.logits, 1e-4, `row ${b} (${L} tokens, ${off} pads)`);
    const n = (labels[b] as number[]).filter((l) => l !== -100).length;
    nll += single.loss * n;
    targets += n;
  }
  // The batch loss is the mean over every row's targets.
  assert.ok(Math.abs(together.loss - nll / targets) < 1e-4, `loss ${together.loss} vs ${nll / targets}`);
  // What the collator's batch alone (no attention_mask) computes: the padding is attended and the
  // padded rows' logits move, so the comparison above would catch a mask that let it in.
  const leaky = await forward(weights, {
    ...batch,
    attention_mask: tensorOf('int64', [3, T], new Array(3 * T).fill(1)),
  });
  const row1 = (l: readonly number[]) => l.slice((T + (T - 9)) * V, 2 * T * V); // row 1: 9 tokens after 7 pads
  const moved = Math.max(...row1(leaky.logits).map((v, i) => Math.abs(v - (row1(together.logits)[i] as number))));
  assert.ok(moved > 1e-2, `attending the padding moves row 1's logits by ${moved}`);
});

test('permutation LM trains: the loss on a repetitive corpus falls, mask_emb and lm_loss.bias get gradients', async () => {
  const m = model();
  const weights = initWeights(m.params, 1);
  const loaded = new Map(weights); // the runner takes the trained entries of `weights` over
  const runner = await StepRunner.create({
    model: m,
    weights,
    trainable: new Set(m.params.map((p) => p.name)),
    optimizer: { kind: 'adamw', weightDecay: 0 },
    maxGradNorm: 1,
    device: 'cpu',
    threads: 1,
  });
  // A fixed cycle of tokens: every masked token is predictable from its neighbours.
  const cycle = (start: number) => [...Array.from({ length: 14 }, (_, t) => 7 + ((start + t) % 12)), 4, 3];
  const rand = rng(3);
  const losses: number[] = [];
  try {
    for (let step = 0; step < 60; step++) {
      const input = Array.from({ length: 8 }, () => cycle(Math.floor(rand() * 12)));
      const { loss } = await runner.step(permutationBatch(input, options(100 + step)), 1e-2);
      losses.push(loss);
    }
    const trained = runner.weights();
    for (const name of ['transformer.mask_emb', 'lm_loss.bias'])
      assert.notDeepEqual(
        tensorNumbers(trained.get(name) as TensorData),
        tensorNumbers(loaded.get(name) as TensorData),
      );
  } finally {
    await runner.dispose();
  }
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const first = mean(losses.slice(0, 10));
  const last = mean(losses.slice(-10));
  assert.ok(last < first * 0.5, `loss ${first.toFixed(3)} -> ${last.toFixed(3)}`);
});

test('task causal-lm on XLNet: run_plm through trainFromConfig, an XLNetLMHeadModel folder and its ONNX', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ft-xlnet-plm-'));
  mkdirSync(join(dir, 'model'));
  writeTinyModel(join(dir, 'model'), 'xlnet', FIXTURE_SENTENCES);
  const texts = (n: number, seed: number) => sentimentRows(n, seed).map((r) => ({ text: r.text }));
  writeFileSync(join(dir, 'train.jsonl'), toJsonl(texts(400, 1)));
  writeFileSync(join(dir, 'val.jsonl'), toJsonl(texts(60, 2)));
  writeFileSync(
    join(dir, 'plm.finetune.yaml'),
    `model: ./model
task: causal-lm
data:
  train: train.jsonl
  validation: val.jsonl
  max_length: 32
training:
  epochs: 4
  batch_size: 16
  learning_rate: 5.0e-3
  warmup_ratio: 0.1
device: cpu
`,
  );
  const runDir = join(dir, 'run');
  const { outcome } = await trainFromConfig(join(dir, 'plm.finetune.yaml'), runDir, { threads: 1 });
  assert.equal(outcome, 'completed');
  const evals = evalMetrics(runDir).filter((m) => m.loss !== undefined);
  const losses = evals.map((m) => m.loss as number);
  console.log(`eval loss by epoch: ${losses.map((l) => l.toFixed(3)).join(' ')}`);
  assert.equal(evals.length, 4);
  assert.ok((losses.at(-1) as number) < (losses[0] as number) - 0.5, `eval loss ${losses.join(' -> ')}`);
  const last = evals.at(-1) as Record<string, number>;
  assert.ok(Math.abs((last.perplexity as number) - Math.exp(last.loss as number)) < 1e-6 * (last.perplexity as number));

  const final = join(runDir, 'final');
  const config = JSON.parse(readFileSync(join(final, 'config.json'), 'utf8')) as {
    architectures: string[];
    vocab_size: number;
  };
  assert.deepEqual(config.architectures, ['XLNetLMHeadModel']);
  const names = [...readSafetensors(join(final, 'model.safetensors')).tensors.keys()];
  assert.ok(names.includes('lm_loss.bias') && names.includes('transformer.mask_emb'));
  assert.ok(!names.includes('lm_loss.weight'), 'lm_loss.weight is tied to the word embedding');
  const session = await createSession(readFileSync(join(final, 'model.onnx')), { device: 'cpu' });
  try {
    assert.deepEqual([...session.inputNames].sort(), ['attention_mask', 'input_ids', 'perm_mask', 'target_mapping']);
    const batch = permutationBatch(blocks(2, 32, 8), options(9));
    const { labels: _labels, ...inputs } = batch;
    const logits = (await session.run(inputs)).logits as TensorData;
    assert.deepEqual(logits.dims, [2, 32, config.vocab_size]);
  } finally {
    await session.dispose();
  }
  // A permutation LM does not continue text: the generation paths (predict, serve, export) say so.
  await assert.rejects(loadCausalLm(runDir), /XLNet permutation LM \(XLNetLMHeadModel\) does not generate text/);
});
