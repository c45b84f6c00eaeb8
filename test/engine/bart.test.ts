import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodeModel } from '../../src/engine/graph/onnx-codec.js';
import { type TensorData, tensorNumbers, tensorOf, type Value } from '../../src/engine/graph/types.js';
import { loadSeq2Seq } from '../../src/engine/inference/seq2seq-model.js';
import { readHfConfig } from '../../src/engine/io/hf-config.js';
import { loadPretrained } from '../../src/engine/io/pretrained.js';
import { readSafetensors, writeSafetensors } from '../../src/engine/io/safetensors.js';
import { type BartArch, type BartVariant, bartArch } from '../../src/engine/models/bart/arch.js';
import { bartDecode, bartEncode, bartLmHead, bartSpecs } from '../../src/engine/models/bart/model.js';
import { sinusoidalTable } from '../../src/engine/models/bart/positions.js';
import { HfConfigReader } from '../../src/engine/models/hf-config.js';
import { blockContext } from '../../src/engine/models/layers.js';
import type { Weights } from '../../src/engine/models/model.js';
import { seq2seqFamilyOf } from '../../src/engine/models/registry.js';
import { type Seq2SeqLmModel, seq2seqLmModel, shiftTokensRight } from '../../src/engine/models/seq2seq.js';
import { createSession } from '../../src/engine/runtime.js';
import { buildForward } from '../../src/engine/step/step-graph.js';
import { Tokenizer } from '../../src/engine/tokenize/index.js';
import { tempDir } from '../extension/helpers.js';
import { writeTinyBart } from '../fixtures/tiny-bart.js';
import type { StoredDtype } from '../fixtures/tiny-decoders.js';
import { referenceBartLogits } from './helpers/bart-reference.js';
import { gradCheck } from './helpers/gradcheck.js';

function load(dir: string) {
  const cfg = new HfConfigReader(readHfConfig(dir), `${dir}/config.json`);
  const family = seq2seqFamilyOf(cfg);
  const model = seq2seqLmModel(family, { config: cfg });
  const loaded = loadPretrained(dir, model.params, {
    basePrefix: family.basePrefix,
    tiedNames: model.seq2seq.tiedNames,
  });
  const unexpected = loaded.unexpected.filter((n) => !model.seq2seq.isIgnoredTensor(n));
  return { model, weights: loaded.weights, missing: loaded.missing, unexpected };
}

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

const PARITY: { name: string; variant: BartVariant; dtype: StoredDtype; config?: Record<string, unknown> }[] = [
  { name: 'bart (post-LN, learned positions, tied head)', variant: 'bart', dtype: 'float32' },
  {
    name: 'bart untied lm_head, scale_embedding',
    variant: 'bart',
    dtype: 'bfloat16',
    config: { tie_word_embeddings: false, scale_embedding: true },
  },
  { name: 'mbart (pre-LN, final layer_norms, 4 encoder / 2 decoder heads)', variant: 'mbart', dtype: 'float16' },
  { name: 'marian (sinusoidal positions, swish, scaled embeddings)', variant: 'marian', dtype: 'float32' },
];

