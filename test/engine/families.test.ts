import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tensorOf } from '../../src/engine/graph/types.js';
import { maxSequenceLength } from '../../src/engine/models/encoder.js';
import { HfConfigReader } from '../../src/engine/models/hf-config.js';
import { initWeights } from '../../src/engine/models/init.js';
import { basePrefixOf, encoderFamilyOf, FAMILIES, findFamily, modelTypesOf } from '../../src/engine/models/registry.js';
import type { Batch } from '../../src/engine/step/batch.js';
import {
  IGNORE_INDEX,
  sequenceClassificationModel,
  tokenClassificationModel,
} from '../../src/engine/tasks/encoder/task-models.js';
import { StepRunner } from '../../src/engine/train/step-runner.js';
import { type Example, markerTask } from '../../src/engine/train/synthetic.js';
import { DECODER_TYPES, ENCODER_TYPES, OFFSET_POSITIONS, SEQ2SEQ_TYPES } from '../../src/shared/config-files.js';
import { FAMILY_NAMES, type FamilyName, tinyConfig } from '../fixtures/tiny-configs.js';

const VOCAB = 40;
const task = { numLabels: 3, vocabSize: VOCAB, minLength: 5, maxLength: 10 };

function batchOf(examples: readonly Example[], perToken: boolean, withTypes: boolean): Batch {
  const T = Math.max(...examples.map((e) => e.ids.length));
  const B = examples.length;
  const ids: number[] = [];
  const mask: number[] = [];
  const labels: number[] = [];
  for (const e of examples) {
    for (let t = 0; t < T; t++) {
      const id = e.ids[t];
      ids.push(id ?? 0);
      mask.push(id === undefined ? 0 : 1);
      // Token task: each token's label says whether it is a marker (1..3) or not (0); padding ignored.
      if (perToken) labels.push(id === undefined ? IGNORE_INDEX : id >= 2 && id < 5 ? id - 1 : 0);
    }
    if (!perToken) labels.push(e.label);
  }
  const batch: Record<string, ReturnType<typeof tensorOf>> = {
    input_ids: tensorOf('int64', [B, T], ids),
    attention_mask: tensorOf('int64', [B, T], mask),
    labels: perToken ? tensorOf('int64', [B, T], labels) : tensorOf('int64', [B], labels),
  };
  if (withTypes) batch.token_type_ids = tensorOf('int64', [B, T], new Array(B * T).fill(0));
  return batch;
}

for (const name of FAMILY_NAMES) {
  for (const kind of ['sequence', 'token'] as const) {
    test(`${name} ${kind} classification trains: loss falls over 30 steps`, async () => {
      const config = new HfConfigReader(tinyConfig(name, VOCAB), `${name}/config.json`);
      const family = encoderFamilyOf(config);
      const opts = { family, config, numLabels: kind === 'token' ? 4 : 3, seed: 3 };
      const model =
        kind === 'token'
          ? tokenClassificationModel(opts)
          : sequenceClassificationModel({ ...opts, problemType: 'single_label_classification' });
      const withTypes = model.batchInputs.some((b) => b.name === 'token_type_ids');
      const runner = await StepRunner.create({
        model,
        weights: initWeights(model.params, 1),
        trainable: new Set(model.params.map((p) => p.name)),
        optimizer: { kind: 'adamw', weightDecay: 0.01 },
        maxGradNorm: 1,
        device: 'cpu',
        threads: 1,
      });
      const examples = markerTask({ ...task, count: 64, seed: 9 });
      const evalBatch = batchOf(examples.slice(0, 32), kind === 'token', withTypes);
      const before = (await runner.evaluate(evalBatch)).loss;
      for (let step = 0; step < 30; step++) {
        const start = (step * 16) % 64;
        await runner.step(batchOf(examples.slice(start, start + 16), kind === 'token', withTypes), 3e-3);
      }
      const after = (await runner.evaluate(evalBatch)).loss;
      await runner.dispose();
      assert.ok(after < before * 0.7, `${name} ${kind}: eval loss ${before} -> ${after}`);
    });
  }
}

test('maxSequenceLength: RoBERTa-style positions leave padding_idx + 1 slots, others use them all', () => {
  const lengthOf = (name: (typeof FAMILY_NAMES)[number], extra: Record<string, unknown>) => {
    const config = new HfConfigReader(tinyConfig(name, VOCAB, extra), `${name}/config.json`);
    return maxSequenceLength(encoderFamilyOf(config).arch(config));
  };
  // roberta-base, xlm-roberta-base and camembert-base: max_position_embeddings 514, pad_token_id 1.
  for (const model_type of ['roberta', 'xlm-roberta', 'camembert'])
    assert.equal(lengthOf('roberta', { model_type, max_position_embeddings: 514, pad_token_id: 1 }), 512);
  assert.equal(lengthOf('roberta', { pad_token_id: 1 }), 38); // the tiny fixture models: 40 - 2
  for (const name of ['bert', 'distilbert', 'albert', 'electra'] as const)
    assert.equal(lengthOf(name, { max_position_embeddings: 512 }), 512);
});

test('registry: the shared validator knows every engine family under its kind, and the offset-position types', () => {
  for (const family of FAMILIES) {
    const known = { encoder: ENCODER_TYPES, decoder: DECODER_TYPES, seq2seq: SEQ2SEQ_TYPES }[family.kind];
    for (const type of family.modelTypes)
      assert.ok(known.has(type), `${type} (${family.kind}) missing in config-files`);
  }
  const offset = FAMILIES.flatMap((f) =>
    f.kind === 'encoder'
      ? f.modelTypes.filter((model_type) => {
          const config = new HfConfigReader(tinyConfig(f.name as FamilyName, VOCAB, { model_type }), 'x');
          const arch = f.arch(config);
          return 'positions' in arch && arch.positions.kind === 'padding-offset';
        })
      : [],
  );
  assert.deepEqual([...OFFSET_POSITIONS].sort(), offset.sort());
});

test('registry: every model_type belongs to one family; base prefixes and LoRA targets come from it', () => {
  const types = FAMILIES.flatMap((f) => f.modelTypes);
  assert.equal(new Set(types).size, types.length);
  assert.equal(basePrefixOf('xlm-roberta'), 'roberta');
  assert.equal(basePrefixOf('gpt2'), 'transformer');
  assert.equal(basePrefixOf('no-such-type'), '');
  assert.deepEqual(findFamily('distilbert')?.loraTargets, ['q_lin', 'v_lin']);
  assert.deepEqual(modelTypesOf('decoder'), ['gpt2', 'llama', 'mistral', 'qwen2', 'qwen3', 'phi3']);
  assert.equal(basePrefixOf('qwen2'), 'model');
  assert.deepEqual(findFamily('phi3')?.loraTargets, ['qkv_proj']);
  assert.deepEqual(findFamily('llama')?.loraTargets, ['q_proj', 'v_proj']);
  const bad = new HfConfigReader({ model_type: 'gpt2' }, 'gpt2/config.json');
  assert.throws(
    () => encoderFamilyOf(bad),
    /gpt2\/config\.json: model_type 'gpt2' is not supported for encoder tasks \(supported: bert, roberta/,
  );
});
