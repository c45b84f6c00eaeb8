import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadFinetuned } from '../../src/engine/inference/finetuned-model.js';
import { predictLine } from '../../src/engine/inference/predict.js';
import { trainFromConfig } from '../../src/engine/train/finetune.js';
import type { RunEvent, RunStatus } from '../../src/shared/run-directory.js';
import { FIXTURE_SENTENCES, multiLabelRows, nerRows, scoreRows, sentimentRows, toJsonl } from '../fixtures/datasets.js';
import type { FamilyName } from '../fixtures/tiny-configs.js';
import { writeTinyModel } from '../fixtures/tiny-models.js';

function workspace(family: FamilyName, task: 'text-classification' | 'token-classification' | 'multi-label'): string {
  const dir = mkdtempSync(join(tmpdir(), `ft-${family}-`));
  mkdirSync(join(dir, 'model'));
  writeTinyModel(join(dir, 'model'), family, FIXTURE_SENTENCES);
  const rows = task === 'text-classification' ? sentimentRows : task === 'multi-label' ? multiLabelRows : nerRows;
  writeFileSync(join(dir, 'train.jsonl'), toJsonl(rows(320, 1)));
  writeFileSync(join(dir, 'val.jsonl'), toJsonl(rows(48, 2)));
  const metrics = task === 'text-classification' ? '[accuracy, f1]' : '[f1]';
  const configTask = task === 'multi-label' ? 'text-classification' : task;
  writeFileSync(
    join(dir, 'demo.finetune.yaml'),
    `model: ./model
task: ${configTask}
data:
  train: train.jsonl
  validation: val.jsonl
  max_length: 32
training:
  epochs: 8
  batch_size: 16
  learning_rate: 3.0e-3
  warmup_ratio: 0.1
eval:
  metrics: ${metrics}
device: cpu
`,
  );
  return dir;
}

for (const [family, task] of [
  ['bert', 'text-classification'],
  ['roberta', 'text-classification'],
  ['distilbert', 'text-classification'],
  ['albert', 'text-classification'],
  ['electra', 'text-classification'],
  ['xlnet', 'text-classification'],
  ['bert', 'token-classification'],
  ['xlnet', 'token-classification'],
  ['roberta', 'token-classification'],
  ['bert', 'multi-label'],
] as const) {
  test(`finetune train: ${family} ${task} from a Hugging Face folder to a complete run directory`, async () => {
    const dir = workspace(family, task);
    const runDir = join(dir, 'run');
    const { outcome } = await trainFromConfig(join(dir, 'demo.finetune.yaml'), runDir, { threads: 1 });
    assert.equal(outcome, 'completed');
    const status = JSON.parse(readFileSync(join(runDir, 'status.json'), 'utf8')) as RunStatus;
    assert.equal(status.state, 'completed');
    const events = readFileSync(join(runDir, 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as RunEvent);
    const evals = events.flatMap((e) => (e.type === 'eval' ? [e.metrics] : []));
    assert.equal(evals.length, 8);
    const first = evals[0]?.f1 ?? 0;
    const last = evals.at(-1)?.f1 ?? 0;
    assert.ok(last > 0.8 && last > first, `${family} ${task}: f1 ${first} -> ${last}`);
    for (const f of [
      'model.safetensors',
      'config.json',
      'tokenizer.json',
      'model.onnx',
      'metrics.json',
      'labels.json',
    ]) {
      assert.ok(existsSync(join(runDir, 'final', f)), `final/${f} missing`);
    }
    const exported = JSON.parse(readFileSync(join(runDir, 'final', 'config.json'), 'utf8')) as {
      id2label: Record<string, string>;
    };
    assert.ok(Object.keys(exported.id2label).length >= 2);
    // predict truncates inputs longer than the model's positions, in both task shapes.
    const model = await loadFinetuned(runDir, { device: 'cpu' });
    try {
      const words = Array.from({ length: 300 }, (_, i) => FIXTURE_SENTENCES[i % FIXTURE_SENTENCES.length] as string)
        .join(' ')
        .split(/\s+/)
        .slice(0, 300);
      const prediction = await predictLine(model, { text: words.join(' ') }, 'text', 'long:1');
      if (task === 'token-classification') assert.equal((prediction as { labels: string[] }).labels.length, 300);
      else assert.ok('logits' in prediction);
    } finally {
      await model.dispose();
    }
  });
}

test('finetune train: regression from float labels (one output, MSE) lowers the eval mse', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ft-regression-'));
  mkdirSync(join(dir, 'model'));
  writeTinyModel(join(dir, 'model'), 'bert', FIXTURE_SENTENCES);
  writeFileSync(join(dir, 'train.jsonl'), toJsonl(scoreRows(320, 1)));
  writeFileSync(
    join(dir, 'r.finetune.yaml'),
    'model: ./model\ntask: text-classification\ndata:\n  train: train.jsonl\n  validation_split: 0.2\ntraining:\n  epochs: 12\n  batch_size: 16\n  learning_rate: 3.0e-3\n  dropout: 0\neval:\n  metrics: [mse, pearson]\ndevice: cpu\n',
  );
  const runDir = join(dir, 'run');
  await trainFromConfig(join(dir, 'r.finetune.yaml'), runDir, { threads: 1 });
  const evals = readFileSync(join(runDir, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as RunEvent)
    .flatMap((e) => (e.type === 'eval' ? [e.metrics] : []));
  const first = evals[0]?.mse ?? 0;
  const last = evals.at(-1)?.mse ?? 1;
  assert.ok(last < 0.03 && last < first, `mse ${first} -> ${last}`);
  const exported = JSON.parse(readFileSync(join(runDir, 'final', 'config.json'), 'utf8')) as { problem_type: string };
  assert.equal(exported.problem_type, 'regression');
});
