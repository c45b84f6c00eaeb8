import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodeModel } from '../../../src/engine/graph/onnx-codec.js';
import { type TensorData, tensorOf, type Value } from '../../../src/engine/graph/types.js';
import { loadPretrained, savePretrained } from '../../../src/engine/io/pretrained.js';
import { encode } from '../../../src/engine/models/encoder.js';
import { HfConfigReader } from '../../../src/engine/models/hf-config.js';
import { initWeights } from '../../../src/engine/models/init.js';
import type { TrainableModel } from '../../../src/engine/models/model.js';
import { encoderFamilyOf } from '../../../src/engine/models/registry.js';
import { createSession } from '../../../src/engine/runtime.js';
import { buildInference } from '../../../src/engine/step/step-graph.js';
import { encoderBlockContext } from '../../../src/engine/tasks/encoder/task-models.js';
import { maskedLmModel } from '../../../src/engine/tasks/masked-lm/model.js';
import { loadReportOf } from '../../../src/engine/tasks/task.js';
import { type FamilyName, tinyConfig } from '../../fixtures/tiny-configs.js';
import { gradCheck } from '../helpers/gradcheck.js';

/**
 * The head tensors a Hugging Face *ForMaskedLM checkpoint holds, as save_pretrained writes them:
 * the decoder weight tied to the word embeddings (and a decoder bias tied to the head's bias) is
 * not saved. From transformers' modeling files:
 * - BertForMaskedLM (models/bert/modeling_bert.py: BertOnlyMLMHead > BertLMPredictionHead,
 *   BertPredictionHeadTransform; _tied_weights_keys cls.predictions.decoder.{weight,bias});
 * - RobertaForMaskedLM (models/roberta/modeling_roberta.py: RobertaLMHead; lm_head.decoder tied);
 * - DistilBertForMaskedLM (models/distilbert/modeling_distilbert.py: vocab_transform,
 *   vocab_layer_norm, vocab_projector with its weight tied);
 * - AlbertForMaskedLM (models/albert/modeling_albert.py: AlbertMLMHead; predictions.decoder tied);
 * - ElectraForMaskedLM (models/electra/modeling_electra.py: ElectraGeneratorPredictions,
 *   generator_lm_head with its weight tied).
 */
const HF_HEADS: Record<Exclude<FamilyName, 'xlnet'>, { architecture: string; head: string[]; tied: string[] }> = {
  bert: {
    architecture: 'BertForMaskedLM',
    tied: ['cls.predictions.decoder.weight', 'cls.predictions.decoder.bias'],
    head: [
      'cls.predictions.bias',
      'cls.predictions.transform.LayerNorm.bias',
      'cls.predictions.transform.LayerNorm.weight',
      'cls.predictions.transform.dense.bias',
      'cls.predictions.transform.dense.weight',
    ],
  },
  roberta: {
    architecture: 'RobertaForMaskedLM',
    tied: ['lm_head.decoder.weight', 'lm_head.decoder.bias'],
    head: [
      'lm_head.bias',
      'lm_head.dense.bias',
      'lm_head.dense.weight',
      'lm_head.layer_norm.bias',
      'lm_head.layer_norm.weight',
    ],
  },
  distilbert: {
    architecture: 'DistilBertForMaskedLM',
    tied: ['vocab_projector.weight'],
    head: [
      'vocab_layer_norm.bias',
      'vocab_layer_norm.weight',
      'vocab_projector.bias',
      'vocab_transform.bias',
      'vocab_transform.weight',
    ],
  },
  albert: {
    architecture: 'AlbertForMaskedLM',
    tied: ['predictions.decoder.weight', 'predictions.decoder.bias'],
    head: [
      'predictions.LayerNorm.bias',
      'predictions.LayerNorm.weight',
      'predictions.bias',
      'predictions.dense.bias',
      'predictions.dense.weight',
    ],
  },
  electra: {
    architecture: 'ElectraForMaskedLM',
    tied: ['generator_lm_head.weight'],
    head: [
      'generator_lm_head.bias',
      'generator_predictions.LayerNorm.bias',
      'generator_predictions.LayerNorm.weight',
      'generator_predictions.dense.bias',
      'generator_predictions.dense.weight',
    ],
  },
};

