import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Example } from '../../src/engine/data/records.js';
import { encodeModel } from '../../src/engine/graph/onnx-codec.js';
import { numel, type TensorData, tensorNumbers } from '../../src/engine/graph/types.js';
import { planFreeze } from '../../src/engine/methods/freeze.js';
import { modelLayout } from '../../src/engine/methods/layout.js';
import { type Lora, loraSettings } from '../../src/engine/methods/lora.js';
import { loraFor, prepareMethod } from '../../src/engine/methods/method.js';
import type { TrainableModel } from '../../src/engine/models/model.js';
import { createSession, ortBackend } from '../../src/engine/runtime.js';
import { buildForward, buildInference, buildTrainStep } from '../../src/engine/step/step-graph.js';
import { causalLmRecipe } from '../../src/engine/tasks/causal-lm/recipe.js';
import { type EncoderRecipe, encoderRecipe } from '../../src/engine/tasks/encoder/recipe.js';
import { Tokenizer } from '../../src/engine/tokenize/index.js';
import { rng } from '../../src/engine/util/random.js';
import type { ResolvedConfig, TrainingConfig } from '../../src/shared/config.js';
import { LORA_DEFAULTS } from '../../src/shared/config-defaults.js';
import { applyDefaults } from '../../src/shared/config-validate.js';
import { FIXTURE_SENTENCES, sentimentRows } from '../fixtures/datasets.js';
import type { FamilyName } from '../fixtures/tiny-configs.js';
import { GPT2_FIXTURE_SENTENCES, patternedSentences, writeTinyGpt2 } from '../fixtures/tiny-gpt2.js';
import { writeTinyModel } from '../fixtures/tiny-models.js';

/**
 * training.method on the tiny fixtures, without training: which weights each method freezes, where
 * LoRA puts its adapters, that merged adapters give the unmerged graph's logits, and that the
 * bytes the log reports are the bytes the train step is fed.
 */
const folders = new Map<FamilyName, string>();
function modelDir(family: FamilyName): string {
  let dir = folders.get(family);
  if (!dir) {
    dir = join(mkdtempSync(join(tmpdir(), `ft-methods-${family}-`)), 'model');
    mkdirSync(dir);
    writeTinyModel(dir, family, FIXTURE_SENTENCES);
    folders.set(family, dir);
  }
  return dir;
}

function configOf(family: FamilyName, training: TrainingConfig): ResolvedConfig {
  return applyDefaults({
    model: modelDir(family),
    task: 'text-classification',
    data: { train: '', max_length: 32 },
    training,
  });
}

function recipeOf(family: FamilyName, training: TrainingConfig = {}, lora?: Lora): EncoderRecipe {
  const dir = modelDir(family);
  const labels = ['negative', 'positive'];
  return encoderRecipe({
    config: configOf(family, training),
    modelDir: dir,
    tokenizer: Tokenizer.fromFolder(dir),
    labelSet: { labels, ids: new Map(labels.map((l, i) => [l, i])), order: 'sorted' },
    seed: 3,
    ...(lora ? { adapters: lora.hook } : {}),
  });
}

const adamw = { kind: 'adamw', weightDecay: 0.01 } as const;

function plan(family: FamilyName, training: TrainingConfig, accumulation = 1) {
  const config = configOf(family, training);
  const lora = loraFor(config, family);
  const recipe = recipeOf(family, training, lora);
  return {
    recipe,
    plan: prepareMethod(config, recipe, {
      modelType: family,
      seed: 3,
      optimizer: adamw,
      accumulation,
      ...(lora ? { lora } : {}),
    }),
  };
}

