// XLNet from VS Code (issue #18's done-when): a tiny XLNet folder (random weights, a SentencePiece
// Unigram tokenizer that pads on the left) fine-tunes for text classification, token classification
// and question answering from the command palette; each run completes with its metrics, and its
// final/ is the task's XLNet architecture.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { evalMetrics } from '../engine/helpers/run-events.js';
import { FIXTURE_SENTENCES, nerRows, sentimentRows, toJsonl } from '../fixtures/datasets.js';
import { SQUAD_SENTENCES, squadRows, writeTinyQaModel } from '../fixtures/qa-datasets.js';
import { writeTinyModel } from '../fixtures/tiny-models.js';
import { emptyWorkspace, readStatus, runDirs, scenario, waitFor } from './harness.js';

/**
 * The workspace: tiny-xlnet/, train.jsonl, validation.jsonl and xlnet.finetune.yaml; ner-*.jsonl and
 * ner.finetune.yaml on the same model; qa-model/ (a vocabulary for the SQuAD-like rows), qa-*.jsonl
 * and qa.finetune.yaml.
 */
function xlnetWorkspace(): string {
  const ws = emptyWorkspace('xlnet');
  fs.mkdirSync(path.join(ws, 'tiny-xlnet'));
  writeTinyModel(path.join(ws, 'tiny-xlnet'), 'xlnet', FIXTURE_SENTENCES);
  fs.writeFileSync(path.join(ws, 'train.jsonl'), toJsonl(sentimentRows(160, 1)));
  fs.writeFileSync(path.join(ws, 'validation.jsonl'), toJsonl(sentimentRows(32, 2)));
  // 6 epochs of 10 steps: a few seconds of training on one thread.
  fs.writeFileSync(
    path.join(ws, 'xlnet.finetune.yaml'),
    `model: ./tiny-xlnet
task: text-classification
data:
  train: train.jsonl
  validation: validation.jsonl
  max_length: 32
training:
  epochs: 6
  batch_size: 16
  learning_rate: 3.0e-3
  warmup_ratio: 0.1
eval:
  every: epoch
  metrics: [accuracy, f1]
device: cpu
`,
  );
  fs.writeFileSync(path.join(ws, 'ner-train.jsonl'), toJsonl(nerRows(96, 1)));
  fs.writeFileSync(path.join(ws, 'ner-val.jsonl'), toJsonl(nerRows(16, 2)));
  fs.writeFileSync(
    path.join(ws, 'ner.finetune.yaml'),
    'model: ./tiny-xlnet\ntask: token-classification\ndata: {train: ner-train.jsonl, validation: ner-val.jsonl, max_length: 32}\ntraining: {epochs: 2, batch_size: 16, learning_rate: 3.0e-3}\neval: {metrics: [f1]}\ndevice: cpu\n',
  );
  fs.mkdirSync(path.join(ws, 'qa-model'));
  writeTinyQaModel(path.join(ws, 'qa-model'), 'xlnet', SQUAD_SENTENCES, 64);
  fs.writeFileSync(path.join(ws, 'qa-train.jsonl'), toJsonl(squadRows(64, 1)));
  fs.writeFileSync(path.join(ws, 'qa-val.jsonl'), toJsonl(squadRows(16, 2)));
  fs.writeFileSync(
    path.join(ws, 'qa.finetune.yaml'),
    'model: ./qa-model\ntask: question-answering\ndata: {train: qa-train.jsonl, validation: qa-val.jsonl, max_length: 64}\ntraining: {epochs: 2, batch_size: 16, learning_rate: 5.0e-3}\neval: {metrics: [exact_match, f1]}\ndevice: cpu\n',
  );
  return ws;
}

/** A run's final/config.json. */
const finalConfig = (runDir: string): { model_type: string; architectures: string[] } =>
  JSON.parse(fs.readFileSync(path.join(runDir, 'final', 'config.json'), 'utf8'));
const architectures = (runDir: string): string[] => finalConfig(runDir).architectures;

scenario('xlnet', { trust: true, timeoutMs: 900_000 }, async (wb, server) => {
  const ws = xlnetWorkspace();
  const runDir = await wb.startRun(server.url, ws, 'xlnet.finetune.yaml');
  await wb.waitForCompletion(runDir, new Set());
  assert.equal(readStatus(runDir)?.state, 'completed');
  await wb.shot('completed');

  // One evaluation per epoch, each with the configured metrics.
  const evals = evalMetrics(runDir);
  assert.equal(evals.length, 6);
  for (const m of evals) assert.ok(Number.isFinite(m.accuracy) && Number.isFinite(m.f1), JSON.stringify(m));
  assert.equal(finalConfig(runDir).model_type, 'xlnet');
  assert.deepEqual(architectures(runDir), ['XLNetForSequenceClassification']);
  assert.ok(fs.existsSync(path.join(runDir, 'final', 'model.onnx')), 'final/model.onnx');

  // The run panel shows the final metrics.
  await wb.runAction(0, 'Open Run');
  const text = await waitFor('the metrics table to list accuracy', async () => {
    const t = await wb.panelMetricsText();
    return /accuracy/.test(t) && /completed/.test(t) ? t : '';
  });
  assert.match(text, /\d\.\d+/);
  await wb.shot('panel-metrics');

  // Token classification and question answering, each started from the palette in the same window.
  for (const [config, arch, metric] of [
    ['ner.finetune.yaml', 'XLNetForTokenClassification', 'f1'],
    ['qa.finetune.yaml', 'XLNetForQuestionAnsweringSimple', 'exact_match'],
  ] as const) {
    const before = new Set(runDirs(ws));
    await wb.openFile(config);
    await wb.startRunFromPalette(config);
    const dir = await waitFor(`a run directory for ${config}`, () => runDirs(ws).find((d) => !before.has(d)));
    await waitFor(`${config} to complete`, () => readStatus(dir)?.state === 'completed', 300_000);
    assert.deepEqual(architectures(dir), [arch]);
    const metrics = evalMetrics(dir);
    assert.equal(metrics.length, 2, config);
    for (const m of metrics) assert.ok(Number.isFinite(m[metric]), `${config}: ${JSON.stringify(m)}`);
  }
  await wb.shot('ner-and-qa-completed');
});
