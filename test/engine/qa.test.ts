import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { evaluateCommand, exportCommand } from '../../src/engine/commands/model-commands.js';
import type { QaExample } from '../../src/engine/data/records.js';
import { tensorNumbers } from '../../src/engine/graph/types.js';
import { loadQaModel } from '../../src/engine/inference/qa-model.js';
import { createSession } from '../../src/engine/runtime.js';
import { trainFromConfig } from '../../src/engine/train/finetune.js';
import type { RunEvent } from '../../src/shared/run-directory.js';
import { toJsonl } from '../fixtures/datasets.js';
import { squadRows, writeQaWorkspace } from '../fixtures/qa-datasets.js';
import { predictQuestions } from './helpers/qa-predict.js';

/**
 * Question answering end to end on a tiny BERT: train on a synthetic SQuAD-style set through
 * trainFromConfig, then predict, evaluate and export the run's final model.
 */
let dir = '';
let runDir = '';
let evals: Record<string, number>[] = [];

// Long contexts whose answer lies in a later window (max_length 64, default doc_stride 21).
const longRows = () => squadRows(24, 5, { maxFillers: 8, fillersFirst: true }).filter((r) => r.context.length > 230);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ft-qa-'));
  const config = writeQaWorkspace(
    dir,
    'bert',
    [...squadRows(400, 1), ...squadRows(160, 3, { maxFillers: 8, fillersFirst: true })],
    15,
  );
  runDir = join(dir, 'run');
  const { outcome } = await trainFromConfig(config, runDir, { threads: 1 });
  assert.equal(outcome, 'completed');
  evals = readFileSync(join(runDir, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as RunEvent)
    .flatMap((e) => (e.type === 'eval' ? [e.metrics] : []));
});

test('question answering trains to a high exact match on a recoverable synthetic set', () => {
  assert.equal(evals.length, 15);
  const first = evals[0] as Record<string, number>;
  const last = evals.at(-1) as Record<string, number>;
  for (const key of ['loss', 'exact_match', 'f1']) assert.equal(typeof last[key], 'number', key);
  assert.ok((last.exact_match as number) >= 80, `exact_match ${first.exact_match} -> ${last.exact_match}`);
  assert.ok((last.f1 as number) >= (last.exact_match as number));
  assert.ok((last.loss as number) < (first.loss as number));
  const config = JSON.parse(readFileSync(join(runDir, 'final', 'config.json'), 'utf8')) as { architectures: string[] };
  assert.deepEqual(config.architectures, ['BertForQuestionAnswering']);
  const metrics = JSON.parse(readFileSync(join(runDir, 'final', 'metrics.json'), 'utf8')) as Record<string, number>;
  assert.ok((metrics.exact_match as number) >= 80);
});

test('predict answers each line with answer, score, start and end in the context', async () => {
  const rows = squadRows(20, 7);
  const lines = await predictQuestions(dir, runDir, rows);
  assert.equal(lines.length, rows.length);
  let right = 0;
  lines.forEach((p, i) => {
    const row = rows[i] as (typeof rows)[number];
    assert.deepEqual(Object.keys(p).slice(0, 4), ['answer', 'score', 'start', 'end']);
    assert.equal(typeof p.score, 'number');
    assert.ok(p.probability > 0 && p.probability <= 1);
    assert.equal(row.context.slice(p.start, p.end), p.answer, 'start/end locate the answer in the context');
    if (p.answer === row.answers.text[0]) right++;
  });
  assert.ok(right >= 14, `${right}/20 right`);
});