test('freeze: embeddings and the bottom freeze_layers layers, or the whole base model with all', () => {
  const layout = modelLayout(recipeOf('bert').model, 'bert');
  assert.deepEqual(layout.embeddings, [
    'bert.embeddings.word_embeddings.weight',
    'bert.embeddings.position_embeddings.weight',
    'bert.embeddings.token_type_embeddings.weight',
    'bert.embeddings.LayerNorm.weight',
    'bert.embeddings.LayerNorm.bias',
  ]);
  assert.equal(layout.layers.length, 2);
  assert.equal(layout.depth, 2);
  assert.ok(layout.layers[1]?.every((n) => n.startsWith('bert.encoder.layer.1.')));
  assert.deepEqual(layout.after, ['bert.pooler.dense.weight', 'bert.pooler.dense.bias']);
  assert.deepEqual(layout.head, ['classifier.weight', 'classifier.bias']);

  const one = planFreeze(layout, 1).frozen;
  assert.ok(one.has('bert.embeddings.word_embeddings.weight'));
  assert.ok(one.has('bert.encoder.layer.0.attention.self.query.weight'));
  assert.ok(!one.has('bert.encoder.layer.1.attention.self.query.weight'));
  assert.ok(!one.has('bert.pooler.dense.weight') && !one.has('classifier.weight'));
  assert.equal(planFreeze(layout, undefined).frozen.size, layout.embeddings.length, 'default: embeddings only');
  const all = planFreeze(layout, 'all').frozen;
  assert.ok(all.has('bert.pooler.dense.weight') && !all.has('classifier.weight') && !all.has('classifier.bias'));
  assert.throws(() => planFreeze(layout, 3), /freeze_layers 3 is more than the model's 2 layers/);

  // DistilBERT (no pooler, a two-module head) and ELECTRA (embedding projection frozen with the embeddings).
  const distil = modelLayout(recipeOf('distilbert').model, 'distilbert');
  assert.deepEqual(distil.head, [
    'pre_classifier.weight',
    'pre_classifier.bias',
    'classifier.weight',
    'classifier.bias',
  ]);
  assert.ok(planFreeze(distil, 2).frozen.has('distilbert.transformer.layer.1.ffn.lin2.weight'));
  const electra = modelLayout(recipeOf('electra').model, 'electra');
  assert.ok(electra.embeddings.includes('electra.embeddings_project.weight'));
});

test('freeze: ALBERT shares one layer, so only freeze_layers 0 or all are meaningful', () => {
  const layout = modelLayout(recipeOf('albert').model, 'albert');
  assert.equal(layout.sharedLayers, true);
  assert.equal(layout.depth, 2);
  assert.ok(layout.embeddings.includes('albert.encoder.embedding_hidden_mapping_in.weight'));
  assert.throws(() => planFreeze(layout, 1), /shares one set of layer weights across all 2 layers \(ALBERT\)/);
  const all = planFreeze(layout, 'all').frozen;
  assert.ok(all.has('albert.encoder.albert_layer_groups.0.albert_layers.0.attention.query.weight'));
  assert.ok(!planFreeze(layout, 0).frozen.has('albert.encoder.albert_layer_groups.0.albert_layers.0.ffn.weight'));
});

test('lora: target_modules match Hugging Face module names as PEFT does; errors list the linear layers', () => {
  const bert = plan('bert', { method: 'lora', lora: { r: 4, alpha: 8, target_modules: ['query', 'value'] } }).plan;
  const lora = bert.lora as Lora;
  assert.deepEqual(
    lora.modules.map((m) => m.module),
    [
      'bert.encoder.layer.0.attention.self.query',
      'bert.encoder.layer.1.attention.self.query',
      'bert.encoder.layer.0.attention.self.value',
      'bert.encoder.layer.1.attention.self.value',
    ],
  );
  assert.equal(lora.scale, 2);
  const a = bert.weights.get('bert.encoder.layer.0.attention.self.query.lora_A.weight') as TensorData;
  const b = bert.weights.get('bert.encoder.layer.0.attention.self.query.lora_B.weight') as TensorData;
  assert.deepEqual(a.dims, [4, 32]);
  assert.deepEqual(b.dims, [32, 4]);
  const bound = 1 / Math.sqrt(32); // kaiming_uniform_(a = sqrt(5)) on [r, in]
  assert.ok(
    tensorNumbers(a).every((v) => Math.abs(v) <= bound) && tensorNumbers(a).some((v) => Math.abs(v) > bound / 2),
  );
  assert.ok(tensorNumbers(b).every((v) => v === 0));
  // Trained: adapters and the head; the pooler and every base weight frozen.
  assert.deepEqual(
    [...bert.trainable].filter((n) => !n.includes('.lora_')),
    ['classifier.weight', 'classifier.bias'],
  );
  assert.equal([...bert.trainable].filter((n) => n.includes('.lora_')).length, 8);

  const distil = plan('distilbert', { method: 'lora' }).plan.lora as Lora; // default targets q_lin, v_lin
  assert.deepEqual(distil.settings.targetModules, ['q_lin', 'v_lin']);
  assert.equal(distil.modules.length, 4);
  const albert = plan('albert', { method: 'lora', lora: { target_modules: ['ffn'] } }).plan.lora as Lora;
  assert.deepEqual(
    albert.modules.map((m) => [m.module, m.in, m.out]),
    [['albert.encoder.albert_layer_groups.0.albert_layers.0.ffn', 32, 64]],
  );

  assert.throws(
    () => plan('bert', { method: 'lora', lora: { target_modules: ['q_proj'] } }),
    /'q_proj' matches no linear layer of this model \(its linear layers are named: query, key, value, dense, classifier\)/,
  );
  assert.throws(
    () => plan('bert', { method: 'lora', lora: { target_modules: ['word_embeddings'] } }),
    /'word_embeddings' matches no linear layer/,
  );
  assert.throws(
    () => plan('bert', { method: 'lora', lora: { target_modules: ['classifier'] } }),
    /'classifier' matches only modules that are trained in full/,
  );
  assert.throws(() => loraSettings(LORA_DEFAULTS, 'mystery'), /no default target modules for model_type 'mystery'/);
});

/** Random non-zero adapters (B starts at zero, which would make any merge look right). */
function perturb(weights: Map<string, TensorData>, names: Iterable<string>, seed: number): void {
  const rand = rng(seed);
  for (const name of names) {
    const t = weights.get(name) as TensorData;
    const data = new Float32Array(t.data.length).map(() => (rand() - 0.5) * 0.4);
    weights.set(name, { ...t, data });
  }
}

for (const [family, targets] of [
  ['bert', ['query', 'value', 'dense']],
  ['distilbert', ['q_lin', 'v_lin', 'lin1']],
  ['albert', ['query', 'ffn_output']],
] as const) {
  test(`lora: ${family} adapters merged into the weights give the unmerged graph's logits`, async () => {
    const { recipe, plan: p } = plan(family, {
      method: 'lora',
      lora: { r: 4, alpha: 12, dropout: 0.1, target_modules: [...targets] },
    });
    const lora = p.lora as Lora;
    const weights = new Map(p.weights);
    perturb(weights, [...p.trainable], 11);
    const rows = sentimentRows(5, 4).map((r, i) => ({
      kind: 'text' as const,
      text: r.text,
      label: r.label,
      source: { file: 'x', line: i + 1 },
    }));
    const batch = recipe.collate(recipe.encode(rows));
    const forward = buildForward({ model: p.model, weights, trainable: new Set(), optimizer: adamw });
    const unmerged = await createSession(encodeModel(forward.graph), { device: 'cpu', threads: 1 });
    const want = tensorNumbers((await unmerged.run(batch))[forward.logits as string] as TensorData);
    await unmerged.dispose();

    const merged = lora.merge(weights);
    assert.ok(![...merged.keys()].some((n) => n.includes('lora_')), 'adapters are merged away');
    assert.deepEqual([...merged.keys()].sort(), recipe.model.params.map((s) => s.name).sort());
    const plain = await createSession(encodeModel(buildInference(recipe.model, merged)), { device: 'cpu', threads: 1 });
    const { labels: _labels, ...inputs } = batch;
    const got = tensorNumbers((await plain.run(inputs)).logits as TensorData);
    await plain.dispose();
    const base = tensorNumbers(
      (await (async () => {
        const s = await createSession(encodeModel(buildInference(recipe.model, recipe.weights)), { device: 'cpu' });
        const out = (await s.run(inputs)).logits as TensorData;
        await s.dispose();
        return out;
      })()) as TensorData,
    );
    assert.equal(got.length, want.length);
    assert.ok(
      want.some((v, i) => Math.abs(v - (base[i] as number)) > 1e-3),
      'the adapters change the logits',
    );
    want.forEach((v, i) => {
      assert.ok(Math.abs(v - (got[i] as number)) < 1e-5, `logit ${i}: ${v} vs ${got[i]}`);
    });
  });
}

/**
 * Bytes of the train step's float inputs that are not batch tensors or scalars (what is fed per
 * step), plus the moments of the parameters that HostAdamW updates beside the graph.
 */
function carriedBytesOfTrainStep(p: ReturnType<typeof plan>['plan'], accumulation: number): number {
  const step = buildTrainStep({
    model: p.model,
    weights: p.weights,
    trainable: p.trainable,
    optimizer: adamw,
    gradientAccumulationSteps: accumulation,
    placeOptimizer: ortBackend.placeOptimizer,
  });
  const batch = new Set(p.model.batchInputs.map((b) => b.name));
  let bytes = 0;
  for (const name of step.graph.inputs) {
    const v = step.graph.value(name);
    if (batch.has(name) || v.dtype !== 'float32' || (v.shape ?? []).length === 0) continue;
    bytes += numel(v.shape as number[]) * 4;
  }
  for (const h of step.host ?? []) bytes += 2 * numel(step.graph.value(h.param).shape as number[]) * 4;
  return bytes;
}

test('the parameter bytes reported per step are what the train step is fed (full, freeze, lora)', () => {
  const seen: Record<string, number> = {};
  for (const accumulation of [1, 2]) {
    const cases: [string, TrainingConfig][] = [
      ['full', { method: 'full' }],
      ['freeze', { method: 'freeze', freeze_layers: 1 }],
      ['freeze-all', { method: 'freeze', freeze_layers: 'all' }],
      ['lora', { method: 'lora', lora: { r: 8, target_modules: ['query', 'value'] } }],
    ];
    for (const [name, training] of cases) {
      const { plan: p } = plan('bert', training, accumulation);
      const counts = p.counts;
      assert.equal(
        counts.carriedBytes,
        carriedBytesOfTrainStep(p, accumulation),
        `${name}, accumulation ${accumulation}`,
      );
      assert.equal(counts.carriedBytes, counts.trained * 4 * (accumulation > 1 ? 4 : 3));
      seen[`${name}/${accumulation}`] = counts.trained;
      if (name === 'lora') {
        // Adapters (4 modules x (8x32 + 32x8)) and the classifier (2x32 + 2): nothing of the base model.
        assert.equal(p.counts.adapters, 4 * (8 * 32 + 32 * 8));
        assert.equal(counts.trained, 2048 + 66);
        assert.equal(counts.total, (seen['full/1'] as number) + 2048);
      }
    }
  }
  assert.ok((seen['freeze-all/1'] as number) === 66, 'freeze all trains the classifier only');
  assert.ok((seen['freeze/1'] as number) < (seen['full/1'] as number));
});

test('GPT-2: LoRA on c_attn adapts the Conv1D ([in, out], fan_in_fan_out) and merges transposed; freeze layout', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ft-methods-gpt2-'));
  writeTinyGpt2(dir, GPT2_FIXTURE_SENTENCES, { seed: 3 });
  const training: TrainingConfig = { method: 'lora', lora: { r: 4, alpha: 8, target_modules: ['c_attn', 'c_fc'] } };
  const config = applyDefaults({ model: dir, task: 'causal-lm', data: { train: '', max_length: 16 }, training });
  const lora = loraFor(config, 'gpt2') as Lora;
  const recipe = causalLmRecipe({
    config,
    modelDir: dir,
    tokenizer: Tokenizer.fromFolder(dir),
    labelSet: undefined,
    seed: 1,
    adapters: lora.hook,
  });
  const layout = modelLayout(recipe.model, 'transformer');
  assert.deepEqual(layout.embeddings, ['transformer.wte.weight', 'transformer.wpe.weight']);
  assert.equal(layout.depth, 2);
  assert.deepEqual(layout.after, ['transformer.ln_f.weight', 'transformer.ln_f.bias']);
  assert.deepEqual(layout.head, [], 'the LM head is tied to wte');

  const p = prepareMethod(config, recipe, { modelType: 'gpt2', seed: 1, optimizer: adamw, accumulation: 1, lora });
  assert.deepEqual(
    lora.modules.map((m) => [m.module, m.in, m.out, m.fanInFanOut]),
    [
      ['transformer.h.0.attn.c_attn', 32, 96, true],
      ['transformer.h.1.attn.c_attn', 32, 96, true],
      ['transformer.h.0.mlp.c_fc', 32, 128, true],
      ['transformer.h.1.mlp.c_fc', 32, 128, true],
    ],
  );
  assert.deepEqual(p.weights.get('transformer.h.0.attn.c_attn.lora_B.weight')?.dims, [96, 4]);
  assert.equal(p.counts.trained, 2 * (4 * 32 + 96 * 4) + 2 * (4 * 32 + 128 * 4));

  const weights = new Map(p.weights);
  perturb(weights, [...p.trainable], 5);
  const rows: Example[] = patternedSentences(3, 7).map((text, i) => ({
    kind: 'text',
    text,
    source: { file: 'x', line: i + 1 },
  }));
  const batch = recipe.collate(recipe.encode(rows));
  const logitsOf = async (model: TrainableModel, w: Map<string, TensorData>) => {
    const f = buildForward({ model, weights: w, trainable: new Set(), optimizer: adamw });
    const s = await createSession(encodeModel(f.graph), { device: 'cpu', threads: 1 });
    const out = tensorNumbers((await s.run(batch))[f.logits as string] as TensorData);
    await s.dispose();
    return out;
  };
  const want = await logitsOf(p.model, weights);
  const got = await logitsOf(recipe.model, lora.merge(weights));
  want.forEach((v, i) => {
    assert.ok(Math.abs(v - (got[i] as number)) < 1e-5, `logit ${i}: ${v} vs ${got[i]}`);
  });

  const frozenAll = applyDefaults({ ...config, training: { method: 'freeze', freeze_layers: 'all' } });
  assert.throws(
    () => prepareMethod(frozenAll, recipe, { modelType: 'gpt2', seed: 1, optimizer: adamw, accumulation: 1 }),
    /no head weights of its own/,
  );
});
