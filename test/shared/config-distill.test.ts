import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { nodeConfigFs } from '../../src/engine/commands/validate.js';
import { applyDefaults, type Diagnostic, validateConfig } from '../../src/shared/config-validate.js';
import { r, writeUnder } from './helpers.js';

/** training.distillation and data.unlabeled: defaults, the teacher on disk, and where they apply. */
let dir = '';

const write = (rel: string, text: string): void => writeUnder(dir, rel, text);

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'finetune-distill-config-'));
  const bert = { architectures: ['BertForSequenceClassification'], model_type: 'bert', max_position_embeddings: 64 };
  write('student/config.json', JSON.stringify(bert));
  write('student/model.safetensors', '');
  write('student/tokenizer.json', '{}');
  write('teacher/config.json', JSON.stringify(bert));
  write('runs/done/status.json', '{}');
  write('runs/done/final/config.json', JSON.stringify(bert));
  write('runs/unfinished/status.json', '{}');
  const labelled = { ...bert, id2label: { 0: 'ham', 1: 'spam' } };
  write('spam-teacher/config.json', JSON.stringify(labelled));
  write('runs/spam/status.json', '{}');
  write('runs/spam/final/config.json', JSON.stringify(labelled));
  write('mlm/config.json', JSON.stringify({ ...bert, architectures: ['BertForMaskedLM'] }));
  write('mails.jsonl', '{"text": "win", "label": "spam"}\n{"text": "hi", "label": "ham"}\n');
  write('three.jsonl', '{"text": "win", "label": "spam"}\n{"text": "hm", "label": "maybe"}\n');
  write('train.jsonl', '{"text": "good", "label": 1}\n');
  write('unlabeled.jsonl', '{"text": "fine"}\n');
});

after(() => rmSync(dir, { recursive: true, force: true }));

const check = (text: string): Promise<Diagnostic[]> =>
  validateConfig(text, 'yaml', { fs: nodeConfigFs, configDir: dir });
const brief = (ds: Diagnostic[]) => ds.map((d) => [d.severity, d.code, d.range, d.message]);
const config = (teacher: string, task = 'text-classification', unlabeled = '  unlabeled: unlabeled.jsonl\n') =>
  `model: ./student\ntask: ${task}\ndata:\n  train: train.jsonl\n${unlabeled}  max_length: 64\ntraining:\n  distillation:\n    teacher: ${teacher}\n`;

test('training.distillation defaults: temperature 2, alpha 0.5; absent, no block is made', () => {
  const resolved = applyDefaults({
    model: 'm',
    task: 'text-classification',
    data: { train: 't.jsonl' },
    training: { distillation: { teacher: 'run' } },
  });
  assert.deepEqual(resolved.training.distillation, { teacher: 'run', temperature: 2, alpha: 0.5, hidden_loss: 'none' });
  const plain = applyDefaults({ model: 'm', task: 'text-classification', data: { train: 't.jsonl' } });
  assert.equal(plain.training.distillation, undefined);
});

test('a teacher that is a model folder or a completed run directory is accepted', async () => {
  assert.deepEqual(brief(await check(config('teacher'))), []);
  assert.deepEqual(brief(await check(config('runs/done'))), []);
});

test('a missing teacher, an unfinished run and a folder without config.json are errors at the teacher value', async () => {
  assert.deepEqual(brief(await check(config('nowhere'))), [
    ['error', 'teacher-not-found', r(8, 13, 8, 20), "Teacher 'nowhere' not found."],
  ]);
  assert.deepEqual(brief(await check(config('runs/unfinished'))), [
    [
      'error',
      'teacher-no-final',
      r(8, 13, 8, 28),
      "Teacher 'runs/unfinished' is a run directory without a final model (the run has not completed).",
    ],
  ]);
  assert.deepEqual(brief(await check(config('runs'))), [
    [
      'error',
      'teacher-not-model',
      r(8, 13, 8, 17),
      "Teacher 'runs' has no config.json: it is neither a run directory nor a model folder.",
    ],
  ]);
});

test('distillation is refused for tasks other than classification and causal LM; data.unlabeled is for text-classification with distillation', async () => {
  const causal = (await check(config('teacher', 'causal-lm', ''))).filter((d) => d.code === 'distillation-task');
  assert.deepEqual(causal, []);
  const mlm = (await check(config('teacher', 'masked-lm', ''))).filter((d) => d.code === 'distillation-task');
  assert.deepEqual(
    mlm.map((d) => d.message),
    ['training.distillation trains text-classification, token-classification and causal-lm, not masked-lm.'],
  );
  const token = await check(config('teacher', 'token-classification'));
  assert.ok(token.some((d) => d.code === 'unlabeled-task' && d.severity === 'error'));
  const unused = await check(
    'model: ./student\ntask: text-classification\ndata:\n  train: train.jsonl\n  unlabeled: unlabeled.jsonl\n  max_length: 64\n',
  );
  assert.deepEqual(brief(unused), [
    [
      'warning',
      'unused-key',
      r(4, 2, 4, 11),
      'data.unlabeled is only used with training.distillation (its rows get the teacher loss alone).',
    ],
  ]);
  const missing = await check(config('teacher', 'text-classification', '  unlabeled: gone.jsonl\n'));
  assert.deepEqual(brief(missing), [['error', 'data-not-found', r(4, 13, 4, 23), "Data file 'gone.jsonl' not found."]]);
});

test('the teacher must have the task head and the labels of the training rows (teacher-task, teacher-labels)', async () => {
  const on = (teacher: string, train: string) =>
    check(
      `model: ./student\ntask: text-classification\ndata:\n  train: ${train}\n  max_length: 64\ntraining:\n  distillation:\n    teacher: ${teacher}\n`,
    );
  // Same labels: a model folder and a run directory (its final/config.json).
  assert.deepEqual(brief(await on('spam-teacher', 'mails.jsonl')), []);
  assert.deepEqual(brief(await on('runs/spam', 'mails.jsonl')), []);
  // Numeric labels are class ids: left to the engine.
  assert.deepEqual(brief(await on('spam-teacher', 'train.jsonl')), []);
  assert.deepEqual(brief(await on('runs/spam', 'three.jsonl')), [
    [
      'error',
      'teacher-labels',
      r(7, 13, 7, 22),
      "Label 'maybe' of 'three.jsonl' is not one of teacher 'runs/spam''s labels [ham, spam] (its config.json id2label): the teacher must have the student's label set.",
    ],
  ]);
  assert.deepEqual(brief(await on('mlm', 'mails.jsonl')), [
    [
      'error',
      'teacher-task',
      r(7, 13, 7, 16),
      "Teacher 'mlm' is a BertForMaskedLM, not a text-classification model (*ForSequenceClassification): distil from a fine-tuned teacher.",
    ],
  ]);
});
