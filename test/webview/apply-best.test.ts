import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyBestEdit } from '../../src/extension/panel/apply-best.js';
import { applyTextEdits } from '../../src/shared/config-tree.js';

const CONFIG = `# demo sweep
model: ./models/bert-tiny   # a folder
task: text-classification
data:
  train: data/train.jsonl
training:
  # the searched keys
  learning_rate: 2.0e-5     # the default
  batch_size: 8
sweep:
  metric: accuracy
  parameters:
    - { key: training.learning_rate, type: loguniform, low: 1.0e-5, high: 1.0e-3 }
    - { key: training.batch_size, type: choice, values: [8, 16] }
    - { key: training.warmup_ratio, type: uniform, low: 0, high: 0.2 }
`;

test("apply best: the trial's values at their dotted keys, every comment and other byte kept", () => {
  const edit = applyBestEdit(CONFIG, 'yaml', {
    'training.learning_rate': 0.00031,
    'training.batch_size': 16,
    'training.warmup_ratio': 0.05,
  });
  assert.ok(edit);
  const out = applyTextEdits(CONFIG, [edit]);
  assert.equal(
    out,
    // The comment keeps its column (config-edit.ts keeps alignment).
    CONFIG.replace('learning_rate: 2.0e-5     # the default', 'learning_rate: 0.00031    # the default').replace(
      'batch_size: 8\n',
      'batch_size: 16\n  warmup_ratio: 0.05\n',
    ),
  );
  // One edit, of the changed region only: it starts on the learning rate's line.
  assert.equal(edit.range.start.line, 7);
  assert.equal(edit.range.end.line, 8);
});

test('apply best: a key whose section is missing gets one; values already there give no edit', () => {
  const text = 'model: m\ntask: text-classification # cls\ndata:\n  train: t.jsonl\n';
  const edit = applyBestEdit(text, 'yaml', { 'training.lora.r': 16 });
  assert.ok(edit);
  assert.equal(applyTextEdits(text, [edit]), `${text}training:\n  lora:\n    r: 16\n`);
  assert.equal(applyBestEdit(CONFIG, 'yaml', { 'training.batch_size': 8 }), undefined);
});

test('apply best in a JSON config keeps its layout', () => {
  const text = '{\n  "model": "m",\n  "training": {\n    "learning_rate": 2e-5\n  }\n}\n';
  const edit = applyBestEdit(text, 'json', { 'training.learning_rate': 0.001, 'training.epochs': 3 });
  assert.ok(edit);
  assert.deepEqual(JSON.parse(applyTextEdits(text, [edit])), {
    model: 'm',
    training: { learning_rate: 0.001, epochs: 3 },
  });
});
