import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeModel } from '../../src/engine/graph/onnx-codec.js';
import { type TensorData, tensorNumbers, tensorOf, type Value } from '../../src/engine/graph/types.js';
import { readHfConfig } from '../../src/engine/io/hf-config.js';
import { loadPretrained } from '../../src/engine/io/pretrained.js';
import { HfConfigReader } from '../../src/engine/models/hf-config.js';
import { blockContext } from '../../src/engine/models/layers.js';
import type { Weights } from '../../src/engine/models/model.js';
import { seq2seqFamilyOf } from '../../src/engine/models/registry.js';
import { type Seq2SeqLmModel, seq2seqLmModel, shiftRight } from '../../src/engine/models/seq2seq.js';
import type { T5Arch } from '../../src/engine/models/t5/arch.js';
import { bucketTable, relativePositionBucket } from '../../src/engine/models/t5/buckets.js';
import { t5Decode, t5Encode, t5LmHead, t5Specs } from '../../src/engine/models/t5/model.js';
import { createSession } from '../../src/engine/runtime.js';
import { buildForward } from '../../src/engine/step/step-graph.js';
import { tempDir } from '../extension/helpers.js';
import { writeTinyT5 } from '../fixtures/tiny-t5.js';
import { gradCheck } from './helpers/gradcheck.js';
import { referenceBucket, referenceT5Logits } from './helpers/t5-reference.js';

function load(dir: string): { model: Seq2SeqLmModel; weights: Weights; missing: string[]; unexpected: string[] } {
  const cfg = new HfConfigReader(readHfConfig(dir), `${dir}/config.json`);
  const model = seq2seqLmModel(seq2seqFamilyOf(cfg), { config: cfg });
  const loaded = loadPretrained(dir, model.params, { basePrefix: '' });
  const unexpected = loaded.unexpected.filter((n) => !model.seq2seq.isIgnoredTensor(n));
  return { model, weights: loaded.weights, missing: loaded.missing, unexpected };
}

test('relative position buckets: hand-worked values of t5-small (32 buckets, max_distance 128) and the reference', () => {
  const enc = { bidirectional: true, buckets: 32, maxDistance: 128 };
  const dec = { bidirectional: false, buckets: 32, maxDistance: 128 };
  // Encoder: 16 buckets a side, 8 exact. d ≥ 8: 8 + int(ln(d/8) / ln(16) · 8), at most 15.
  // r = -20: ln(2.5)/ln(16)·8 = 2.64 → 10; r = 20 → 16 + 10; r = -60: ln(7.5)/ln(16)·8 = 5.81 → 13.
  const encoder: [number, number][] = [
    [0, 0],
    [-1, 1],
    [1, 17],
    [-7, 7],
    [7, 23],
    [-20, 10],
    [20, 26],
    [-60, 13],
    [127, 31],
    [-128, 15],
    [-1000, 15],
    [1000, 31],
  ];
  // Decoder (causal): key after query is bucket 0; 32 buckets, 16 exact; d ≥ 16: 16 + int(ln(d/16)/ln(8)·16).
  // r = -20: ln(1.25)/ln(8)·16 = 1.72 → 17; r = -100: ln(6.25)/ln(8)·16 = 14.1 → 30; r = -127: 15.94 → 31.
  const decoder: [number, number][] = [
    [3, 0],
    [0, 0],
    [-15, 15],
    [-16, 16],
    [-20, 17],
    [-100, 30],
    [-127, 31],
    [-5000, 31],
  ];
  // Distances where ln(d/max_exact)/ln(max_distance/max_exact)·n is a whole number in exact arithmetic, so
  // float32 rounding could fall below it: PyTorch (1.13, the function verbatim on float32 tensors) gives
  // these, and agrees with the engine's whole tables for 32/128, 8/8, 4/3, 16/64 and 32/256 both ways.
  encoder.push([-16, 10], [16, 26], [-32, 12], [32, 28], [-64, 14], [64, 30], [-8, 8], [8, 24], [128, 31]);
  decoder.push([-32, 21], [-64, 26], [-128, 31], [-24, 19]);
  for (const [r, bucket] of encoder) assert.equal(relativePositionBucket(r, enc), bucket, `encoder r=${r}`);
  for (const [r, bucket] of decoder) assert.equal(relativePositionBucket(r, dec), bucket, `decoder r=${r}`);
  // The float64 formula agrees away from float32 rounding boundaries, and the table spans ±max_distance.
  for (const o of [enc, dec, { bidirectional: true, buckets: 8, maxDistance: 8 }]) {
    const table = bucketTable(o);
    assert.equal(table.length, 2 * o.maxDistance + 1);
    table.forEach((b, i) => {
      const r = i - o.maxDistance;
      assert.equal(b, referenceBucket(r, o.bidirectional, o.buckets, o.maxDistance), `r=${r}`);
    });
  }
});

