import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Value } from '../../src/engine/graph/types.js';
import { loadCausalLm } from '../../src/engine/inference/causal-lm-model.js';
import { readHfConfig } from '../../src/engine/io/hf-config.js';
import { loadPretrained } from '../../src/engine/io/pretrained.js';
import { checkAttentionWindow, contextLength, lmHeadProjection } from '../../src/engine/models/decoder.js';
import { HfConfigReader } from '../../src/engine/models/hf-config.js';
import { blockContext } from '../../src/engine/models/layers.js';
import type { LlamaArch, LlamaLayout } from '../../src/engine/models/llama/arch.js';
import { llamaForward, llamaSpecs } from '../../src/engine/models/llama/model.js';
import { decoderFamilyOf } from '../../src/engine/models/registry.js';
import { causalLmRecipe } from '../../src/engine/tasks/causal-lm/recipe.js';
import { Tokenizer } from '../../src/engine/tokenize/index.js';
import { applyDefaults } from '../../src/shared/config-validate.js';
import { writeTinyDecoder } from '../fixtures/tiny-decoders.js';
import { gradCheck } from './helpers/gradcheck.js';
import { referenceLlamaLogits } from './helpers/llama-reference.js';

const tmp = (name: string) => mkdtempSync(join(tmpdir(), `${name}-`));
const configOf = (dir: string) => new HfConfigReader(readHfConfig(dir), `${dir}/config.json`);

test('llama: KV-cached greedy generation equals recomputing the prefix and the plain-loop model argmax', async () => {
  const dir = tmp('llama-gen');
  writeTinyDecoder(dir, 'llama', { seed: 11 });
  const lm = await loadCausalLm(dir, { threads: 1 });
  try {
    const arch = lm.model.decoder.arch as LlamaArch;
    for (const prompt of ['the cat', 'a dog helps the']) {
      const cached = await lm.generate(prompt, { maxNewTokens: 10, eosTokenId: null });
      const full = await lm.generate(prompt, { maxNewTokens: 10, eosTokenId: null, useCache: false });
      assert.equal(cached.ids.length, 10);
      assert.deepEqual(cached.ids, full.ids);
      const seq = lm.tokenizer.encode(prompt, null).ids;
      for (const id of cached.ids.slice(0, 4)) {
        const last = referenceLlamaLogits(arch, lm.weights, seq).at(-1) as number[];
        assert.equal(id, last.indexOf(Math.max(...last)));
        seq.push(id);
      }
      const sampling = { maxNewTokens: 10, eosTokenId: null, doSample: true, temperature: 0.9, topK: 20, seed: 3 };
      assert.deepEqual(
        (await lm.generate(prompt, sampling)).ids,
        (await lm.generate(prompt, { ...sampling, useCache: false })).ids,
      );
    }
  } finally {
    await lm.dispose();
  }
});

test('loading: bfloat16, float16, float32, one file or shards give the stored values; a missing shard is named', () => {
  const load = (dir: string) => {
    const cfg = configOf(dir);
    const decoder = decoderFamilyOf(cfg).decoder(cfg);
    return { decoder, loaded: loadPretrained(dir, decoder.params, { basePrefix: 'model' }) };
  };
  const single = tmp('q2-one');
  writeTinyDecoder(single, 'qwen2', { seed: 5, dtype: 'float32' });
  const reference = load(single).loaded.weights;
  for (const dtype of ['bfloat16', 'float16', 'float32'] as const) {
    const sharded = tmp(`q2-${dtype}`);
    writeTinyDecoder(sharded, 'qwen2', { seed: 5, dtype, shards: 3 });
    const { loaded } = load(sharded);
    assert.deepEqual(loaded.missing, []);
    assert.deepEqual(loaded.unexpected, []);
    // bfloat16 keeps 8 mantissa bits, float16 11: relative rounding at most 2^-8 and 2^-11
    // (float16 subnormals, below 2^-14, round to multiples of 2^-24)
    const tol = { bfloat16: 2 ** -8, float16: 2 ** -11, float32: 0 }[dtype];
    const floor = dtype === 'float16' ? 2 ** -25 : 0;
    for (const [name, t] of reference) {
      const got = loaded.weights.get(name)?.data as Float32Array;
      (t.data as Float32Array).forEach((want, i) => {
        assert.ok(Math.abs((got[i] as number) - want) <= tol * Math.abs(want) + floor, `${dtype} ${name}[${i}]`);
      });
    }
    if (dtype === 'bfloat16') {
      rmSync(join(sharded, 'model-00002-of-00003.safetensors'));
      assert.throws(() => load(sharded), /model-00002-of-00003\.safetensors/);
    }
  }
});

test('loading: Llama checkpoints carry rotary inv_freq buffers: ignored, not unexpected', () => {
  const dir = tmp('llama-buffers');
  writeTinyDecoder(dir, 'llama');
  const cfg = configOf(dir);
  const decoder = decoderFamilyOf(cfg).decoder(cfg);
  const loaded = loadPretrained(dir, decoder.params, { basePrefix: 'model' });
  assert.deepEqual(loaded.unexpected, ['model.layers.0.self_attn.rotary_emb.inv_freq']);
  assert.ok(loaded.unexpected.every((n) => decoder.isIgnoredTensor(n)));
});

