import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { trainFromConfig } from '../../src/engine/train/finetune.js';
import { toJsonl } from '../fixtures/datasets.js';
import { toyPairs, writeTinyT5 } from '../fixtures/tiny-t5.js';
import { readEvents } from './helpers/run-events.js';

// A summarization run with eval.generate reports rouge-score's four F-measures (run_summarization.py's
// metrics) and a samples event of the first validation rows at each evaluation. (Translation's
// BLEU/chrF and its convergence: t5-translate-cli.test.ts.)

const dir = mkdtempSync(join(tmpdir(), 'seq2seq-eval-generate-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('summarization with eval.generate: rouge1, rouge2, rougeL, rougeLsum and samples at each evaluation', async () => {
  mkdirSync(join(dir, 'model'));
  writeTinyT5(join(dir, 'model'), { seed: 3 });
  const rows = (n: number, seed: number) => toyPairs(n, seed).map((p) => ({ document: p.source, summary: p.target }));
  writeFileSync(join(dir, 'train.jsonl'), toJsonl(rows(32, 1)));
  const validation = rows(10, 2);
  writeFileSync(join(dir, 'val.jsonl'), toJsonl(validation));
  writeFileSync(
    join(dir, 'sum.finetune.yaml'),
    `model: ./model
task: summarization
data:
  train: train.jsonl
  validation: val.jsonl
  source_column: document
  target_column: summary
  source_prefix: 'summarize: '
  max_target_length: 8
  clean: {dedup: false}
training:
  epochs: 2
  batch_size: 8
  learning_rate: 3.0e-3
eval:
  every: epoch
  generate: true
  num_beams: 2
  max_new_tokens: 5
device: cpu
`,
  );
  const { runDir, outcome } = await trainFromConfig(join(dir, 'sum.finetune.yaml'), join(dir, 'run'), { threads: 1 });
  assert.equal(outcome, 'completed');
  const events = readEvents(runDir);
  const evals = events.flatMap((e) => (e.type === 'eval' ? [e] : []));
  assert.equal(evals.length, 2);
  for (const e of evals) {
    assert.deepEqual(Object.keys(e.metrics).sort(), ['loss', 'rouge1', 'rouge2', 'rougeL', 'rougeLsum']);
    for (const v of Object.values(e.metrics)) assert.ok(Number.isFinite(v) && v >= 0, JSON.stringify(e.metrics));
    assert.ok((e.metrics.rouge1 as number) <= 100 && (e.metrics.rouge2 as number) <= (e.metrics.rouge1 as number));
  }
  const samples = events.flatMap((e) => (e.type === 'samples' ? [e] : []));
  assert.deepEqual(
    samples.map((s) => s.step),
    evals.map((e) => e.step),
  );
  for (const s of samples)
    assert.deepEqual(
      s.samples.map((x) => [x.source, x.reference]),
      validation.slice(0, 8).map((r) => [r.document, r.summary]),
    );
});
