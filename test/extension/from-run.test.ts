import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { configFromRun, pretrainingTaskOf } from '../../src/extension/configs/from-run.js';
import { RunReader } from '../../src/extension/runs/run-reader.js';
import { contextValue } from '../../src/extension/runs/run-state.js';
import { toValue } from '../../src/shared/config-tree.js';
import { validateConfigText } from '../../src/shared/config-validate.js';
import type { RunStatus } from '../../src/shared/run-directory.js';
import { tempDir } from './helpers.js';

/**
 * "Fine-tune from This Run" (src/extension/actions/fine-tune-from-run.ts): which runs the Runs view
 * offers it on (the tree item's contextValue, from the run's config.yaml), and the config it writes.
 */
const MLM_RUN_CONFIG = {
  model: '/work/space/scratch',
  task: 'masked-lm',
  data: { train: '/work/space/unlabeled.jsonl', text_column: 'body', max_length: 128 },
  training: { init: 'scratch', epochs: 3, seed: 7 },
  device: 'cpu',
};

function completedRun(root: string, id: string, config: string): string {
  const dir = join(root, '.finetune', 'runs', id);
  mkdirSync(join(dir, 'final'), { recursive: true });
  const status: RunStatus = {
    state: 'completed',
    pid: 1,
    startedAt: '2025-03-01T10:00:00.000Z',
    updatedAt: '2025-03-01T11:00:00.000Z',
    step: 10,
    totalSteps: 10,
    epoch: 3,
  };
  writeFileSync(join(dir, 'status.json'), JSON.stringify(status));
  writeFileSync(join(dir, 'config.yaml'), config);
  return dir;
}

test('pre-training runs: masked-lm, and causal-lm on plain text, not supervised fine-tuning or other tasks', () => {
  assert.equal(pretrainingTaskOf(MLM_RUN_CONFIG), 'masked-lm');
  assert.equal(pretrainingTaskOf({ task: 'causal-lm', data: { train: 'a.jsonl' } }), 'causal-lm');
  assert.equal(pretrainingTaskOf({ task: 'causal-lm', data: { format: 'text' } }), 'causal-lm');
  assert.equal(pretrainingTaskOf({ task: 'causal-lm', data: { format: 'messages' } }), undefined);
  assert.equal(pretrainingTaskOf({ task: 'causal-lm', data: { format: 'prompt-completion' } }), undefined);
  assert.equal(pretrainingTaskOf({ task: 'text-classification' }), undefined);
  assert.equal(pretrainingTaskOf(undefined), undefined);
});

test("the Runs view item of a completed pre-training run carries its task; others keep their state's value", async (t) => {
  const root = tempDir(t);
  const mlm = completedRun(root, 'pretrain-20250301-100000', 'task: masked-lm\ndata: {train: a.jsonl}\n');
  const clf = completedRun(root, 'clf-20250301-100000', 'task: text-classification\ndata: {train: a.jsonl}\n');
  const isAlive = () => false;
  const a = await new RunReader(mlm, { isAlive }).read();
  const b = await new RunReader(clf, { isAlive }).read();
  assert.equal(a.pretraining, 'masked-lm');
  assert.equal(b.pretraining, undefined);
  assert.equal(contextValue(a.state, a.pretraining), 'run.completed.pretrain-masked-lm');
  assert.equal(contextValue(b.state, b.pretraining), 'run.completed');
  assert.equal(contextValue('running', 'masked-lm'), 'run.running', 'only a completed run has a final/ to start from');
});

test('the config from a masked-LM run: text classification from its final/, placeholders that validate once filled in', (t) => {
  const root = tempDir(t);
  const run = completedRun(root, 'pretrain-20250301-100000', '');
  const source = join(root, 'pretrain.finetune.yaml');
  const made = configFromRun(run, 'pretrain-20250301-100000', MLM_RUN_CONFIG, root, source);
  assert.equal(made.path, join(root, 'pretrain-classifier.finetune.yaml'));
  const { parsed, diagnostics } = validateConfigText(made.text, 'yaml');
  assert.deepEqual(
    diagnostics.filter((d) => d.severity === 'error' || d.severity === 'warning').map((d) => d.message),
    [],
  );
  const v = toValue(parsed.root) as {
    model: string;
    task: string;
    data: Record<string, unknown>;
    training: Record<string, unknown>;
    device: string;
  };
  assert.equal(v.model, './.finetune/runs/pretrain-20250301-100000/final');
  assert.equal(v.task, 'text-classification');
  assert.equal(v.data.train, 'data/train.jsonl');
  assert.equal(v.data.label_column, 'label');
  // What the pre-training used carries over: the text column, the block length, the seed, the device.
  assert.deepEqual([v.data.text_column, v.data.max_length, v.training.seed, v.device], ['body', 128, 7, 'cpu']);
  assert.equal(v.training.learning_rate, 1e-4, 'a model pre-trained from scratch is small: a larger rate');
  assert.match(made.text, /placeholder/);

  // A second one beside it gets a number; a run started from the CLI is named from its id.
  writeFileSync(made.path, made.text);
  assert.equal(
    configFromRun(run, 'pretrain-20250301-100000', MLM_RUN_CONFIG, root, source).path,
    join(root, 'pretrain-classifier-2.finetune.yaml'),
  );
  const sub = join(root, 'configs');
  mkdirSync(sub);
  const fromCli = configFromRun(run, 'pretrain-20250301-100000-2', MLM_RUN_CONFIG, sub);
  assert.equal(fromCli.path, join(sub, 'pretrain-classifier.finetune.yaml'));
  assert.match(fromCli.text, /^model: \.\.\/\.finetune\/runs\/pretrain-20250301-100000\/final$/m);
});

test('the config from a causal-LM pre-training run: supervised fine-tuning on prompt-completion rows', (t) => {
  const root = tempDir(t);
  const run = completedRun(root, 'lm-20250301-100000', '');
  const made = configFromRun(
    run,
    'lm-20250301-100000',
    { task: 'causal-lm', data: { train: 'x.txt', max_length: 256 }, training: {} },
    root,
  );
  assert.equal(made.path, join(root, 'lm-sft.finetune.yaml'));
  const { parsed, diagnostics } = validateConfigText(made.text, 'yaml');
  assert.deepEqual(
    diagnostics.filter((d) => d.severity === 'error' || d.severity === 'warning').map((d) => d.message),
    [],
  );
  const v = toValue(parsed.root) as { task: string; data: Record<string, unknown>; training: Record<string, unknown> };
  assert.equal(v.task, 'causal-lm');
  assert.deepEqual([v.data.format, v.data.max_length, v.training.learning_rate], ['prompt-completion', 256, 5e-5]);
  assert.throws(
    () => configFromRun(run, 'clf-1', { task: 'text-classification' }, root),
    /clf-1 is not a pre-training run/,
  );
});
