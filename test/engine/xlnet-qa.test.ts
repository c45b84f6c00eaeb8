import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { exportCommand } from '../../src/engine/commands/model-commands.js';
import type { QaExample } from '../../src/engine/data/records.js';
import { tensorNumbers } from '../../src/engine/graph/types.js';
import { loadQaModel } from '../../src/engine/inference/qa-model.js';
import { readSafetensors } from '../../src/engine/io/safetensors.js';
import { createSession } from '../../src/engine/runtime.js';
import { splitQaLogits } from '../../src/engine/tasks/question-answering/postprocess.js';
import { trainFromConfig } from '../../src/engine/train/finetune.js';
import { squadRows, writeQaWorkspace } from '../fixtures/qa-datasets.js';
import { predictQuestions } from './helpers/qa-predict.js';
import { evalMetrics } from './helpers/run-events.js';

/**
 * XLNetForQuestionAnsweringSimple end to end on a tiny XLNet: run_qa.py's order for a tokenizer
 * that pads on the left (context first, question second, `<sep> <cls>` at the end), left-padded
 * batches whose answer positions and logits are read past the padding, training through
 * trainFromConfig to a rising exact match, predict, and export to ONNX and safetensors.
 */
let dir = '';
let runDir = '';
let evals: Record<string, number>[] = [];

const examplesOf = (rows: ReturnType<typeof squadRows>, file: string): QaExample[] =>
  rows.map((r, i) => ({ kind: 'qa', ...r, source: { file, line: i + 1 } }));

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ft-xlnet-qa-'));
  const config = writeQaWorkspace(dir, 'xlnet', squadRows(400, 1), 6);
  runDir = join(dir, 'run');
  const { outcome } = await trainFromConfig(config, runDir, { threads: 1 });
  assert.equal(outcome, 'completed');
  evals = evalMetrics(runDir);
});

test('xlnet QA trains: exact match rises on the synthetic set, the head is qa_outputs', () => {
  console.log(`exact_match by epoch: ${evals.map((e) => e.exact_match?.toFixed(1)).join(' ')}`);
  assert.equal(evals.length, 6);
  const first = evals[0] as Record<string, number>;
  const last = evals.at(-1) as Record<string, number>;
  assert.ok((last.exact_match as number) >= 60, `exact_match ${first.exact_match} -> ${last.exact_match}`);
  assert.ok((last.exact_match as number) > (first.exact_match as number) + 20);
  assert.ok((last.loss as number) < (first.loss as number));
  const config = JSON.parse(readFileSync(join(runDir, 'final', 'config.json'), 'utf8')) as { architectures: string[] };
  assert.deepEqual(config.architectures, ['XLNetForQuestionAnsweringSimple']);
  const names = [...readSafetensors(join(runDir, 'final', 'model.safetensors')).tensors.keys()];
  assert.ok(names.includes('qa_outputs.weight') && names.includes('qa_outputs.bias'));
  assert.ok(names.includes('transformer.layer.0.rel_attn.r_s_bias'));
});