/** Loss and logits of the eval forward graph on a batch. */
async function forwardOf(model: Seq2SeqLmModel, weights: Weights, batch: Record<string, TensorData>) {
  const spec = buildForward({ model, weights, trainable: new Set(), optimizer: { kind: 'adamw', weightDecay: 0 } });
  const session = await createSession(encodeModel(spec.graph), { device: 'cpu', threads: 1 });
  try {
    const out = await session.run(batch);
    return {
      loss: tensorNumbers(out[spec.loss] as TensorData)[0] as number,
      logits: tensorNumbers(out[spec.logits as string] as TensorData),
    };
  } finally {
    await session.dispose();
  }
}

for (const flan of [false, true]) {
  const name = flan ? 'flan-T5 (gated-gelu, untied lm_head)' : 'T5 v1.0 (relu, tied head scaled by d_model^-0.5)';
  test(`${name}: the graph matches a float64 plain-loop T5 on every real token of a padded batch`, async (t) => {
    const dir = tempDir(t, 't5-parity-');
    writeTinyT5(dir, { seed: 3, flan, dtype: 'bfloat16' });
    const { model, weights, missing, unexpected } = load(dir);
    assert.deepEqual([missing, unexpected], [[], []]);
    const arch = model.seq2seq.arch as T5Arch;
    const V = arch.vocabSize;
    // Sources of 13 and 6 tokens (13 > max_distance 8: the clipped buckets are used), targets of 9 and 4.
    const id = (i: number) => 3 + ((i * 7919) % (V - 3));
    const sources = [Array.from({ length: 13 }, (_, i) => id(i)), Array.from({ length: 6 }, (_, i) => id(i + 20))];
    const targets = [Array.from({ length: 9 }, (_, i) => id(i + 40)), Array.from({ length: 4 }, (_, i) => id(i + 60))];
    const S = 13;
    const T = 9;
    const pad = (row: number[], n: number, v: number) => [...row, ...new Array<number>(n - row.length).fill(v)];
    const labels = targets.map((target) => pad(target, T, -100));
    const batch = {
      input_ids: tensorOf(
        'int64',
        [2, S],
        sources.flatMap((s) => pad(s, S, 0)),
      ),
      attention_mask: tensorOf(
        'int64',
        [2, S],
        sources.flatMap((s) =>
          pad(
            s.map(() => 1),
            S,
            0,
          ),
        ),
      ),
      decoder_input_ids: tensorOf(
        'int64',
        [2, T],
        labels.flatMap((l) => shiftRight(l, 0, 0)),
      ),
      labels: tensorOf('int64', [2, T], labels.flat()),
    };
    const { loss, logits } = await forwardOf(model, weights, batch);
    let nll = 0;
    let count = 0;
    sources.forEach((source, b) => {
      const target = targets[b] as number[];
      const expected = referenceT5Logits(arch, weights, source, shiftRight(target, 0, 0));
      target.forEach((label, t) => {
        const row = expected[t] as number[];
        for (let k = 0; k < V; k++) {
          const got = logits[(b * T + t) * V + k] as number;
          const want = row[k] as number;
          assert.ok(Math.abs(got - want) <= 1e-4 * Math.max(1, Math.abs(want)), `b${b} t${t} k${k}: ${got} vs ${want}`);
        }
        const m = Math.max(...row);
        nll += m + Math.log(row.reduce((a, z) => a + Math.exp(z - m), 0)) - (row[label] as number);
        count++;
      });
    });
    assert.ok(Math.abs(loss - nll / count) < 1e-5, `loss ${loss} vs ${nll / count}`);
  });
}

test('loading: float32, bfloat16 and float16 checkpoints; the tied embed_tokens copies are ignored', (t) => {
  const reference = load(
    (() => {
      const d = tempDir(t, 't5-f32-');
      writeTinyT5(d, { seed: 5 });
      return d;
    })(),
  ).weights;
  for (const dtype of ['bfloat16', 'float16'] as const) {
    const dir = tempDir(t, `t5-${dtype}-`);
    writeTinyT5(dir, { seed: 5, dtype });
    const { weights, missing, unexpected } = load(dir);
    assert.deepEqual([missing, unexpected], [[], []]);
    const tol = { bfloat16: 2 ** -8, float16: 2 ** -11 }[dtype];
    for (const [name, t] of reference) {
      const got = weights.get(name)?.data as Float32Array;
      (t.data as Float32Array).forEach((want, i) => {
        assert.ok(Math.abs((got[i] as number) - want) <= tol * Math.abs(want) + 2 ** -24, `${dtype} ${name}[${i}]`);
      });
    }
  }
});

