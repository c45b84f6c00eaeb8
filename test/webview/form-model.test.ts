import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CONFIG_SCHEMA, type JsonSchema } from '../../src/shared/config-schema.js';
import { TASK_NAMES } from '../../src/shared/config-tasks.js';
import { validateConfigText } from '../../src/shared/config-validate.js';
import {
  allFields,
  diagnosticsByField,
  fieldSpec,
  formSections,
  parseFieldText,
  pathKey,
} from '../../src/webview/form-model.js';
import { schemaLeaves } from './helpers.js';

test('the form has exactly one field for every leaf of the schema', () => {
  const fields = allFields(formSections(CONFIG_SCHEMA)).map((f) => pathKey(f.path));
  assert.deepEqual([...fields].sort(), schemaLeaves(CONFIG_SCHEMA).sort());
});

test('sections: model and task first, then data, training, evaluation, distillation and augmentation, then the method-specific ones', () => {
  const sections = formSections(CONFIG_SCHEMA);
  assert.deepEqual(
    sections.map((s) => [s.title, s.method]),
    [
      ['Model and task', undefined],
      ['Data', undefined],
      ['Training', undefined],
      ['Evaluation', undefined],
      ['Sweep', undefined],
      ['Launcher', undefined],
      ['Distillation', undefined],
      ['Data augmentation', undefined],
      ['Method: freeze', 'freeze'],
      ['Method: LoRA', 'lora'],
    ],
  );
  assert.deepEqual(
    sections[0]?.fields.map((f) => f.label),
    ['model', 'task', 'output_dir', 'device'],
  );
  assert.ok(sections[1]?.groups.some((g) => g.id === 'data.clean'));
  assert.ok(!sections[2]?.fields.some((f) => f.label === 'freeze_layers'), 'freeze_layers lives with its method');
});

test('widgets follow the schema types, with help text and defaults from the schema', () => {
  const training = CONFIG_SCHEMA.properties?.training as JsonSchema;
  const spec = (path: string[]) => {
    let s: JsonSchema = CONFIG_SCHEMA;
    for (const k of path) s = s.properties?.[k] as JsonSchema;
    return fieldSpec(path, s);
  };
  assert.equal(spec(['task']).kind, 'enum');
  assert.deepEqual(
    spec(['task']).options.map((o) => o.value),
    [...TASK_NAMES],
  );
  assert.equal(spec(['data', 'shuffle']).kind, 'boolean');
  assert.equal(spec(['training', 'learning_rate']).kind, 'number');
  assert.equal(spec(['training', 'learning_rate']).placeholder, 'default: 0.00002');
  assert.equal(spec(['training', 'learning_rate']).description, training.properties?.learning_rate?.description);
  assert.equal(spec(['eval', 'metrics']).kind, 'multiEnum');
  // A list of module names, or PEFT's 'all-linear'.
  assert.equal(spec(['training', 'lora', 'target_modules']).kind, 'union');
  assert.equal(spec(['eval', 'every']).kind, 'union');
  assert.deepEqual(
    spec(['eval', 'every']).options.map((o) => o.value),
    ['epoch'],
  );
});

test('typed text becomes a config value; empty means not set', () => {
  assert.equal(parseFieldText('number', ' 3e-5 '), 3e-5);
  assert.equal(parseFieldText('number', '12'), 12);
  assert.equal(parseFieldText('number', 'fast'), 'fast', 'kept so the validator reports it');
  assert.equal(parseFieldText('number', ''), undefined);
  assert.equal(parseFieldText('union', 'epoch'), 'epoch');
  assert.equal(parseFieldText('union', '500'), 500);
  assert.deepEqual(parseFieldText('list', 'query, value,'), ['query', 'value']);
  assert.equal(parseFieldText('list', ' , '), undefined);
  assert.equal(parseFieldText('text', ' data/train.jsonl '), 'data/train.jsonl');
});

test('distillation and augmentation keys have sections of their own, not inside Data and Training', () => {
  const sections = formSections(CONFIG_SCHEMA);
  const byId = new Map(sections.map((s) => [s.id, s]));
  const distillation = byId.get('training.distillation');
  assert.deepEqual(
    distillation?.fields.map((f) => pathKey(f.path)),
    [
      'training.distillation.teacher',
      'training.distillation.temperature',
      'training.distillation.alpha',
      'training.distillation.hidden_loss',
      'training.distillation.student_layers_from_teacher',
      'data.unlabeled',
    ],
  );
  assert.match(distillation?.description ?? '', /\S/);
  assert.deepEqual(
    byId.get('data.augment')?.groups.map((g) => g.id),
    ['data.augment.eda', 'data.augment.mention_replacement', 'data.augment.back_translation'],
  );
  const elsewhere = allFields([byId.get('data'), byId.get('training')].filter((s) => s !== undefined)).map((f) =>
    pathKey(f.path),
  );
  assert.ok(
    !elsewhere.some(
      (k) => k === 'data.unlabeled' || k.startsWith('data.augment.') || k.startsWith('training.distillation.'),
    ),
  );
});

test('diagnostics land on their field, else their group, else the whole file', () => {
  const text =
    'model: x\ntask: text-classification\ndata:\n  train: t.jsonl\ntraining:\n  epochs: 0\n  lr: 1\neval:\n  metrics: [accuracy, bleu]\nbogus: 1\n';
  const { diagnostics } = validateConfigText(text, 'yaml');
  const sections = formSections(CONFIG_SCHEMA);
  const fieldKeys = new Set(allFields(sections).map((f) => pathKey(f.path)));
  const groupKeys = new Set([
    'model',
    'data',
    'training',
    'eval',
    'data.clean',
    'training.lora',
    'eval.early_stopping',
  ]);
  const by = diagnosticsByField(diagnostics, fieldKeys, groupKeys);
  assert.ok(by.get('training.epochs')?.some((d) => d.severity === 'error'));
  assert.ok(
    by.get('training')?.some((d) => /lr/.test(d.message)),
    'unknown key under training',
  );
  assert.ok(by.get('eval.metrics')?.some((d) => /bleu/.test(d.message)));
  assert.ok(by.get('')?.some((d) => /bogus/.test(d.message)));
  const total = [...by.values()].reduce((n, l) => n + l.length, 0);
  assert.equal(total, diagnostics.length, 'none lost');
});