for (const c of PARITY) {
  test(`${c.name}: the graph matches a float64 plain-loop model on every real token of a padded batch`, async (t) => {
    const dir = tempDir(t, `${c.variant}-parity-`);
    writeTinyBart(dir, c.variant, { seed: 3, dtype: c.dtype, ...(c.config ? { config: c.config } : {}) });
    const { model, weights, missing, unexpected } = load(dir);
    assert.deepEqual([missing, unexpected], [[], []]);
    const arch = model.seq2seq.arch as BartArch;
    const V = arch.vocabSize;
    const id = (i: number) => 4 + ((i * 7919) % (V - 6));
    // Sources of 11 and 5 tokens ending in EOS, targets of 7 and 3: the second row of each is padded.
    const eos = arch.eosTokenId as number;
    const sources = [
      [...Array.from({ length: 10 }, (_, i) => id(i)), eos],
      [id(20), id(21), id(22), id(23), eos],
    ];
    const targets = [
      [...Array.from({ length: 6 }, (_, i) => id(i + 40)), eos],
      [id(60), id(61), eos],
    ];
    const S = 11;
    const T = 7;
    const pad = (row: number[], n: number, v: number) => [...row, ...new Array<number>(n - row.length).fill(v)];
    const labels = targets.map((target) => pad(target, T, -100));
    const batch = {
      input_ids: tensorOf(
        'int64',
        [2, S],
        sources.flatMap((s) => pad(s, S, arch.padTokenId)),
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
        labels.flatMap((l) => shiftTokensRight(l, arch)),
      ),
      labels: tensorOf('int64', [2, T], labels.flat()),
    };
    const { loss, logits } = await forwardOf(model, weights, batch);
    let nll = 0;
    let count = 0;
    sources.forEach((source, b) => {
      const target = targets[b] as number[];
      const expected = referenceBartLogits(arch, weights, source, shiftTokensRight(target, arch));
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

test('parameters: Hugging Face names and shapes per variant; final_logits_bias a buffer', (t) => {
  const shapes = (variant: BartVariant, config?: Record<string, unknown>) => {
    const dir = tempDir(t, `${variant}-names-`);
    writeTinyBart(dir, variant, config ? { config } : {});
    return new Map(load(dir).model.params.map((p) => [p.name, p]));
  };
  const bart = shapes('bart');
  assert.deepEqual(bart.get('model.encoder.embed_positions.weight')?.shape, [66, 16]); // 64 + offset 2
  assert.deepEqual(bart.get('model.encoder.layers.1.fc1.weight')?.shape, [20, 16]);
  assert.deepEqual(bart.get('model.decoder.layers.1.fc1.weight')?.shape, [24, 16]);
  assert.deepEqual(bart.get('model.decoder.layers.0.encoder_attn.k_proj.bias')?.shape, [16]);
  assert.ok(bart.has('model.decoder.layernorm_embedding.bias') && !bart.has('model.decoder.layer_norm.weight'));
  assert.ok(!bart.has('lm_head.weight'));
  const bias = bart.get('final_logits_bias');
  assert.deepEqual([bias?.shape[0], bias?.buffer], [1, true]);
  assert.deepEqual(bart.get('model.shared.weight')?.init, { kind: 'normal', std: 0.02, paddingRow: 1 });
  assert.ok(shapes('bart', { tie_word_embeddings: false }).has('lm_head.weight'));
  const mbart = shapes('mbart');
  assert.ok(mbart.has('model.encoder.layer_norm.weight') && mbart.has('model.decoder.layer_norm.bias'));
  const marian = shapes('marian');
  assert.ok(
    !marian.has('model.encoder.embed_positions.weight') && !marian.has('model.encoder.layernorm_embedding.weight'),
  );
});

test('config: defaults of BartConfig / MBartConfig / MarianConfig, refusals named with the file', () => {
  const arch = (variant: BartVariant, config: Record<string, unknown> = {}) =>
    bartArch(new HfConfigReader({ model_type: variant, ...config }, 'm/config.json'), variant);
  const bart = arch('bart');
  assert.deepEqual(
    [bart.vocabSize, bart.padTokenId, bart.eosTokenId, bart.decoderStartTokenId, bart.embedScale, bart.preNorm],
    [50265, 1, 2, 2, 1, false],
  );
  // mBART has no decoder_start_token_id default: generate() falls back to bos_token_id.
  const mbart = arch('mbart', { bos_token_id: 0, scale_embedding: true, d_model: 16 });
  assert.deepEqual(
    [mbart.decoderStartTokenId, mbart.embedScale, mbart.preNorm, mbart.startFromLastLabel],
    [0, 4, true, true],
  );
  const marian = arch('marian');
  assert.deepEqual(
    [marian.padTokenId, marian.decoderStartTokenId, marian.eosTokenId, marian.positions],
    [58100, 58100, 0, 'sinusoidal'],
  );
  assert.equal(arch('bart', { dropout: 0.3, attention_dropout: 0.2 }).attentionDropout, 0.2);
  const override = bartArch(new HfConfigReader({ model_type: 'bart', attention_dropout: 0.2 }, 'm'), 'bart', 0);
  assert.deepEqual([override.dropout, override.attentionDropout, override.activationDropout], [0, 0, 0]);
  assert.throws(
    () => arch('marian', { share_encoder_decoder_embeddings: false, decoder_vocab_size: 100 }),
    /m\/config\.json: a Marian model with separate source and target embeddings .* is not supported/,
  );
  assert.throws(
    () => arch('bart', { d_model: 10, decoder_attention_heads: 4 }),
    /d_model 10 must be divisible by decoder_attention_heads \(4\)/,
  );
  assert.throws(() => arch('bart', { activation_function: 'mish' }), /activation_function 'mish' is not supported/);
});

test("Marian's sinusoids: sin in the first half, cos in the second, 10000^(2i/dim); odd dims give sin the extra column", () => {
  // Hand-worked from MarianSinusoidalPositionalEmbedding._init_weight: dim 4, position 1 gives
  // [sin 1, sin 0.01, cos 1, cos 0.01]; dim 5, position 2: [sin 2, sin(2/10000^0.4), sin(2/10000^0.8), cos 2, cos(2/10000^0.4)].
  const f = Math.fround;
  assert.deepEqual(Array.from(sinusoidalTable(2, 4)), [
    0,
    0,
    1,
    1,
    f(Math.sin(1)),
    f(Math.sin(0.01)),
    f(Math.cos(1)),
    f(Math.cos(0.01)),
  ]);
  const odd = Array.from(sinusoidalTable(3, 5)).slice(10);
  const a = 2 / 10000 ** 0.4;
  assert.deepEqual(odd, [Math.sin(2), Math.sin(a), Math.sin(2 / 10000 ** 0.8), Math.cos(2), Math.cos(a)].map(f));
});

test('a checkpoint without final_logits_bias loads with zeros, as transformers ignores it missing; a missing weight is refused', async (t) => {
  const dir = tempDir(t, 'bart-nobias-');
  writeTinyBart(dir, 'bart', { seed: 4 });
  const file = join(dir, 'model.safetensors');
  const stored = readSafetensors(file).tensors;
  const without = (name: string) =>
    writeSafetensors(
      file,
      [...stored].filter(([n]) => n !== name),
    );
  without('final_logits_bias');
  const { weights, missing } = load(dir);
  assert.deepEqual(missing, ['final_logits_bias']);
  assert.ok(tensorNumbers(weights.get('final_logits_bias') as TensorData).every((v) => v === 0));
  const model = await loadSeq2Seq(dir, { threads: 1 });
  try {
    assert.equal((await model.generate(['red cat'], { maxNewTokens: 2 })).length, 1);
  } finally {
    await model.dispose();
  }
  without('model.decoder.layers.1.fc2.bias');
  await assert.rejects(
    loadSeq2Seq(dir),
    /the checkpoint lacks model\.decoder\.layers\.1\.fc2\.bias: not a complete bart model/,
  );
});

test('a checkpoint keeping only model.decoder.embed_tokens (as facebook/bart-large-cnn) fills model.shared from it', (t) => {
  const dir = tempDir(t, 'bart-cnn-');
  writeTinyBart(dir, 'bart', { seed: 6 });
  const file = join(dir, 'model.safetensors');
  const stored = readSafetensors(file).tensors;
  const shared = tensorNumbers(stored.get('model.shared.weight') as TensorData);
  const dropped = new Set(['model.shared.weight', 'model.encoder.embed_tokens.weight']);
  writeSafetensors(
    file,
    [...stored].filter(([n]) => !dropped.has(n)),
  );
  const { weights, missing, unexpected } = load(dir);
  assert.deepEqual([missing, unexpected], [[], []]);
  assert.deepEqual(tensorNumbers(weights.get('model.shared.weight') as TensorData), shared);
});

test('a Marian folder with only source.spm / target.spm is refused, naming the folder and how to convert it', (t) => {
  const dir = tempDir(t, 'marian-spm-');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'source.spm'), 'not read');
  writeFileSync(join(dir, 'target.spm'), 'not read');
  writeFileSync(join(dir, 'vocab.json'), '{}');
  assert.throws(
    () => Tokenizer.fromFolder(dir),
    (e: Error) =>
      e.message.startsWith(
        `${dir}: a Marian folder with SentencePiece models (source.spm, target.spm) but no tokenizer.json`,
      ) &&
      /MarianConverter/.test(e.message) &&
      /Xenova\/opus-mt-en-de/.test(e.message),
  );
});

function tinyArch(variant: BartVariant, o: Partial<BartArch> = {}): BartArch {
  const cfg = new HfConfigReader(
    {
      model_type: variant,
      vocab_size: 7,
      d_model: 4,
      encoder_layers: 1,
      decoder_layers: 1,
      encoder_attention_heads: 2,
      decoder_attention_heads: variant === 'mbart' ? 1 : 2,
      encoder_ffn_dim: 5,
      decoder_ffn_dim: 3,
      max_position_embeddings: 8,
      pad_token_id: 0,
      scale_embedding: variant !== 'bart',
      tie_word_embeddings: variant !== 'marian',
    },
    'tiny',
  );
  // ORT has no float64 Erf, and fuses x·sigmoid(x) into a float32-only QuickGelu: the float64 check
  // takes the tanh GELU and ReLU (the activations have their own gradient checks).
  return { ...bartArch(cfg, variant, 0), act: variant === 'marian' ? 'relu' : 'gelu_new', ...o };
}

for (const variant of ['bart', 'mbart', 'marian'] as const) {
  test(`${variant}: autodiff through encoder, decoder and head matches central differences for every parameter`, async () => {
    const arch = tinyArch(variant);
    const specs = bartSpecs(arch);
    const report = await gradCheck(
      {
        op: 'MatMul',
        name: `${variant} gradients`,
        inputs: [
          { shape: [2, 4], kind: 'index', max: 7 },
          { shape: [2, 4], kind: 'index', values: [1, 1, 1, 1, 1, 1, 0, 0] },
          { shape: [2, 3], kind: 'index', max: 7 },
          ...specs.map((s) => ({ shape: s.shape, ...(s.init.kind === 'ones' ? { kind: 'positive' as const } : {}) })),
        ],
        build(g, xs) {
          const byName = new Map(specs.map((s, i) => [s.name, xs[i + 3] as Value]));
          const ctx = blockContext(g, (n) => byName.get(n) as Value, 'eval', { hidden: 0, attention: 0 });
          const encoderHidden = bartEncode(ctx, arch, { inputIds: xs[0] as Value, attentionMask: xs[1] as Value });
          const hidden = bartDecode(ctx, arch, {
            inputIds: xs[2] as Value,
            encoderHidden,
            encoderMask: xs[1] as Value,
          });
          return bartLmHead(ctx, arch, hidden); // [2, 3, 7]
        },
        tol: 1e-5,
      },
      17,
    );
    assert.equal(
      report.checked,
      specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0),
    );
  });
}
