import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Value } from '../../../src/engine/graph/types.js';
import { loadPretrained, savePretrained } from '../../../src/engine/io/pretrained.js';
import { HfConfigReader } from '../../../src/engine/models/hf-config.js';
import { initWeights } from '../../../src/engine/models/init.js';
import { encoderFamilyOf } from '../../../src/engine/models/registry.js';
import { buildInference } from '../../../src/engine/step/step-graph.js';
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
