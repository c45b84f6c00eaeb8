import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadPretrained, savePretrained } from '../../../src/engine/io/pretrained.js';
import { HfConfigReader } from '../../../src/engine/models/hf-config.js';
import { initWeights } from '../../../src/engine/models/init.js';
import { encoderFamilyOf } from '../../../src/engine/models/registry.js';
import { maskedLmModel } from '../../../src/engine/tasks/masked-lm/model.js';
import { type FamilyName, tinyConfig } from '../../fixtures/tiny-configs.js';

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
const HF_HEADS: Record<Exclude<FamilyName, 'xlnet'>, { architecture: string; head: string[] }> = {
  bert: {
    architecture: 'BertForMaskedLM',
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
      savePretrained(dir, weights, raw, { architectures: [expected.architecture] });
      const loaded = loadPretrained(dir, model.params);
      assert.deepEqual(loaded.missing, []);
      assert.deepEqual(loaded.unexpected, []);
      for (const [name, t] of weights) assert.deepEqual(loaded.weights.get(name)?.data, t.data, name);
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
