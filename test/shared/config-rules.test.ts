import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Diagnostic, validateConfigText } from '../../src/shared/config-validate.js';
import { applyEdits, r } from './helpers.js';

const BASE = 'model: ./m\ntask: text-classification\n';

/** Diagnostics of a YAML text as [severity, code, range] plus messages for matching. */
function lint(text: string): Diagnostic[] {
  return validateConfigText(text, 'yaml').diagnostics;
}

function brief(ds: Diagnostic[]) {
  return ds.map((d) => [d.severity, d.code, d.range]);
}

test('validation and validation_split are exclusive', () => {
  const ds = lint(`${BASE}data:\n  train: t.jsonl\n  validation: v.jsonl\n  validation_split: 0.2\n`);
  assert.deepEqual(brief(ds), [
    ['error', 'exclusive', r(4, 2, 4, 12)],
    ['error', 'exclusive', r(5, 2, 5, 18)],
  ]);
});

test('early stopping needs a validation set and a computed metric; its mode must fit the metric', () => {
  const noValidation = lint(`${BASE}data: {train: t.jsonl}\neval:\n  early_stopping: {patience: 2}\n`);
  assert.deepEqual(brief(noValidation), [['error', 'no-validation', r(4, 2, 4, 16)]]);
  assert.match(noValidation[0]?.message ?? '', /needs a validation set/);

  const text = `${BASE}data: {train: t.jsonl, validation_split: 0.1}\neval:\n  metrics: [accuracy]\n  early_stopping: {patience: 2, metric: f1, mode: min}\n`;
  const ds = lint(text);
  assert.deepEqual(brief(ds), [
    ['error', 'early-stopping-metric', r(5, 40, 5, 42)],
    ['warning', 'early-stopping-mode', r(5, 50, 5, 53)],
  ]);
  assert.equal(
    ds[0]?.message,
    "Early stopping watches 'f1', which is not computed: add it to eval.metrics or use loss.",
  );
  assert.equal(ds[1]?.message, 'A higher f1 is better, so mode min stops on the wrong trend: use max.');

  const onLoss = `${BASE}data: {train: t.jsonl, validation: v.jsonl}\neval: {early_stopping: {patience: 1, mode: max}}\n`;
  assert.deepEqual(brief(lint(onLoss)), [['warning', 'early-stopping-mode', r(3, 43, 3, 46)]]);
});

test('an eval section without validation data is a warning', () => {
  const ds = lint(`${BASE}data: {train: t.jsonl}\neval:\n  every: 100\n`);
  assert.deepEqual(brief(ds), [['warning', 'no-validation', r(3, 0, 3, 4)]]);
});

test('metrics must suit the task', () => {
  const ds = lint(`${BASE}data: {train: t.jsonl, validation_split: 0.1}\neval: {metrics: [accuracy, perplexity]}\n`);
  assert.deepEqual(brief(ds), [['error', 'metric-task', r(3, 27, 3, 37)]]);
  assert.match(
    ds[0]?.message ?? '',
    /^perplexity is not computed for text-classification; available: accuracy, precision, recall, f1, .*, spearmanr\.$/,
  );
  const qa = lint(
    'model: m\ntask: question-answering\ndata: {train: t.jsonl, validation_split: 0.1}\neval: {metrics: [accuracy]}\n',
  );
  assert.equal(qa[0]?.message, 'accuracy is not computed for question-answering; available: f1, exact_match.');
});

test('lora and freeze_layers only with their method; method freeze needs freeze_layers', () => {
  const text = `${BASE}data: {train: t.jsonl}\ntraining:\n  freeze_layers: 4\n  lora:\n    r: 4\n  epochs: 2\n`;
  const ds = lint(text);
  assert.deepEqual(brief(ds), [
    ['warning', 'unused-key', r(4, 2, 4, 15)],
    ['warning', 'unused-key', r(5, 2, 5, 6)],
  ]);
  assert.equal(ds[1]?.message, 'training.lora is only used with method: lora (the method is full).');
  // Removing the lora block takes its nested lines with it.
  const removed = applyEdits(text, ds[1]?.fixes?.[0]?.edits ?? []);
  assert.equal(removed, `${BASE}data: {train: t.jsonl}\ntraining:\n  freeze_layers: 4\n  epochs: 2\n`);

  const freeze = lint(`${BASE}data: {train: t.jsonl}\ntraining:\n  method: freeze\n`);
  assert.deepEqual(brief(freeze), [['error', 'freeze-layers-required', r(4, 10, 4, 16)]]);
  assert.deepEqual(lint(`${BASE}data: {train: t.jsonl}\ntraining: {method: freeze, freeze_layers: all}\n`), []);
  const badFreeze = lint(`${BASE}data: {train: t.jsonl}\ntraining: {method: freeze, freeze_layers: some}\n`);
  assert.equal(badFreeze[0]?.message, "freeze_layers must be an integer or 'all', got the string 'some'.");
});

test('a high learning rate is a warning, worded for the method', () => {
  const full = lint(`${BASE}data: {train: t.jsonl}\ntraining:\n  learning_rate: 5e-3\n`);
  assert.deepEqual(brief(full), [['warning', 'learning-rate', r(4, 17, 4, 21)]]);
  assert.match(full[0]?.message ?? '', /high for full fine-tuning .* usually fine-tune at 1e-5 to 1e-4/);
  assert.deepEqual(lint(`${BASE}data: {train: t.jsonl}\ntraining: {method: lora, learning_rate: 5e-3}\n`), []);
  assert.equal(
    lint(`${BASE}data: {train: t.jsonl}\ntraining: {method: lora, learning_rate: 0.05}\n`)[0]?.code,
    'learning-rate',
  );
});

test('columns another task reads are flagged, and two roles may not share a column', () => {
  const ds = lint('model: m\ntask: causal-lm\ndata:\n  train: t.jsonl\n  label_column: y\n  tags_column: t\n');
  assert.deepEqual(brief(ds), [
    ['warning', 'unused-key', r(4, 2, 4, 14)],
    ['warning', 'unused-key', r(5, 2, 5, 13)],
  ]);
  assert.equal(ds[0]?.message, 'label_column is not used by causal-lm.');
  const same = lint(`${BASE}data: {train: t.jsonl, text_column: body, label_column: body}\n`);
  assert.deepEqual(brief(same), [['error', 'same-column', r(2, 56, 2, 60)]]);
});

test('values of the wrong type do not trip the cross-key rules', () => {
  const ds = lint(`${BASE}data: 3\ntraining: [a]\neval: {early_stopping: 1, metrics: 2}\n`);
  assert.deepEqual(
    ds.map((d) => d.code),
    ['type', 'type', 'type', 'type'],
  );
});

test("eval.every is 'epoch' or a step count, with a suggestion for near misses", () => {
  const [d] = lint(`${BASE}data: {train: t.jsonl, validation_split: 0.1}\neval:\n  every: epochs\n`);
  assert.deepEqual(
    [d?.code, d?.range, d?.message],
    [
      'enum',
      r(4, 9, 4, 15),
      "every must be 'epoch' or a positive integer, got the string 'epochs'; did you mean 'epoch'?",
    ],
  );
  assert.equal(
    lint(`${BASE}data: {train: t.jsonl, validation_split: 0.1}\neval: {every: 0}\n`)[0]?.message,
    'every must be at least 1, got 0.',
  );
  assert.deepEqual(lint(`${BASE}data: {train: t.jsonl, validation_split: 0.1}\neval: {every: 250}\n`), []);
});