test('parameters: names and shapes are Hugging Face’s (GQA k/v, Qwen3 head_dim and norms, Phi-3 fused, tied head)', () => {
  const shapes = (type: Parameters<typeof writeTinyDecoder>[1], config: Record<string, unknown> = {}) => {
    const dir = tmp(type);
    writeTinyDecoder(dir, type, { config });
    const cfg = configOf(dir);
    return new Map(
      decoderFamilyOf(cfg)
        .decoder(cfg)
        .params.map((p) => [p.name, p.shape]),
    );
  };
  const llama = shapes('llama');
  assert.deepEqual(llama.get('model.layers.1.self_attn.q_proj.weight'), [32, 32]);
  assert.deepEqual(llama.get('model.layers.1.self_attn.k_proj.weight'), [16, 32]); // 2 KV heads of 8
  assert.deepEqual(llama.get('model.layers.1.mlp.down_proj.weight'), [32, 48]);
  assert.ok(llama.has('lm_head.weight') && !llama.has('model.layers.0.self_attn.q_proj.bias'));
  const biased = shapes('llama', { attention_bias: true, mlp_bias: true });
  for (const m of ['q_proj', 'k_proj', 'v_proj', 'o_proj']) assert.ok(biased.has(`model.layers.0.self_attn.${m}.bias`));
  assert.ok(biased.has('model.layers.0.mlp.gate_proj.bias'));
  assert.ok(!shapes('llama', { tie_word_embeddings: true }).has('lm_head.weight'));
  const qwen2 = shapes('qwen2');
  assert.deepEqual(qwen2.get('model.layers.0.self_attn.k_proj.bias'), [16]);
  assert.ok(!qwen2.has('model.layers.0.self_attn.o_proj.bias') && !qwen2.has('model.layers.0.mlp.up_proj.bias'));
  const qwen3 = shapes('qwen3');
  assert.deepEqual(qwen3.get('model.layers.0.self_attn.q_proj.weight'), [64, 32]);
  assert.deepEqual(qwen3.get('model.layers.0.self_attn.o_proj.weight'), [32, 64]);
  assert.deepEqual(qwen3.get('model.layers.0.self_attn.q_norm.weight'), [16]);
  assert.deepEqual(qwen3.get('model.layers.0.self_attn.k_norm.weight'), [16]);
  const phi3 = shapes('phi3');
  assert.deepEqual(phi3.get('model.layers.0.self_attn.qkv_proj.weight'), [64, 32]); // 32 + 2 * 16
  assert.deepEqual(phi3.get('model.layers.0.mlp.gate_up_proj.weight'), [96, 32]);
  assert.ok(!phi3.has('model.layers.0.self_attn.q_proj.weight'));
});

test('config: unsupported rope_scaling types and bad head counts are refused naming config.json and the key', () => {
  const arch = (config: Record<string, unknown>) => {
    const cfg = new HfConfigReader(
      {
        model_type: 'llama',
        vocab_size: 10,
        hidden_size: 8,
        intermediate_size: 8,
        num_hidden_layers: 1,
        num_attention_heads: 2,
        ...config,
      },
      'm/config.json',
    );
    return decoderFamilyOf(cfg).decoder(cfg).arch;
  };
  assert.throws(
    () => arch({ rope_scaling: { rope_type: 'yarn', factor: 4 } }),
    /m\/config\.json: key 'rope_scaling' has type "yarn", which is not supported \(supported: linear, llama3, or null\)/,
  );
  assert.throws(() => arch({ rope_scaling: { type: 'dynamic', factor: 2 } }), /'rope_scaling' has type "dynamic"/);
  assert.throws(
    () => arch({ num_key_value_heads: 3 }),
    /m\/config\.json: num_attention_heads 2 is not a multiple of num_key_value_heads 3/,
  );
  // linear scaling divides every frequency by the factor
  const plain = (arch({}) as LlamaArch).rope.invFreq;
  const linear = (arch({ rope_scaling: { type: 'linear', factor: 4 } }) as LlamaArch).rope.invFreq;
  assert.deepEqual(
    Array.from(linear),
    Array.from(plain, (f) => Math.fround(f / 4)),
  );
  // transformers 5's rope_parameters: the same frequencies as rope_theta + rope_scaling
  const llama3 = { factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 16 };
  const legacy = (arch({ rope_theta: 500000, rope_scaling: { rope_type: 'llama3', ...llama3 } }) as LlamaArch).rope;
  const v5 = (arch({ rope_parameters: { rope_type: 'llama3', rope_theta: 500000, ...llama3 } }) as LlamaArch).rope;
  assert.deepEqual(v5.invFreq, legacy.invFreq);
  assert.notDeepEqual(v5.invFreq, plain);
  assert.throws(
    () => arch({ rope_parameters: { rope_type: 'llama3', rope_theta: 1e4, factor: 8 } }),
    /m\/config\.json: rope_parameters\.low_freq_factor must be a number/,
  );
  // Llama 3.1 lists its EOS ids: the first is the arch's
  assert.equal(arch({ eos_token_id: [128001, 128008, 128009] }).eosTokenId, 128001);
});

