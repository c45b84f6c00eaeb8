import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Completions, completeConfig, hoverConfig, schemaAt } from '../../src/shared/config-assist.js';
import { METRIC_NAMES } from '../../src/shared/config-metrics.js';
import type { ConfigFormat } from '../../src/shared/config-tree.js';
import { cursor, r } from './helpers.js';

function complete(marked: string, format: ConfigFormat = 'yaml'): Completions {
  const { text, position } = cursor(marked);
  return completeConfig(text, format, position);
}

function labels(marked: string, format: ConfigFormat = 'yaml'): string[] {
  return complete(marked, format).items.map((i) => i.label);
}

function hover(marked: string, format: ConfigFormat = 'yaml') {
  const { text, position } = cursor(marked);
  return hoverConfig(text, format, position);
}

const TRAINING_KEYS = [
  'method',
  'init',
  'epochs',
  'batch_size',
  'learning_rate',
  'weight_decay',
  'warmup_ratio',
  'warmup_steps',
  'scheduler',
  'gradient_accumulation_steps',
  'max_grad_norm',
  'seed',
  'dropout',
  'freeze_layers',
  'lora',
  'save_total_limit',
  'save_steps',
  'save_minutes',
  'group_by_length',
  'on_nonfinite',
  'completion_only_loss',
  'assistant_only_loss',
  'distillation',
  'label_smoothing',
];

test('YAML keys: the section from indentation, without the keys already there', () => {
  assert.deepEqual(labels('|'), [
    'model',
    'task',
    'data',
    'training',
    'eval',
    'sweep',
    'launcher',
    'output_dir',
    'device',
  ]);
  assert.deepEqual(labels('model: m\ntask: causal-lm\n|\n'), [
    'data',
    'training',
    'eval',
    'sweep',
    'launcher',
    'output_dir',
    'device',
  ]);
  const half = complete('model: x\ntraining:\n  epochs: 3\n  lea|\neval:\n  every: 3\n');
  assert.deepEqual(
    half.items.map((i) => i.label),
    TRAINING_KEYS.filter((k) => k !== 'epochs'),
  );
  assert.deepEqual(half.range, r(3, 2, 3, 5));
  const lr = half.items.find((i) => i.label === 'learning_rate');
  assert.deepEqual(lr && { ...lr, documentation: lr.documentation.slice(0, 18) }, {
    label: 'learning_rate',
    kind: 'key',
    detail: 'number, default 2e-5',
    documentation: 'The initial learni',
    insertText: 'learning_rate: ',
  });
  assert.deepEqual(labels('training:\n  lora:\n    r: 8\n    |\n'), [
    'alpha',
    'dropout',
    'target_modules',
    'use_rslora',
  ]);
  assert.equal(complete('data:\n  |').items.find((i) => i.label === 'clean')?.insertText, 'clean:\n    ');
});

test('YAML values: enum values with their descriptions, booleans, defaults', () => {
  const task = complete('model: x\ntask: te|\n');
  assert.deepEqual(
    task.items.map((i) => i.label),
    [
      'text-classification',
      'token-classification',
      'question-answering',
      'causal-lm',
      'masked-lm',
      'translation',
      'summarization',
    ],
  );
  assert.deepEqual(task.range, r(1, 6, 1, 8));
  assert.match(task.items[0]?.documentation ?? '', /^Assign a label to a text/);
  assert.deepEqual(labels('data:\n  shuffle: |'), ['true', 'false']);
  assert.deepEqual(labels('training:\n  scheduler: cos|ine\n'), ['linear', 'cosine', 'constant']);
  assert.deepEqual(complete('training:\n  scheduler: cos|ine\n').range, r(1, 13, 1, 19));
  assert.deepEqual(labels('training:\n  freeze_layers: |\n'), ['all']);
  assert.deepEqual(labels('training:\n  max_grad_norm: |\n'), ['1']);
});

