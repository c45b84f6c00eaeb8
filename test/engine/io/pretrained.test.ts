import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type TensorData, tensorOf } from '../../../src/engine/graph/types.js';
import { readHfConfig } from '../../../src/engine/io/hf-config.js';
import { candidateNames, loadPretrained, savePretrained } from '../../../src/engine/io/pretrained.js';
import { writeSafetensors } from '../../../src/engine/io/safetensors.js';
import type { ParamSpec } from '../../../src/engine/models/model.js';

const root = mkdtempSync(join(tmpdir(), 'pretrained-test-'));
after(() => rmSync(root, { recursive: true, force: true }));
let count = 0;

const H = 4;
const CONFIG = { model_type: 'bert', hidden_size: H, initializer_range: 0.02, vocab_size: 8, num_hidden_layers: 1 };

/** A model folder with config.json and model.safetensors holding `tensors`. */
function modelFolder(tensors: [string, TensorData][], config: object = CONFIG): string {
  const folder = join(root, `m${count++}`);
  mkdirSync(folder);
  writeFileSync(join(folder, 'config.json'), JSON.stringify(config));
  writeSafetensors(join(folder, 'model.safetensors'), tensors);
  return folder;
}

const filled = (dims: number[], start: number) =>
  tensorOf(
    'float32',
    dims,
    Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => start + i),
  );

/** BertForSequenceClassification-style names: base weights under `bert.`, the head without. */
const taskSpecs = (labels: number): ParamSpec[] => [
  { name: 'bert.embeddings.word_embeddings.weight', shape: [8, H], init: { kind: 'normal', std: 0.02 } },
  { name: 'bert.embeddings.LayerNorm.weight', shape: [H], init: { kind: 'ones' } },
  { name: 'bert.embeddings.LayerNorm.bias', shape: [H], init: { kind: 'zeros' } },
  { name: 'bert.pooler.dense.weight', shape: [H, H], init: { kind: 'normal', std: 0.02 } },
  { name: 'classifier.weight', shape: [labels, H], init: { kind: 'normal', std: 0.02 } },
  { name: 'classifier.bias', shape: [labels], init: { kind: 'zeros' } },
];

/** A base BertModel checkpoint: no prefix, legacy gamma/beta, a position_ids buffer, an MLM head. */
const baseCheckpoint = (): [string, TensorData][] => [
  ['embeddings.word_embeddings.weight', filled([8, H], 0)],
  ['embeddings.LayerNorm.gamma', filled([H], 100)],
  ['embeddings.LayerNorm.beta', filled([H], 200)],
  ['pooler.dense.weight', filled([H, H], 300)],
  ['embeddings.position_ids', tensorOf('int64', [1, 3], [0, 1, 2])],
  ['cls.predictions.bias', filled([8], 400)],
];

const values = (t: TensorData | undefined) => Array.from((t as TensorData).data as Float32Array);

test('candidate names: as given, prefix swapped, legacy gamma/beta', () => {
  assert.deepEqual(candidateNames('bert.embeddings.LayerNorm.weight', 'bert'), [
    'bert.embeddings.LayerNorm.weight',
    'bert.embeddings.LayerNorm.gamma',
    'embeddings.LayerNorm.weight',
    'embeddings.LayerNorm.gamma',
  ]);
  assert.deepEqual(candidateNames('classifier.bias', 'bert'), [
    'classifier.bias',
    'classifier.beta',
    'bert.classifier.bias',
    'bert.classifier.beta',
  ]);
  assert.deepEqual(candidateNames('x.running_mean', ''), ['x.running_mean']);
});