test('mistral: sequences past sliding_window are refused in training and bound evaluation and generation', async () => {
  const dir = tmp('mistral-window');
  writeTinyDecoder(dir, 'mistral'); // sliding_window 48, max_position_embeddings 64
  const cfg = configOf(dir);
  const arch = decoderFamilyOf(cfg).decoder(cfg).arch;
  assert.equal(contextLength(arch), 48);
  assert.doesNotThrow(() => checkAttentionWindow(arch, 48, 'x'));
  const recipe = (maxLength: number) =>
    causalLmRecipe({
      config: applyDefaults({ model: dir, task: 'causal-lm', data: { train: 'x', max_length: maxLength } }),
      modelDir: dir,
      tokenizer: Tokenizer.fromFolder(dir),
      labelSet: undefined,
      seed: 0,
    });
  assert.throws(
    () => recipe(64),
    /data\.max_length 64: longer than the model's sliding attention window of 48 tokens \(.*config\.json: sliding_window\)/,
  );
  assert.equal(recipe(48).maxLength, 48);
  const nullWindow = tmp('mistral-null');
  writeTinyDecoder(nullWindow, 'mistral', { config: { sliding_window: null } });
  const open = configOf(nullWindow);
  assert.equal(contextLength(decoderFamilyOf(open).decoder(open).arch), 64);
  const lm = await loadCausalLm(dir, { threads: 1 });
  try {
    const g = await lm.generate('the cat sees the ball every day', { maxNewTokens: 100, eosTokenId: null });
    assert.equal(g.stoppedBy, 'context');
    assert.equal(lm.tokenizer.encode('the cat sees the ball every day', null).ids.length + g.ids.length, 48);
  } finally {
    await lm.dispose();
  }
});

/**
 * A tiny arch for the gradient checks: GQA 4 query heads over 2 KV heads. The gate activation is
 * tanh, not silu: ORT fuses x·sigmoid(x) into its QuickGelu kernel, which has no float64 version
 * (silu's parts, Sigmoid and Mul, have their own checks in gradients.test.ts).
 */
function tinyArch(layout: Partial<LlamaLayout>, rotaryDims = 4): LlamaArch {
  return {
    family: 'test',
    vocabSize: 7,
    hidden: 8,
    layers: 1,
    heads: 4,
    kvHeads: 2,
    headDim: 4,
    intermediate: 6,
    maxPositions: 8,
    eps: 1e-5,
    act: 'tanh',
    attnDropout: 0,
    residDropout: 0,
    initializerRange: 0.5,
    tied: true,
    rope: { dims: rotaryDims, invFreq: new Float32Array([1, 0.1].slice(0, rotaryDims / 2)) },
    layout: {
      qkvBias: false,
      oBias: false,
      mlpBias: false,
      qkNorm: false,
      fused: false,
      slidingWindow: null,
      residDropout: 0,
      ...layout,
    },
    eosTokenId: null,
    bosTokenId: null,
  };
}

for (const [name, arch] of [
  ['GQA, biases, tied head', tinyArch({ qkvBias: true, oBias: true, mlpBias: true })],
  ['Qwen3 q/k norms', tinyArch({ qkNorm: true })],
  ['Phi-3 fused projections, partial rotary', tinyArch({ fused: true }, 2)],
] as const) {
  test(`llama-like: autodiff through the whole model (${name}) matches central differences`, async () => {
    const specs = llamaSpecs(arch);
    const report = await gradCheck(
      {
        op: 'MatMul',
        name: `llama ${name}`,
        inputs: [
          { shape: [2, 5], kind: 'index', max: 7 },
          { shape: [2, 5], kind: 'index', values: [1, 1, 1, 1, 0, 1, 1, 1, 1, 1] },
          ...specs.map((s) => ({ shape: s.shape, ...(s.init.kind === 'ones' ? { kind: 'positive' as const } : {}) })),
        ],
        build(g, xs) {
          const byName = new Map(specs.map((s, i) => [s.name, xs[i + 2] as Value]));
          const param = (n: string) => byName.get(n) as Value;
          const ctx = blockContext(g, param, 'eval', { hidden: 0, attention: 0 });
          const out = llamaForward(ctx, arch, { inputIds: xs[0] as Value, attentionMask: xs[1] as Value });
          return lmHeadProjection(g, out.hidden, param('model.embed_tokens.weight')); // [2, 5, 7]
        },
        tol: 1e-5,
      },
      23,
    );
    assert.equal(
      report.checked,
      specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0),
    );
  });
}