test('parameters: Hugging Face names and shapes; relative_attention_bias on block 0 of each stack only', (t) => {
  const dir = tempDir(t, 't5-names-');
  writeTinyT5(dir, { config: { num_decoder_layers: 3, d_kv: 6 } });
  const shapes = new Map(load(dir).model.params.map((p) => [p.name, p.shape]));
  assert.deepEqual(shapes.get('encoder.block.1.layer.0.SelfAttention.q.weight'), [24, 16]); // 4 heads × d_kv 6
  assert.deepEqual(shapes.get('encoder.block.1.layer.0.SelfAttention.o.weight'), [16, 24]);
  assert.deepEqual(shapes.get('encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight'), [8, 4]);
  assert.deepEqual(shapes.get('decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight'), [8, 4]);
  assert.ok(!shapes.has('encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight'));
  assert.deepEqual(shapes.get('decoder.block.2.layer.1.EncDecAttention.k.weight'), [24, 16]);
  assert.deepEqual(shapes.get('decoder.block.2.layer.2.DenseReluDense.wi.weight'), [24, 16]);
  assert.ok(shapes.has('decoder.final_layer_norm.weight') && shapes.has('encoder.final_layer_norm.weight'));
  assert.ok(!shapes.has('lm_head.weight') && !shapes.has('decoder.block.3.layer.0.layer_norm.weight'));
  const flan = tempDir(t, 't5-flan-names-');
  writeTinyT5(flan, { flan: true });
  const flanShapes = new Map(load(flan).model.params.map((p) => [p.name, p.shape]));
  assert.deepEqual(flanShapes.get('encoder.block.0.layer.1.DenseReluDense.wi_1.weight'), [24, 16]);
  assert.ok(flanShapes.has('lm_head.weight') && !flanShapes.has('encoder.block.0.layer.1.DenseReluDense.wi.weight'));
});

test('config: feed_forward_proj other than <act> or gated-<act> is refused naming config.json and the key', () => {
  const arch = (config: Record<string, unknown>) => {
    const cfg = new HfConfigReader({ model_type: 't5', ...config }, 'm/config.json');
    return seq2seqFamilyOf(cfg).seq2seq(cfg).arch as T5Arch;
  };
  assert.deepEqual([arch({}).act, arch({}).gated, arch({}).tied], ['relu', false, true]);
  assert.deepEqual(
    [arch({ feed_forward_proj: 'gated-gelu' }).act, arch({ feed_forward_proj: 'gated-gelu' }).gated],
    ['gelu_new', true],
  );
  assert.equal(arch({ feed_forward_proj: 'gated-silu' }).act, 'silu');
  assert.throws(() => arch({ feed_forward_proj: 'double-relu' }), /m\/config\.json: feed_forward_proj 'double-relu'/);
  assert.throws(() => arch({ feed_forward_proj: 'gated-swoosh' }), /feed_forward_proj 'gated-swoosh' is not supported/);
  assert.equal(arch({ pad_token_id: 5 }).decoderStartTokenId, 5);
  const pegasus = new HfConfigReader({ model_type: 'pegasus' }, 'p/config.json');
  assert.throws(
    () => seq2seqFamilyOf(pegasus),
    /model_type 'pegasus' is not supported as an encoder-decoder .*supported: t5, mt5, bart, mbart, marian/,
  );
});

function tinyArch(o: Partial<T5Arch>): T5Arch {
  return {
    modelType: 't5',
    vocabSize: 7,
    hidden: 6,
    headDim: 2,
    heads: 2,
    dFf: 5,
    encoderLayers: 2,
    decoderLayers: 1,
    buckets: 4,
    maxDistance: 3,
    dropout: 0,
    eps: 1e-6,
    initializerFactor: 1,
    act: 'relu',
    gated: false,
    tied: true,
    padTokenId: 0,
    eosTokenId: 1,
    decoderStartTokenId: 0,
    ...o,
  };
}

for (const [name, arch] of [
  ['relu, tied head', tinyArch({})],
  ['gated gelu_new, untied head', tinyArch({ act: 'gelu_new', gated: true, tied: false })],
] as const) {
  test(`t5: autodiff through encoder, decoder and head (${name}) matches central differences`, async () => {
    const specs = t5Specs(arch);
    const report = await gradCheck(
      {
        op: 'MatMul',
        name: `t5 ${name}`,
        inputs: [
          { shape: [2, 5], kind: 'index', max: 7 },
          { shape: [2, 5], kind: 'index', values: [1, 1, 1, 1, 1, 1, 1, 1, 0, 0] },
          { shape: [2, 4], kind: 'index', max: 7 },
          ...specs.map((s) => ({ shape: s.shape, ...(s.init.kind === 'ones' ? { kind: 'positive' as const } : {}) })),
        ],
        build(g, xs) {
          const byName = new Map(specs.map((s, i) => [s.name, xs[i + 3] as Value]));
          const ctx = blockContext(g, (n) => byName.get(n) as Value, 'eval', { hidden: 0, attention: 0 });
          const encoderHidden = t5Encode(ctx, arch, { inputIds: xs[0] as Value, attentionMask: xs[1] as Value });
          const hidden = t5Decode(ctx, arch, { inputIds: xs[2] as Value, encoderHidden, encoderMask: xs[1] as Value });
          return t5LmHead(ctx, arch, hidden); // [2, 4, 7]
        },
        tol: 1e-5,
      },
      31,
    );
    assert.equal(
      report.checked,
      specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0),
    );
  });
}