for (const [family, expected] of Object.entries(HF_HEADS)) {
  test(`${family}: the masked-LM head has Hugging Face's names and round-trips through safetensors`, () => {
    const raw = tinyConfig(family as FamilyName, 60);
    const cfg = new HfConfigReader(raw, `${family}/config.json`);
    const model = maskedLmModel({ family: encoderFamilyOf(cfg), config: cfg });
    assert.equal(model.head.architecture, expected.architecture);
    const prefix = `${model.arch.basePrefix}.`;
    const head = model.params.filter((p) => !p.name.startsWith(prefix)).map((p) => p.name);
    assert.deepEqual([...head].sort(), expected.head);
    assert.ok(
      !model.params.some((p) => p.name.includes('pooler')),
      'no pooler: *ForMaskedLM builds its base without one',
    );
    // Where the embeddings are narrower than the hidden size (ALBERT, small ELECTRA) the transform maps to their width.
    const dense = model.params.find(
      (p) => p.name === expected.head.find((n) => /dense\.weight|vocab_transform\.weight/.test(n)),
    );
    assert.deepEqual(dense?.shape, [model.arch.embeddingSize, model.arch.hidden]);
    const dir = mkdtempSync(join(tmpdir(), 'mlm-heads-'));
    try {
      const weights = initWeights(model.params, 3);
      // The exported model gives the vocabulary logits (evaluation reads argmax ids instead).
      const graph = buildInference(model, weights);
      assert.deepEqual(graph.outputs, ['logits']);
      assert.equal(graph.values.get('logits')?.shape?.at(-1), 60);
      savePretrained(dir, weights, raw, { architectures: [expected.architecture] });
      const loaded = loadPretrained(dir, model.params);
      assert.deepEqual(loaded.missing, []);
      assert.deepEqual(loaded.unexpected, []);
      for (const [name, t] of weights) assert.deepEqual(loaded.weights.get(name)?.data, t.data, name);
      // An older checkpoint holding copies of the tied decoder: nothing new, not reported as unused.
      assert.deepEqual(model.head.tied, expected.tied);
      const word = weights.get(`${prefix}${model.arch.names.word}.weight`);
      const bias = weights.get(model.head.bias);
      const copies = expected.tied.map((n) => [n, n.endsWith('.weight') ? word : bias] as const);
      savePretrained(
        dir,
        new Map([...weights, ...copies.map(([n, t]) => [n, t as NonNullable<typeof t>] as const)]),
        raw,
      );
      const old = loadPretrained(dir, model.params);
      assert.deepEqual([...old.unexpected].sort(), [...expected.tied].sort());
      assert.deepEqual(loadReportOf(old, (n) => model.head.tied.includes(n)).unexpected, []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('xlnet has no masked-LM head: an error naming the model type and the families that have one', () => {
  const cfg = new HfConfigReader(tinyConfig('xlnet', 60), 'xlnet/config.json');
  assert.throws(
    () => maskedLmModel({ family: encoderFamilyOf(cfg), config: cfg }),
    /model_type 'xlnet' has no masked-LM head \(task masked-lm: bert, roberta, distilbert, albert, electra\)/,
  );
});

test('masked-LM loss gradients, the tied decoder included, match central differences (ALBERT: narrow embeddings)', async () => {
  const raw = {
    ...tinyConfig('albert', 7),
    hidden_size: 4,
    embedding_size: 3,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    intermediate_size: 6,
    max_position_embeddings: 5,
    hidden_dropout_prob: 0,
    attention_probs_dropout_prob: 0,
    initializer_range: 0.5,
  };
  const cfg = new HfConfigReader(raw, 'albert/config.json');
  const model = maskedLmModel({ family: encoderFamilyOf(cfg), config: cfg });
  const specs = model.params;
  const report = await gradCheck(
    {
      op: 'SoftmaxCrossEntropyLoss',
      name: 'albert masked-lm loss',
      inputs: [
        { shape: [2, 5], kind: 'index', max: 7 },
        { shape: [2, 5], kind: 'index', values: [1, 1, 1, 1, 0, 1, 1, 1, 1, 1] },
        { shape: [2, 5], kind: 'index', values: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0] },
        // Two selected positions per row; padding and the rest -100.
        { shape: [2, 5], kind: 'index', values: [-100, 3, -100, 6, -100, 2, -100, -100, 0, -100] },
        ...specs.map((sp) => ({ shape: sp.shape, ...(sp.init.kind === 'ones' ? { kind: 'positive' as const } : {}) })),
      ],
      build(g, xs) {
        const byName = new Map(specs.map((sp, i) => [sp.name, xs[i + 4] as Value]));
        const names = ['input_ids', 'attention_mask', 'token_type_ids', 'labels'];
        const inputs = Object.fromEntries(names.map((n, i) => [n, xs[i] as Value]));
        return model.forward(g, (n) => byName.get(n) as Value, inputs, 'eval').loss;
      },
      tol: 1e-5,
    },
    23,
  );
  // Every parameter entry, the word embeddings (also the decoder) included.
  assert.equal(
    report.checked,
    specs.reduce((n, sp) => n + sp.shape.reduce((a, b) => a * b, 1), 0),
  );
});

/** x · W^T + b for one row: W [out, in] row-major. */
function affine(x: Float32Array | number[], w: Float32Array, b: Float32Array, out: number): number[] {
  const inp = x.length;
  return Array.from({ length: out }, (_, o) => {
    let s = b[o] as number;
    for (let i = 0; i < inp; i++) s += (w[o * inp + i] as number) * (x[i] as number);
    return s;
  });
}

const ACT: Record<string, (x: number) => number> = {
  gelu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  gelu_new: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
};

/** erf by its Taylor series: to float64 precision for the small arguments (|x| < 4) of these tests. */
function erf(x: number): number {
  let sum = 0;
  let term = x;
  for (let n = 0; n < 60; n++) {
    sum += term / (2 * n + 1);
    term *= (-x * x) / (n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

for (const family of ['bert', 'albert'] as const) {
  test(`${family}: the head's logits are dense -> ${family === 'bert' ? 'gelu' : 'gelu_new'} -> LayerNorm -> word embeddings^T + bias, computed by hand`, async () => {
    const raw = { ...tinyConfig(family, 60), hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 };
    const cfg = new HfConfigReader(raw, `${family}/config.json`);
    const model = maskedLmModel({ family: encoderFamilyOf(cfg), config: cfg });
    const weights = initWeights(model.params, 5);
    // The same weights without the head: the encoder's last hidden states.
    const base: TrainableModel = {
      ...model,
      forward(g, param, inputs, mode) {
        const out = encode(encoderBlockContext(g, param, mode, model.arch), model.arch, inputs);
        return { loss: g.reduceSum(out.sequence, undefined, false), logits: out.sequence };
      },
    };
    const T = 5;
    const feeds = {
      input_ids: tensorOf('int64', [1, T], [2, 9, 17, 33, 3]),
      attention_mask: tensorOf('int64', [1, T], [1, 1, 1, 1, 1]),
      token_type_ids: tensorOf('int64', [1, T], [0, 0, 0, 0, 0]),
    };
    const run = async (m: TrainableModel) => {
      const session = await createSession(encodeModel(buildInference(m, weights)), { device: 'cpu' });
      try {
        return (await session.run(feeds)).logits as TensorData;
      } finally {
        await session.dispose();
      }
    };
    const logits = (await run(model)).data as Float32Array;
    const hidden = (await run(base)).data as Float32Array;
    const w = (name: string) => weights.get(name)?.data as Float32Array;
    const { hidden: H, embeddingSize: E, vocabSize: V, eps } = model.arch;
    const h = model.head;
    let worst = 0;
    for (let t = 0; t < T; t++) {
      const dense = affine(hidden.subarray(t * H, (t + 1) * H), w(`${h.dense}.weight`), w(`${h.dense}.bias`), E);
      const act = dense.map(ACT[cfg.str('hidden_act')] as (x: number) => number);
      const mean = act.reduce((a, b) => a + b, 0) / E;
      const variance = act.reduce((a, b) => a + (b - mean) ** 2, 0) / E;
      const gamma = w(`${h.norm}.weight`);
      const beta = w(`${h.norm}.bias`);
      const normed = act.map(
        (x, i) => ((x - mean) / Math.sqrt(variance + eps)) * (gamma[i] as number) + (beta[i] as number),
      );
      const expected = affine(normed, w(`${model.arch.basePrefix}.embeddings.word_embeddings.weight`), w(h.bias), V);
      for (let v = 0; v < V; v++)
        worst = Math.max(worst, Math.abs((logits[t * V + v] as number) - (expected[v] as number)));
    }
    assert.ok(worst < 1e-4, `largest difference ${worst}`);
  });
}