test("YAML lists and flow collections; metrics are those of the config's task", () => {
  const token = 'task: token-classification\n';
  const averaged = ['precision', 'recall', 'f1'].flatMap((s) => ['macro', 'micro', 'weighted'].map((a) => `${s}_${a}`));
  const tokenMetrics = ['accuracy', 'precision', 'recall', 'f1', ...averaged];
  assert.deepEqual(labels(`${token}eval:\n  metrics:\n    - accuracy\n    - |\n`), tokenMetrics.slice(1));
  assert.deepEqual(
    labels(`${token}eval:\n  metrics:\n  - f1\n  - |\n`),
    tokenMetrics.filter((m) => m !== 'f1'),
  );
  assert.deepEqual(labels('task: question-answering\neval:\n  metrics: [f1, |]\n'), ['exact_match']);
  assert.deepEqual(labels('task: causal-lm\neval:\n  early_stopping: {metric: |}\n'), ['loss', 'perplexity']);
  // Without a task yet, every metric is offered.
  assert.equal(labels('eval:\n  metrics: [|]\n').length, METRIC_NAMES.length);
  assert.deepEqual(labels('task: translation\neval:\n  metrics: [|]\n'), [
    'bleu',
    'chrf',
    'rouge1',
    'rouge2',
    'rougeL',
    'rougeLsum',
  ]);
  assert.deepEqual(labels('data:\n  clean: { normalize: N| }\n'), ['NFC', 'NFKC', 'none']);
  assert.deepEqual(labels('data:\n  clean: { normalize: NFC, |}\n'), [
    'lowercase',
    'collapse_whitespace',
    'strip_control',
    'strip_html',
    'dedup',
    'near_dedup',
  ]);
});

test('JSON keys and values, quoted, replacing the string under the cursor', () => {
  const keys = complete('{"training": {"epochs": 2, "|"}}', 'json');
  assert.deepEqual(
    keys.items.map((i) => i.label),
    TRAINING_KEYS.filter((k) => k !== 'epochs'),
  );
  assert.deepEqual(keys.range, r(0, 27, 0, 29));
  assert.equal(keys.items[0]?.insertText, '"method": ');
  const values = complete('{"task": "|"}', 'json');
  assert.deepEqual(values.range, r(0, 9, 0, 11));
  assert.equal(values.items[0]?.insertText, '"text-classification"');
  assert.deepEqual(labels('{"task": "question-answering", "eval": {"metrics": ["f1", |]}}', 'json'), ['exact_match']);
  assert.deepEqual(labels('{"device": |}', 'json'), ['auto', 'cpu', 'cuda']);
});

test('a value being completed says where it goes, so the editor can add the models it finds to model:', () => {
  assert.deepEqual(complete('model: |\ntask: causal-lm\n').valuePath, ['model']);
  assert.deepEqual(complete('model: ./tin|\n').range, r(0, 7, 0, 12));
  assert.deepEqual(complete('{ "model": "org/na|" }', 'json').valuePath, ['model']);
  assert.deepEqual(complete('training:\n  scheduler: |\n').valuePath, ['training', 'scheduler']);
  assert.deepEqual(complete('eval:\n  metrics:\n    - |\n').valuePath, ['eval', 'metrics', 0]);
  // Keys are not values.
  assert.equal(complete('mod|').valuePath, undefined);
});

test('hover: the key with its type, default and description; enum values listed, the current one bold', () => {
  const h = hover('training:\n  learning_r|ate: 1e-4\n');
  assert.deepEqual(h?.range, r(1, 2, 1, 15));
  assert.equal(
    h?.contents,
    '**training.learning_rate**: `number`, default `2e-5`\n\nThe initial learning rate for the AdamW optimizer.',
  );
  const v = hover('training:\n  scheduler: cos|ine\n');
  assert.deepEqual(v?.range, r(1, 13, 1, 19));
  assert.match(v?.contents ?? '', /^\*\*training\.scheduler\*\*: `string`, default `linear`/);
  assert.match(v?.contents ?? '', /\n- \*\*`cosine`\*\*: Decays along a half cosine/);
  assert.match(hover('{"data": {"max_le|ngth": 64}}', 'json')?.contents ?? '', /^\*\*data\.max_length\*\*: `integer`/);
  assert.match(hover('eval:\n  metrics: [accuracy, f|1]\n')?.contents ?? '', /- \*\*`f1`\*\*: Harmonic mean/);
  assert.equal(hover('model: x\nfoo|: 1\n'), undefined);
});

test('hover works on half-typed YAML that does not parse', () => {
  const h = hover('training:\n  epochs: [\n  warmup_st|eps: 3\n');
  assert.match(h?.contents ?? '', /^\*\*training\.warmup_steps\*\*/);
});

test('schemaAt steps through objects and list items', () => {
  assert.equal(schemaAt(['eval', 'metrics', 0])?.type, 'string');
  assert.equal(schemaAt(['training', 'lora', 'r'])?.default, 8);
  assert.equal(schemaAt(['nope']), undefined);
});