test('xlnet QA windows: context first, <sep> <cls> last; a left-padded batch reads each window past its padding', async () => {
  const model = await loadQaModel(runDir, { device: 'cpu' });
  try {
    const { tokenizer } = model;
    const cls = tokenizer.clsTokenId as number;
    const sep = tokenizer.sepTokenId as number;
    // Short and long contexts, so the batch pads some windows; the long ones give several windows.
    const examples = examplesOf(
      [
        ...squadRows(3, 21),
        ...squadRows(24, 22, { maxFillers: 8, fillersFirst: true })
          .filter((r) => r.context.length > 230)
          .slice(0, 2),
      ],
      'w',
    );
    const windows = model.recipe.encode(examples);
    assert.ok(windows.length > examples.length, 'a long context gives several windows');
    for (const w of windows) {
      const n = w.inputIds.length;
      assert.deepEqual(w.inputIds.slice(-1), [cls]);
      assert.deepEqual(w.tokenTypeIds.slice(-1), [2], '<cls> has token type 2');
      // Context tokens (type 0, with offsets) come first, then <sep>, the question (type 1), <sep>.
      const contextLength = w.offsets.indexOf(null);
      assert.ok(contextLength > 0);
      assert.ok(w.offsets.slice(contextLength).every((o) => o === null));
      assert.equal(w.inputIds[contextLength], sep);
      assert.ok(w.tokenTypeIds.slice(0, contextLength + 1).every((t) => t === 0));
      assert.ok(w.tokenTypeIds.slice(contextLength + 1, n - 1).every((t) => t === 1));
      const answer = w.example.answers.text[0] as string;
      if (w.startPosition === n - 1) assert.equal(w.endPosition, n - 1, 'no answer: both at <cls>');
      else {
        const from = w.offsets[w.startPosition] as [number, number];
        const to = w.offsets[w.endPosition] as [number, number];
        assert.equal(w.example.context.slice(from[0], to[1]).trim(), answer);
      }
    }

    const batch = model.recipe.collate(windows);
    const T = batch.input_ids?.dims[1] as number;
    const ids = tensorNumbers(batch.input_ids as never);
    const types = tensorNumbers(batch.token_type_ids as never);
    const mask = tensorNumbers(batch.attention_mask as never);
    const starts = tensorNumbers(batch.start_positions as never);
    const { logits } = await model.evaluate(batch);
    const values = tensorNumbers(logits);
    let padded = 0;
    for (const [b, w] of windows.entries()) {
      const pad = T - w.inputIds.length;
      if (pad > 0) padded++;
      for (let t = 0; t < pad; t++) {
        assert.equal(ids[b * T + t], tokenizer.padTokenId);
        assert.equal(types[b * T + t], 3, 'pad_token_type_id 3');
        assert.equal(mask[b * T + t], 0);
      }
      assert.equal(starts[b], w.startPosition + pad, 'positions index the padded batch');
      assert.equal(ids[b * T + (starts[b] as number)], w.inputIds[w.startPosition]);
      // The window's logits read out of the padded batch are those of the window alone.
      const alone = await model.evaluate(model.recipe.collate([w]));
      const want = splitQaLogits(tensorNumbers(alone.logits), alone.logits.dims, 0, 0, w.inputIds.length);
      const got = splitQaLogits(values, logits.dims, b, pad, w.inputIds.length);
      for (let t = 0; t < w.inputIds.length; t++) {
        assert.ok(Math.abs((got.start[t] as number) - (want.start[t] as number)) < 1e-4, `window ${b} start ${t}`);
        assert.ok(Math.abs((got.end[t] as number) - (want.end[t] as number)) < 1e-4, `window ${b} end ${t}`);
      }
    }
    assert.ok(padded >= 2, `${padded} windows padded`);
  } finally {
    await model.dispose();
  }
});

test('xlnet QA predict: answers located in the context', async () => {
  const rows = squadRows(20, 7);
  const lines = await predictQuestions(dir, runDir, rows);
  assert.equal(lines.length, rows.length);
  let right = 0;
  lines.forEach((p, i) => {
    const row = rows[i] as (typeof rows)[number];
    assert.equal(row.context.slice(p.start, p.end), p.answer);
    if (p.answer === row.answers.text[0]) right++;
  });
  assert.ok(right >= 10, `${right}/20 right`);
});

test('xlnet QA export: ONNX and safetensors reload with the logits of the eval graph', async () => {
  const model = await loadQaModel(runDir, { device: 'cpu', settings: { maxLength: 64 } });
  const batch = model.recipe.collate(model.recipe.encode(examplesOf(squadRows(4, 13), 'x')));
  const expected = tensorNumbers((await model.evaluate(batch)).logits);
  await model.dispose();

  const onnxDir = join(dir, 'onnx');
  assert.equal(await exportCommand.run([runDir, '--format', 'onnx', '--out', onnxDir]), 0);
  const session = await createSession(readFileSync(join(onnxDir, 'model.onnx')), { device: 'cpu' });
  const { start_positions: _s, end_positions: _e, ...inputs } = batch;
  const out = await session.run(inputs);
  await session.dispose();
  const start = tensorNumbers(out.start_logits as never);
  const end = tensorNumbers(out.end_logits as never);

  const stDir = join(dir, 'st');
  assert.equal(await exportCommand.run([runDir, '--format', 'safetensors', '--out', stDir]), 0);
  const reloaded = await loadQaModel(stDir, { device: 'cpu', settings: { maxLength: 64 } });
  const st = tensorNumbers((await reloaded.evaluate(batch)).logits);
  await reloaded.dispose();
  assert.equal(start.length * 2, expected.length);
  expected.forEach((v, i) => {
    const onnx = (i % 2 === 0 ? start : end)[i >> 1] as number;
    assert.ok(Math.abs(v - onnx) < 1e-5, `onnx logit ${i}: ${v} vs ${onnx}`);
    assert.ok(Math.abs(v - (st[i] as number)) < 1e-6, `safetensors logit ${i}: ${v} vs ${st[i]}`);
  });
});
