import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FIXTURE_SENTENCES, nerRows, toJsonl } from '../fixtures/datasets.js';
import { squadRows, writeQaWorkspace } from '../fixtures/qa-datasets.js';
import { writeTinyModel } from '../fixtures/tiny-models.js';
import { finetune } from './helpers/cli.js';
import { evalMetrics } from './helpers/run-events.js';

// Issue #18's done-when, from the command line: `finetune train` on a tiny XLNet folder for token
// classification and for question answering (text classification: finetune.test.ts), then
// `finetune predict` on the exported final/. (Learning itself is checked by finetune.test.ts and
// xlnet-qa.test.ts, with more epochs.)

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** `finetune train <config>` in `dir`: the run directory, once completed. */
async function train(dir: string, config: string): Promise<string> {
  const trained = await finetune(dir, 'train', config, '--threads', '1');
  assert.equal(trained.code, 0, trained.stderr);
  const runDir = /^run completed: (.+)$/m.exec(trained.stdout)?.[1];
  assert.ok(runDir, trained.stdout);
  return runDir;
}

const architectures = (runDir: string) =>
  (JSON.parse(readFileSync(join(runDir, 'final', 'config.json'), 'utf8')) as { architectures: string[] }).architectures;

test('finetune train + predict: XLNet token classification from the command line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'xlnet-cli-ner-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'model'));
  writeTinyModel(join(dir, 'model'), 'xlnet', FIXTURE_SENTENCES);
  writeFileSync(join(dir, 'train.jsonl'), toJsonl(nerRows(96, 1)));
  writeFileSync(join(dir, 'val.jsonl'), toJsonl(nerRows(16, 2)));
  writeFileSync(
    join(dir, 'ner.finetune.yaml'),
    'model: ./model\ntask: token-classification\ndata: {train: train.jsonl, validation: val.jsonl, max_length: 32}\ntraining: {epochs: 2, batch_size: 16, learning_rate: 3.0e-3}\neval: {metrics: [f1]}\ndevice: cpu\n',
  );
  const runDir = await train(dir, 'ner.finetune.yaml');
  assert.deepEqual(architectures(runDir), ['XLNetForTokenClassification']);
  const evals = evalMetrics(runDir);
  assert.equal(evals.length, 2);
  assert.ok(
    evals.every((m) => Number.isFinite(m.f1)),
    JSON.stringify(evals),
  );

  writeFileSync(join(dir, 'in.jsonl'), '{"text": "Alice flew to Paris"}\n');
  const predicted = await finetune(dir, 'predict', '--model', join(runDir, 'final'), '--input', 'in.jsonl');
  assert.equal(predicted.code, 0, predicted.stderr);
  const { labels } = JSON.parse(predicted.stdout.trim()) as { labels: string[] };
  assert.equal(labels.length, 4, 'one label per word');
});

test('finetune train + predict: XLNet question answering from the command line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'xlnet-cli-qa-'));
  dirs.push(dir);
  writeQaWorkspace(dir, 'xlnet', squadRows(64, 1), 2);
  const runDir = await train(dir, 'qa.finetune.yaml');
  assert.deepEqual(architectures(runDir), ['XLNetForQuestionAnsweringSimple']);
  const evals = evalMetrics(runDir);
  assert.equal(evals.length, 2);
  assert.ok(
    evals.every((m) => Number.isFinite(m.exact_match) && Number.isFinite(m.f1)),
    JSON.stringify(evals),
  );

  const [row] = squadRows(1, 9);
  writeFileSync(join(dir, 'in.jsonl'), `${JSON.stringify({ question: row?.question, context: row?.context })}\n`);
  const predicted = await finetune(dir, 'predict', '--model', join(runDir, 'final'), '--input', 'in.jsonl');
  assert.equal(predicted.code, 0, predicted.stderr);
  const { answer } = JSON.parse(predicted.stdout.trim()) as { answer: string };
  assert.ok(typeof answer === 'string' && row?.context.includes(answer), `answer "${answer}" lies in the context`);
});
