import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { nodeConfigFs } from '../../src/engine/commands/validate.js';
import {
  applyDefaults,
  type Diagnostic,
  validateConfig,
  validateConfigText,
} from '../../src/shared/config-validate.js';
import { writeUnder } from './helpers.js';

/** data.augment: defaults per task, the tasks it applies to, and the operations token classification refuses. */
const check = (text: string): Diagnostic[] => validateConfigText(text, 'yaml').diagnostics;
const brief = (ds: Diagnostic[]) =>
  ds.map((d) => [d.severity, d.code, d.range.start.line, d.range.start.character, d.message]);
const config = (task: string, augment: string) =>
  `model: ./m\ntask: ${task}\ndata:\n  train: train.jsonl\n  augment:\n${augment}`;

test("data.augment.eda defaults are eda.py's (n_aug 4, every rate 0.1); token classification gets n_aug and alpha_sr only", () => {
  const text = applyDefaults({
    model: 'm',
    task: 'text-classification',
    data: { train: 't.jsonl', augment: { eda: {} } },
  });
  assert.deepEqual(text.data.augment, { eda: { n_aug: 4, alpha_sr: 0.1, alpha_ri: 0.1, alpha_rs: 0.1, p_rd: 0.1 } });
  const tokens = applyDefaults({
    model: 'm',
    task: 'token-classification',
    data: { train: 't.jsonl', augment: { eda: { n_aug: 2 }, mention_replacement: {} } },
  });
  assert.deepEqual(tokens.data.augment, {
    eda: { n_aug: 2, alpha_sr: 0.1 },
    mention_replacement: { n_aug: 4, p: 0.3 },
  });
  const none = applyDefaults({ model: 'm', task: 'text-classification', data: { train: 't.jsonl' } });
  assert.equal(none.data.augment, undefined);
});

test('a valid augment block has no diagnostics; out-of-range rates and unknown keys are schema errors', () => {
  assert.deepEqual(check(config('text-classification', '    eda: {n_aug: 2, alpha_sr: 0.2, p_rd: 0}\n')), []);
  const bad = check(config('text-classification', '    eda:\n      alpha_sr: 1.5\n      alpha_xx: 0.1\n'));
  assert.deepEqual(
    bad.map((d) => [d.severity, d.range.start.line]),
    [
      ['error', 6],
      ['error', 7],
    ],
  );
});

test('token classification refuses the operations that move words, naming the key at its line and column', () => {
  const ds = check(
    config('token-classification', '    eda:\n      alpha_sr: 0.1\n      alpha_rs: 0.1\n      p_rd: 0.1\n'),
  );
  assert.deepEqual(
    brief(ds).map((d) => d.slice(0, 4)),
    [
      ['error', 'augment-tags', 7, 6],
      ['error', 'augment-tags', 8, 6],
    ],
  );
  assert.match(ds[0]?.message ?? '', /^data\.augment\.eda\.alpha_rs is not available for token-classification/);
  assert.deepEqual(
    check(config('token-classification', '    eda: {alpha_sr: 0.2}\n    mention_replacement: {p: 0.5}\n')),
    [],
  );
});

test('data.augment is refused for other tasks, and mention replacement outside token classification', () => {
  assert.deepEqual(brief(check(config('causal-lm', '    eda: {}\n'))), [
    [
      'error',
      'augment-task',
      4,
      2,
      'data.augment augments text-classification and token-classification data, not causal-lm.',
    ],
  ]);
  assert.deepEqual(
    brief(check(config('text-classification', '    mention_replacement: {p: 0.5}\n'))).map((d) => d.slice(0, 4)),
    [['error', 'augment-task', 5, 4]],
  );
  const off = check(config('text-classification', '    eda: {alpha_sr: 0, alpha_ri: 0, alpha_rs: 0, p_rd: 0}\n'));
  assert.deepEqual(
    off.map((d) => [d.severity, d.code]),
    [['warning', 'augment-off']],
  );
});

test('back_translation: defaults, text-classification only, and via/back checked on disk at their values', async () => {
  const resolved = applyDefaults({
    model: 'm',
    task: 'text-classification',
    data: { train: 't.jsonl', augment: { back_translation: { via: 'a', back: 'b' } } },
  });
  assert.deepEqual(resolved.data.augment, {
    back_translation: { via: 'a', back: 'b', temperature: 1, n_aug: 1, batch_size: 16 },
  });
  assert.deepEqual(
    brief(check(config('token-classification', '    back_translation: {via: a, back: b}\n'))).map((d) => d.slice(0, 4)),
    [['error', 'augment-tags', 5, 4]],
  );
  const dir = mkdtempSync(join(tmpdir(), 'finetune-augment-config-'));
  try {
    writeUnder(dir, 'm/config.json', '{"model_type": "bert"}');
    writeUnder(dir, 'm/model.safetensors', '');
    writeUnder(dir, 'm/tokenizer.json', '{}');
    writeUnder(dir, 'train.jsonl', '{"text": "good", "label": 1}\n');
    writeUnder(dir, 'en-de/config.json', '{"model_type": "t5"}');
    writeUnder(dir, 'de-en-run/status.json', '{}');
    const text = config('text-classification', '    back_translation:\n      via: en-de\n      back: de-en-run\n');
    const ds = await validateConfig(text, 'yaml', { fs: nodeConfigFs, configDir: dir });
    assert.deepEqual(
      ds.map((d) => [d.code, d.range.start.line, d.range.start.character, d.message]),
      [
        [
          'model-no-final',
          7,
          12,
          "Translation model (back_translation.back) 'de-en-run' is a run directory without a final model (the run has not completed).",
        ],
      ],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
