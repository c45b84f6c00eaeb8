import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type Diagnostic,
  formatOf,
  type Range,
  resolveConfig,
  validateConfigText,
} from '../../src/shared/config-validate.js';
import { applyEdits, fixture, r } from './helpers.js';

interface Expected {
  severity: Diagnostic['severity'];
  code: string;
  range: Range;
  message: string;
}

function check(name: string, expected: Expected[]): Diagnostic[] {
  const { diagnostics } = validateConfigText(fixture(name), formatOf(name));
  const got = diagnostics.map(({ severity, code, range, message }) => ({ severity, code, range, message }));
  assert.deepEqual(got, expected, name);
  return diagnostics;
}

function fixNamed(d: Diagnostic | undefined, title: string) {
  const fix = d?.fixes?.find((f) => f.title === title);
  assert.ok(fix, `no fix '${title}' in ${JSON.stringify(d?.fixes?.map((f) => f.title))}`);
  return fix;
}

test('good YAML and JSON configs have no diagnostics', () => {
  check('good.finetune.yaml', []);
  check('good.finetune.json', []);
});

test('unknown key: error on the key with a did-you-mean rename, or the section it belongs in', () => {
  const [typo, misplaced] = check('unknown-key.finetune.yaml', [
    {
      severity: 'error',
      code: 'unknown-key',
      range: r(5, 2, 5, 14),
      message: "Unknown key 'lerning_rate' in training; did you mean 'learning_rate'?",
    },
    {
      severity: 'error',
      code: 'unknown-key',
      range: r(7, 0, 7, 10),
      message: "Unknown key 'batch_size'; it belongs in 'training'.",
    },
  ]);
  const text = fixture('unknown-key.finetune.yaml');
  const renamed = applyEdits(text, fixNamed(typo, "Change to 'learning_rate'").edits);
  assert.match(renamed, /\n {2}learning_rate: 3\.0e-5\n/);
  const removed = applyEdits(renamed, fixNamed(misplaced, "Remove 'batch_size'").edits);
  assert.deepEqual(validateConfigText(removed, 'yaml').diagnostics, []);
});

test('unknown key in JSON: the rename keeps the quotes, the removal takes its comma', () => {
  const [d] = check('unknown-key.finetune.json', [
    {
      severity: 'error',
      code: 'unknown-key',
      range: r(3, 41, 3, 55),
      message: "Unknown key 'lable_column' in data; did you mean 'label_column'?",
    },
  ]);
  const text = fixture('unknown-key.finetune.json');
  assert.match(applyEdits(text, fixNamed(d, "Change to 'label_column'").edits), /"label_column": "y"/);
  const removed = applyEdits(text, fixNamed(d, "Remove 'lable_column'").edits);
  assert.match(removed, /"data": \{ "train": "data\/train\.jsonl" \}/);
  assert.deepEqual(validateConfigText(removed, 'json').diagnostics, []);
});

test('wrong types: on the value, or on the key of an empty value, with fixes for quoted numbers and yes', () => {
  const ds = check('wrong-type.finetune.yaml', [
    {
      severity: 'error',
      code: 'type',
      range: r(4, 11, 4, 14),
      message: "shuffle must be true or false, got the string 'yes'.",
    },
    {
      severity: 'error',
      code: 'type',
      range: r(6, 14, 6, 18),
      message: "batch_size must be a positive integer, got the string '32'.",
    },
    { severity: 'error', code: 'type', range: r(7, 10, 7, 13), message: 'epochs must be a positive integer, got 2.5.' },
    { severity: 'error', code: 'type', range: r(8, 0, 8, 4), message: 'eval must be a mapping, got no value.' },
  ]);
  const text = fixture('wrong-type.finetune.yaml');
  const fixed = applyEdits(text, [
    ...fixNamed(ds[0], 'Write true').edits,
    ...fixNamed(ds[1], 'Write 32 as a number').edits,
  ]);
  assert.match(fixed, /shuffle: true\n/);
  assert.match(fixed, /batch_size: 32\n/);
});