test('a base checkpoint loads into a task model: prefix added, gamma/beta renamed, head initialised', () => {
  const folder = modelFolder(baseCheckpoint());
  const loaded = loadPretrained(folder, taskSpecs(2), { seed: 7 });
  assert.deepEqual(values(loaded.weights.get('bert.embeddings.word_embeddings.weight')), values(filled([8, H], 0)));
  assert.deepEqual(values(loaded.weights.get('bert.embeddings.LayerNorm.weight')), [100, 101, 102, 103]);
  assert.deepEqual(values(loaded.weights.get('bert.embeddings.LayerNorm.bias')), [200, 201, 202, 203]);
  assert.deepEqual(loaded.renamed, [
    { from: 'embeddings.word_embeddings.weight', to: 'bert.embeddings.word_embeddings.weight' },
    { from: 'embeddings.LayerNorm.gamma', to: 'bert.embeddings.LayerNorm.weight' },
    { from: 'embeddings.LayerNorm.beta', to: 'bert.embeddings.LayerNorm.bias' },
    { from: 'pooler.dense.weight', to: 'bert.pooler.dense.weight' },
  ]);
  assert.deepEqual(loaded.missing, ['classifier.weight', 'classifier.bias']);
  assert.deepEqual(loaded.unexpected, ['cls.predictions.bias']);
  assert.deepEqual(loaded.ignoredBuffers, ['embeddings.position_ids']);
  assert.deepEqual(
    [...loaded.weights.keys()],
    taskSpecs(2).map((s) => s.name),
  );
  assert.deepEqual(values(loaded.weights.get('classifier.bias')), [0, 0]);
  const head = values(loaded.weights.get('classifier.weight'));
  assert.ok(head.some((v) => v !== 0) && head.every((v) => Math.abs(v) < 0.2), `normal(0.02) init: ${head}`);
  // Seeded: the same seed gives the same head.
  assert.deepEqual(values(loadPretrained(folder, taskSpecs(2), { seed: 7 }).weights.get('classifier.weight')), head);
});

test('a task checkpoint loads into a base model: prefix removed, head reported unexpected', () => {
  const folder = modelFolder([
    ['bert.embeddings.word_embeddings.weight', filled([8, H], 0)],
    ['bert.embeddings.LayerNorm.weight', filled([H], 1)],
    ['bert.embeddings.LayerNorm.bias', filled([H], 2)],
    ['classifier.weight', filled([2, H], 3)],
    ['classifier.bias', filled([2], 4)],
  ]);
  const base: ParamSpec[] = taskSpecs(2)
    .slice(0, 3)
    .map((s) => ({ ...s, name: s.name.replace(/^bert\./, '') }));
  const loaded = loadPretrained(folder, base);
  assert.deepEqual(loaded.missing, []);
  assert.deepEqual(loaded.unexpected, ['classifier.bias', 'classifier.weight']);
  assert.deepEqual(
    loaded.renamed.map((r) => r.to),
    ['embeddings.word_embeddings.weight', 'embeddings.LayerNorm.weight', 'embeddings.LayerNorm.bias'],
  );
  assert.deepEqual(values(loaded.weights.get('embeddings.LayerNorm.bias')), [2, 3, 4, 5]);
});

test('names that already match are not reported as renamed; basePrefix can be given', () => {
  const folder = modelFolder([['roberta.x.weight', filled([2], 0)]], { model_type: 'custom' });
  const specs: ParamSpec[] = [{ name: 'x.weight', shape: [2], init: { kind: 'ones' } }];
  assert.deepEqual(loadPretrained(folder, specs).missing, ['x.weight']);
  const loaded = loadPretrained(folder, specs, { basePrefix: 'roberta' });
  assert.deepEqual(loaded.missing, []);
  const exact = loadPretrained(folder, [{ name: 'roberta.x.weight', shape: [2], init: { kind: 'ones' } }]);
  assert.deepEqual(exact.renamed, []);
});

test('a base weight of the wrong shape is an error naming tensor, file and both shapes', () => {
  const tensors = baseCheckpoint();
  tensors[0] = ['embeddings.word_embeddings.weight', filled([9, H], 0)];
  const folder = modelFolder(tensors);
  assert.throws(
    () => loadPretrained(folder, taskSpecs(2)),
    (e: Error) =>
      e.message.includes(join(folder, 'model.safetensors')) &&
      e.message.includes('"embeddings.word_embeddings.weight" has shape [9, 4]') &&
      e.message.includes('expects [8, 4] for "bert.embeddings.word_embeddings.weight"') &&
      e.message.includes('config.json'),
  );
});

