// XLNet from VS Code (issue #18's done-when): a tiny XLNet folder (random weights, a SentencePiece
// Unigram tokenizer that pads on the left) fine-tunes for text classification from the command
// palette; the run completes with its metrics, and its final/ is an XLNetForSequenceClassification.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { FIXTURE_SENTENCES, sentimentRows, toJsonl } from '../fixtures/datasets.js';
import { writeTinyModel } from '../fixtures/tiny-models.js';
import { emptyWorkspace, readStatus, scenario, waitFor } from './harness.js';

/** The workspace: tiny-xlnet/, train.jsonl, validation.jsonl and xlnet.finetune.yaml. */
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
  return ws;
}

scenario('xlnet', { trust: true, timeoutMs: 420_000 }, async (wb, server) => {
  const ws = xlnetWorkspace();
  const runDir = await wb.startRun(server.url, ws, 'xlnet.finetune.yaml');
  await wb.waitForCompletion(runDir, new Set());
  assert.equal(readStatus(runDir)?.state, 'completed');
  await wb.shot('completed');

  // One evaluation per epoch, each with the configured metrics.
  const evals = fs
    .readFileSync(path.join(runDir, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { type: string; metrics?: Record<string, number> })
    .flatMap((e) => (e.type === 'eval' && e.metrics ? [e.metrics] : []));
  assert.equal(evals.length, 6);
  for (const m of evals) assert.ok(Number.isFinite(m.accuracy) && Number.isFinite(m.f1), JSON.stringify(m));
  const exported = JSON.parse(fs.readFileSync(path.join(runDir, 'final', 'config.json'), 'utf8')) as {
    model_type: string;
    architectures: string[];
  };
  assert.equal(exported.model_type, 'xlnet');
  assert.deepEqual(exported.architectures, ['XLNetForSequenceClassification']);
  assert.ok(fs.existsSync(path.join(runDir, 'final', 'model.onnx')), 'final/model.onnx');

  // The run panel shows the final metrics.
  await wb.runAction(0, 'Open Run');
  const text = await waitFor('the metrics table to list accuracy', async () => {
    const t = await wb.panelMetricsText();
    return /accuracy/.test(t) && /completed/.test(t) ? t : '';
  });
  assert.match(text, /\d\.\d+/);
  await wb.shot('panel-metrics');
});