test('out of range: minimum, exclusive minimum and exclusive maximum', () => {
  check('out-of-range.finetune.yaml', [
    {
      severity: 'error',
      code: 'maximum',
      range: r(4, 20, 4, 23),
      message: 'validation_split must be less than 1, got 1.5.',
    },
    {
      severity: 'error',
      code: 'minimum',
      range: r(6, 17, 6, 18),
      message: 'learning_rate must be greater than 0, got 0.',
    },
    { severity: 'error', code: 'maximum', range: r(7, 11, 7, 12), message: 'dropout must be less than 1, got 1.' },
    { severity: 'error', code: 'minimum', range: r(8, 10, 8, 11), message: 'epochs must be at least 1, got 0.' },
  ]);
});

test('bad enum values: a suggestion that keeps the quoting, or the list of allowed values', () => {
  const [, scheduler] = check('bad-enum.finetune.yaml', [
    {
      severity: 'error',
      code: 'enum',
      range: r(1, 6, 1, 24),
      message: "Unknown task 'text-clasification'; did you mean 'text-classification'?",
    },
    {
      severity: 'error',
      code: 'enum',
      range: r(5, 13, 5, 20),
      message: "Unknown scheduler 'cosin'; did you mean 'cosine'?",
    },
    {
      severity: 'error',
      code: 'enum',
      range: r(6, 8, 6, 11),
      message: "Unknown device 'mps'. Expected one of: auto, cpu, cuda.",
    },
  ]);
  assert.equal(fixNamed(scheduler, "Change to 'cosine'").edits[0]?.newText, "'cosine'");
});

test('missing required keys: at the start of the document, or at the parent key', () => {
  check('missing-required.finetune.yaml', [
    { severity: 'error', code: 'required', range: r(1, 0, 1, 0), message: "Missing required key 'task'." },
    { severity: 'error', code: 'required', range: r(2, 0, 2, 4), message: "Missing required key 'train' in data." },
  ]);
});

test('warmup_ratio and warmup_steps: an error on each key, each with a fix removing either line', () => {
  const [ratio, steps] = check('both-warmups.finetune.yaml', [
    {
      severity: 'error',
      code: 'exclusive',
      range: r(5, 2, 5, 14),
      message: 'Set either warmup_ratio or warmup_steps, not both.',
    },
    {
      severity: 'error',
      code: 'exclusive',
      range: r(6, 2, 6, 14),
      message: 'Set either warmup_steps or warmup_ratio, not both.',
    },
  ]);
  const text = fixture('both-warmups.finetune.yaml');
  assert.deepEqual(fixNamed(ratio, "Remove 'warmup_ratio'").edits, [{ range: r(5, 0, 6, 0), newText: '' }]);
  const withoutSteps = applyEdits(text, fixNamed(steps, "Remove 'warmup_steps'").edits);
  assert.equal(withoutSteps, text.replace('  warmup_steps: 500\n', ''));
  assert.deepEqual(validateConfigText(withoutSteps, 'yaml').diagnostics, []);
});

test('YAML syntax error: only the syntax error, at the quote that is never closed', () => {
  check('yaml-syntax.finetune.yaml', [
    { severity: 'error', code: 'syntax', range: r(3, 9, 3, 26), message: 'This string has no closing quote.' },
  ]);
});

test('JSON syntax error: a missing comma, at the token after it', () => {
  check('json-syntax.finetune.json', [
    { severity: 'error', code: 'syntax', range: r(3, 2, 3, 8), message: "Expected ','." },
  ]);
});

test('YAML layout errors are placed on the offending line', () => {
  const cases: [string, Range, string][] = [
    ['data:\n\ttrain: x.jsonl\n', r(1, 0, 1, 1), 'Tabs are not allowed as indentation.'],
    [
      'data:\n  train: a.jsonl\n validation: b.jsonl\n',
      r(2, 0, 2, 1),
      'All mapping items must start at the same column.',
    ],
  ];
  for (const [text, range, message] of cases) {
    const [d] = validateConfigText(text, 'yaml').diagnostics;
    assert.deepEqual({ range: d?.range, message: d?.message }, { range, message });
  }
});