test('a head of another label count is re-initialised with a warning', () => {
  const folder = modelFolder([
    ...baseCheckpoint(),
    ['classifier.weight', filled([3, H], 0)],
    ['classifier.bias', filled([3], 0)],
  ]);
  const warnings: string[] = [];
  const loaded = loadPretrained(folder, taskSpecs(2), { warn: (m) => warnings.push(m) });
  assert.deepEqual(
    loaded.reinitialized.map((r) => [r.name, r.fileShape, r.expectedShape]),
    [
      ['classifier.weight', [3, H], [2, H]],
      ['classifier.bias', [3], [2]],
    ],
  );
  assert.equal(warnings.length, 2);
  assert.match(warnings[0] as string, /classifier\.weight.*\[3, 4\].*\[2, 4\].*re-initialised/);
  assert.deepEqual(loaded.weights.get('classifier.weight')?.dims, [2, H]);
  assert.deepEqual(values(loaded.weights.get('classifier.bias')), [0, 0]);
});

test('an integer tensor for a float parameter is an error', () => {
  const folder = modelFolder([
    ['embeddings.word_embeddings.weight', tensorOf('int64', [8, H], new Array(8 * H).fill(1))],
  ]);
  assert.throws(
    () => loadPretrained(folder, taskSpecs(2)),
    /"embeddings\.word_embeddings\.weight" is I64, but parameter "bert\.embeddings\.word_embeddings\.weight" needs floating-point/,
  );
});

test('config.json values of the wrong type are reported by key', () => {
  const folder = modelFolder(baseCheckpoint(), { model_type: 'bert', hidden_size: '768' });
  assert.throws(() => loadPretrained(folder, taskSpecs(2)), /config\.json: "hidden_size" is "768", expected a number/);
  const noConfig = join(root, 'no-config');
  mkdirSync(noConfig);
  assert.throws(() => readHfConfig(noConfig), /config\.json not found/);
});

test('savePretrained writes weights, config and tokenizer files that load back', () => {
  const source = modelFolder(baseCheckpoint(), { ...CONFIG, transformers_version: '4.40.0', custom_key: { a: 1 } });
  writeFileSync(join(source, 'tokenizer.json'), '{"model":{}}');
  writeFileSync(join(source, 'vocab.txt'), '[PAD]\n[UNK]\n');
  writeFileSync(join(source, 'training_args.bin'), 'not copied');
  const loaded = loadPretrained(source, taskSpecs(2), { seed: 1 });
  const out = join(root, 'saved');
  const result = savePretrained(out, loaded.weights, loaded.config, {
    tokenizerFrom: source,
    architectures: ['BertForSequenceClassification'],
    labels: ['negative', 'positive'],
  });
  assert.deepEqual(result.files, ['model.safetensors', 'tokenizer.json', 'vocab.txt', 'config.json']);
  assert.deepEqual(readdirSync(out).sort(), ['config.json', 'model.safetensors', 'tokenizer.json', 'vocab.txt']);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.deepEqual(config.architectures, ['BertForSequenceClassification']);
  assert.deepEqual(config.id2label, { '0': 'negative', '1': 'positive' });
  assert.deepEqual(config.label2id, { negative: 0, positive: 1 });
  assert.equal(config.torch_dtype, 'float32');
  assert.equal(config.transformers_version, '4.40.0');
  assert.deepEqual(config.custom_key, { a: 1 });
  const again = loadPretrained(out, taskSpecs(2));
  assert.deepEqual(again.missing, []);
  assert.deepEqual(again.renamed, []);
  for (const [name, t] of loaded.weights) assert.deepEqual(values(again.weights.get(name)), values(t), name);
});

test('savePretrained shards above maxShardSize and the shards load back', () => {
  const source = modelFolder(baseCheckpoint());
  const loaded = loadPretrained(source, taskSpecs(2), { seed: 3 });
  const out = join(root, 'saved-sharded');
  const result = savePretrained(out, loaded.weights, loaded.config, { maxShardSize: 100 });
  assert.ok(result.files.includes('model.safetensors.index.json'));
  assert.ok(result.files.some((f) => /^model-00001-of-0000\d\.safetensors$/.test(f)));
  const again = loadPretrained(out, taskSpecs(2));
  for (const [name, t] of loaded.weights) assert.deepEqual(values(again.weights.get(name)), values(t), name);
});
