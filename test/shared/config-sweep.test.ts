import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveConfig, validateConfigText } from '../../src/shared/config-validate.js';

const BASE = `model: ./m
task: text-classification
data:
  train: t.jsonl
  validation: v.jsonl
eval:
  metrics: [accuracy]
`;

function errors(sweep: string, base = BASE) {
  const text = `${base}sweep:\n${sweep}`;
  return validateConfigText(text, 'yaml').diagnostics.filter((d) => d.severity === 'error');
}

test('a valid sweep resolves with Optuna defaults, the run metric as objective and its direction', () => {
  const text = `${BASE}sweep:\n  parameters:\n    - {key: training.learning_rate, type: loguniform, low: 1.0e-5, high: 1.0e-3}\n`;
  const { config, diagnostics } = resolveConfig(text, 'yaml');
  assert.deepEqual(
    diagnostics.filter((d) => d.severity === 'error'),
    [],
  );
  const s = config?.sweep;
  assert.equal(s?.strategy, 'tpe');
  assert.equal(s?.metric, 'accuracy');
  assert.equal(s?.mode, 'max');
  assert.equal(s?.max_trials, 10);
  assert.deepEqual(s?.tpe, { n_startup_trials: 10, n_ei_candidates: 24, prior_weight: 1 });
  assert.deepEqual(s?.median, { n_startup_trials: 5, n_warmup_steps: 0, interval_steps: 1 });
});

test('a dotted key that names no config value is an error on that key, with a suggestion', () => {
  const [e, ...rest] = errors(
    '  parameters:\n    - {key: training.learnig_rate, type: uniform, low: 0.1, high: 0.2}\n',
  );
  assert.equal(rest.length, 0);
  assert.match(e?.message ?? '', /training has no key 'learnig_rate'; did you mean 'learning_rate'/);
  assert.equal(e?.code, 'sweep-key');
  assert.equal(e?.range.start.line, 9, 'on the line of the parameter');
  assert.match(
    errors('  parameters:\n    - {key: training, type: choice, values: [1]}\n')[0]?.message ?? '',
    /section/,
  );
  assert.match(
    errors('  parameters:\n    - {key: output_dir, type: choice, values: [a]}\n')[0]?.message ?? '',
    /can't be searched/,
  );
});

test("values must be values the key accepts, and distributions must fit the key's type", () => {
  const bad = errors(
    '  parameters:\n    - key: training.learning_rate\n      type: choice\n      values: [1.0e-4, -1]\n',
  );
  assert.equal(bad.length, 1);
  assert.match(bad[0]?.message ?? '', /For training.learning_rate: .*greater than 0/);
  assert.equal(bad[0]?.range.start.line, 11, 'on the line of the values');
  assert.match(
    errors('  parameters:\n    - {key: training.epochs, type: uniform, low: 1, high: 3}\n')[0]?.message ?? '',
    /integer: search it with type: int/,
  );
  assert.match(
    errors('  parameters:\n    - {key: training.learning_rate, type: loguniform, low: 0, high: 1}\n')[0]?.message ?? '',
    /greater than 0/,
  );
  assert.match(
    errors('  parameters:\n    - {key: training.warmup_ratio, type: uniform, low: 0.4, high: 0.2}\n')[0]?.message ?? '',
    /above high/,
  );
  assert.match(errors('  parameters:\n    - {key: training.epochs, type: int}\n')[0]?.message ?? '', /needs 'low'/);
  assert.match(
    errors('  parameters:\n    - {key: training.epochs, type: grid, values: [1, 2]}\n')[0]?.message ?? '',
    /strategy: grid/,
  );
  assert.match(
    errors('  strategy: grid\n  parameters:\n    - {key: training.epochs, type: choice, values: [1, 2]}\n')[0]
      ?.message ?? '',
    /make this a grid/,
  );
});

test('the objective must be computed, and a sweep needs validation data', () => {
  const e = errors('  metric: f1\n  parameters:\n    - {key: training.epochs, type: int, low: 1, high: 3}\n');
  assert.match(e[0]?.message ?? '', /'f1' is not computed/);
  const noVal = BASE.replace('  validation: v.jsonl\n', '');
  assert.ok(
    errors('  parameters:\n    - {key: training.epochs, type: int, low: 1, high: 3}\n', noVal).some(
      (d) => d.code === 'no-validation',
    ),
  );
});