test('empty files, non-mappings and duplicate keys', () => {
  const empty = validateConfigText('# nothing yet\n', 'yaml').diagnostics;
  assert.deepEqual(
    empty.map((d) => d.code),
    ['empty'],
  );
  const list = validateConfigText('- model\n', 'yaml').diagnostics;
  assert.equal(list[0]?.message, 'The config must be a mapping, got a list.');
  const text = 'model: a\ntask: causal-lm\nmodel: b\ndata: {train: t.jsonl}\n';
  const [dup] = validateConfigText(text, 'yaml').diagnostics;
  assert.deepEqual([dup?.code, dup?.range], ['duplicate-key', r(2, 0, 2, 5)]);
  assert.equal(applyEdits(text, dup?.fixes?.[0]?.edits ?? []), 'model: a\ntask: causal-lm\ndata: {train: t.jsonl}\n');
});

test('YAML aliases are followed', () => {
  const text = 'model: m\ntask: causal-lm\ndata: {train: &f t.jsonl, validation: *f}\n';
  assert.equal(resolveConfig(text, 'yaml').config?.data.validation, 't.jsonl');
});

test('resolveConfig fills in defaults, and returns no config when there is an error', () => {
  const { config, diagnostics } = resolveConfig(fixture('good.finetune.json'), 'json');
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(config, {
    model: './models/bert-tiny',
    task: 'token-classification',
    data: {
      train: 'data/ner.jsonl',
      validation_split: 0.1,
      tokens_column: 'words',
      tags_column: 'ner_tags',
      max_length: 128,
      clean: {
        normalize: 'NFC',
        lowercase: false,
        collapse_whitespace: true,
        strip_control: true,
        strip_html: false,
        dedup: true,
        near_dedup: false,
      },
      shuffle: true,
      max_answer_length: 30,
      n_best: 20,
      packing: false,
      mlm_probability: 0.15,
      whole_word_masking: false,
      line_by_line: false,
      on_bad_rows: 'error',
      on_long_rows: 'truncate',
      max_source_length: 1024,
      max_target_length: 128,
    },
    training: {
      method: 'lora',
      init: 'pretrained',
      learning_rate: 3e-4,
      warmup_steps: 100,
      lora: { r: 16, alpha: 16, dropout: 0.05, target_modules: ['query', 'value'], use_rslora: false },
      epochs: 3,
      batch_size: 32,
      weight_decay: 0.01,
      scheduler: 'linear',
      gradient_accumulation_steps: 1,
      max_grad_norm: 1,
      seed: 42,
      group_by_length: false,
      save_minutes: 30,
      on_nonfinite: 'stop',
      completion_only_loss: true,
      assistant_only_loss: true,
      label_smoothing: 0,
    },
    eval: {
      every: 500,
      metrics: ['f1'],
      early_stopping: { patience: 2, metric: 'f1', mode: 'max' },
      generate: false,
    },
    output_dir: '.finetune/runs',
    device: 'auto',
  });
  const bad = resolveConfig(fixture('both-warmups.finetune.yaml'), 'yaml');
  assert.equal(bad.config, undefined);
  assert.equal(bad.diagnostics.length, 2);
});

test('resolveConfig: text-classification columns, warmup_ratio default, early stopping on loss', () => {
  const text =
    'model: m\ntask: text-classification\ndata: {train: t.csv, validation: v.csv}\neval: {early_stopping: {patience: 1}}\n';
  const { config } = resolveConfig(text, 'yaml');
  assert.deepEqual(
    [config?.data.text_column, config?.data.label_column, config?.data.tokens_column, config?.training?.warmup_ratio],
    ['text', 'label', undefined, 0],
  );
  assert.deepEqual(config?.eval?.early_stopping, { patience: 1, metric: 'loss', mode: 'min' });
  assert.equal(config?.training?.lora, undefined);
  assert.equal('$schema' in (resolveConfig(fixture('good.finetune.json'), 'json').config ?? {}), false);
});

test('CRLF line ends and non-ASCII text: positions count lines once and characters in UTF-16 units', () => {
  const text = '# Modèle 🤗\r\nmodel: m\r\ntask: caual-lm\r\ndata: {train: t.jsonl}\r\n';
  const [d] = validateConfigText(text, 'yaml').diagnostics;
  assert.deepEqual([d?.code, d?.range], ['enum', r(2, 6, 2, 14)]);
  const u = validateConfigText('{"model": "🤗", "tsk": 1}', 'json').diagnostics.find((x) => x.code === 'unknown-key');
  // 🤗 is two UTF-16 code units, as in VS Code's positions.
  assert.deepEqual(u?.range, r(0, 16, 0, 21));
});