test('long contexts: windows with doc_stride, the answer found in a later window', async () => {
  const rows = longRows();
  assert.ok(rows.length >= 5);
  const model = await loadQaModel(runDir, { device: 'cpu' });
  try {
    // The run's settings (its config.yaml), not run_qa's defaults (max_length 384, n_best 20).
    assert.deepEqual(model.recipe.settings, { maxLength: 64, docStride: 21, maxAnswerLength: 30, nBest: 12 });
    const examples: QaExample[] = rows.map((r, i) => ({ kind: 'qa', ...r, source: { file: 'long', line: i + 1 } }));
    const windows = model.recipe.encode(examples);
    assert.equal(model.recipe.settings.docStride, 21); // min(128, 64 / 3)
    let right = 0;
    let later = 0;
    const { answers } = await model.recipe.answers(model, windows, 8);
    for (const e of examples) {
      const own = windows.filter((w) => w.example === e);
      assert.ok(own.length >= 2, 'a long context gives several windows');
      const best = answers.get(e)?.[0];
      if (best?.text === e.answers.text[0]) right++;
      const withAnswer = own.filter((w) => w.startPosition !== 0);
      if (best && withAnswer.some((w) => w.windowIndex === best.window) && best.window > 0) later++;
    }
    assert.ok(right >= rows.length / 2, `${right}/${rows.length} long contexts answered`);
    assert.ok(later >= 1);
  } finally {
    await model.dispose();
  }
});

test('evaluate --task question-answering prints exact_match and f1', async () => {
  const data = join(dir, 'eval.jsonl');
  writeFileSync(data, toJsonl(squadRows(30, 11)));
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  // The test runner reports through this process's stdout too: pass its writes on.
  process.stdout.write = ((chunk: unknown, ...rest: never[]) => {
    if (typeof chunk === 'string' && chunk.startsWith('{')) return chunks.push(chunk) > 0;
    return write(chunk as string, ...rest);
  }) as typeof process.stdout.write;
  try {
    assert.equal(await evaluateCommand.run(['--model', runDir, '--task', 'question-answering', '--data', data]), 0);
  } finally {
    process.stdout.write = write;
  }
  assert.equal(chunks.length, 1);
  const result = JSON.parse(chunks[0] as string) as Record<string, number>;
  assert.deepEqual(Object.keys(result).sort(), ['exact_match', 'f1', 'loss']);
  assert.ok((result.exact_match as number) >= 70, JSON.stringify(result));
});

test('export: ONNX with start_logits and end_logits equal to the eval graph', async () => {
  const model = await loadQaModel(runDir, { device: 'cpu', settings: { maxLength: 64 } });
  const examples: QaExample[] = squadRows(3, 13).map((r, i) => ({ kind: 'qa', ...r, source: { file: 'x', line: i } }));
  const batch = model.recipe.collate(model.recipe.encode(examples));
  const { logits } = await model.evaluate(batch);
  await model.dispose();
  const expected = tensorNumbers(logits);

  const onnxDir = join(dir, 'onnx');
  assert.equal(await exportCommand.run([runDir, '--format', 'onnx', '--out', onnxDir]), 0);
  for (const path of [join(onnxDir, 'model.onnx'), join(runDir, 'final', 'model.onnx')]) {
    assert.ok(existsSync(path));
    const session = await createSession(readFileSync(path), { device: 'cpu' });
    try {
      assert.deepEqual([...session.inputNames].sort(), ['attention_mask', 'input_ids', 'token_type_ids']);
      assert.deepEqual([...session.outputNames], ['start_logits', 'end_logits']);
      const { start_positions: _s, end_positions: _e, ...inputs } = batch;
      const out = await session.run(inputs);
      const start = tensorNumbers(out.start_logits as never);
      const end = tensorNumbers(out.end_logits as never);
      const dims = (out.start_logits as unknown as { dims: number[] }).dims;
      assert.deepEqual(dims, [logits.dims[0], logits.dims[1]]);
      start.forEach((v, i) => {
        assert.ok(Math.abs(v - (expected[2 * i] as number)) < 1e-4, `start ${i}`);
        assert.ok(Math.abs((end[i] as number) - (expected[2 * i + 1] as number)) < 1e-4, `end ${i}`);
      });
    } finally {
      await session.dispose();
    }
  }
});
