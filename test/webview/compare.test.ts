import assert from 'node:assert/strict';
import { test } from 'node:test';
import { differingHyperparameters, legendLabel } from '../../src/webview/compare.js';

const base = {
  model: './models/bert-tiny',
  task: 'text-classification',
  data: { train: 'data/train.jsonl', max_length: 128 },
  training: { method: 'full', learning_rate: 2e-5, epochs: 3, dropout: 0.1 },
  eval: { metrics: ['accuracy', 'f1'] },
  output_dir: '.finetune/runs',
};

test('only the keys whose values differ are named, with each run its own value', () => {
  const a = { id: 'a', config: base };
  const b = { id: 'b', config: { ...base, training: { ...base.training, learning_rate: 5e-5 } } };
  const diff = differingHyperparameters([a, b]);
  assert.deepEqual(diff.get('a'), ['learning_rate=0.00002']);
  assert.deepEqual(diff.get('b'), ['learning_rate=0.00005']);
});

test('identical configs, or a single run, differ in nothing', () => {
  assert.deepEqual(differingHyperparameters([{ id: 'a', config: base }]).get('a'), []);
  const d = differingHyperparameters([
    { id: 'a', config: base },
    { id: 'b', config: structuredClone(base) },
  ]);
  assert.deepEqual(d.get('b'), []);
});

test('a key missing from one run is a difference, shown as a dash there', () => {
  const withLora = { ...base, training: { ...base.training, method: 'lora', lora: { r: 8 } } };
  const diff = differingHyperparameters([
    { id: 'a', config: base },
    { id: 'b', config: withLora },
  ]);
  assert.deepEqual(diff.get('a'), ['method=full', 'r=—']);
  assert.deepEqual(diff.get('b'), ['method=lora', 'r=8']);
});

test('lists compare as a whole; output_dir is not a hyperparameter', () => {
  const diff = differingHyperparameters([
    { id: 'a', config: base },
    { id: 'b', config: { ...base, output_dir: 'elsewhere', eval: { metrics: ['accuracy'] } } },
  ]);
  assert.deepEqual(diff.get('a'), ['metrics=[accuracy, f1]']);
  assert.deepEqual(diff.get('b'), ['metrics=[accuracy]']);
});

test('a name shared by two differing keys is qualified until it is unambiguous', () => {
  const a = { ...base, training: { ...base.training, dropout: 0.1, lora: { dropout: 0.05 } } };
  const b = { ...base, training: { ...base.training, dropout: 0.2, lora: { dropout: 0.1 } } };
  const diff = differingHyperparameters([
    { id: 'a', config: a },
    { id: 'b', config: b },
  ]);
  assert.deepEqual(diff.get('b'), ['training.dropout=0.2', 'lora.dropout=0.1']);
});

test('a run without a config (not written yet) differs in every key', () => {
  const diff = differingHyperparameters([
    { id: 'a', config: { training: { epochs: 3 } } },
    { id: 'b', config: undefined },
  ]);
  assert.deepEqual(diff.get('b'), ['epochs=—']);
});

test('legend labels name the run and at most a few differences', () => {
  assert.equal(legendLabel('run-1', []), 'run-1');
  assert.equal(legendLabel('run-1', ['lr=1', 'r=8']), 'run-1 (lr=1, r=8)');
  assert.equal(legendLabel('run-1', ['a=1', 'b=2', 'c=3'], 2), 'run-1 (a=1, b=2, +1 more)');
});
