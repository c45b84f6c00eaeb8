import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { BadRows } from '../../src/engine/data/errors.js';
import { loadExamples } from '../../src/engine/data/load.js';
import type { Example, QaExample } from '../../src/engine/data/records.js';
import { encodeModel } from '../../src/engine/graph/onnx-codec.js';
import { type TensorData, tensorNumbers, tensorOf } from '../../src/engine/graph/types.js';
import { predictQa, type QaFinetunedModel } from '../../src/engine/inference/qa-model.js';
import { initWeights } from '../../src/engine/models/init.js';
import { createSession } from '../../src/engine/runtime.js';
import type { Batch, Evaluator } from '../../src/engine/step/batch.js';
import { buildForward, buildInference } from '../../src/engine/step/step-graph.js';
import { bestAnswers, type WindowLogits } from '../../src/engine/tasks/question-answering/postprocess.js';
import { type QaRecipe, qaRecipe } from '../../src/engine/tasks/question-answering/recipe.js';
import { answerPositions, codePointIndex, qaWindows } from '../../src/engine/tasks/question-answering/windows.js';
import { TASKS } from '../../src/engine/tasks/registry.js';
import { Tokenizer } from '../../src/engine/tokenize/index.js';
import { applyDefaults } from '../../src/shared/config-validate.js';
import { SQUAD_SENTENCES, squadRows, writeTinyQaModel } from '../fixtures/qa-datasets.js';

/**
 * Question answering without training: answer positions and doc_stride windows, post-processing
 * on hand-made logits, the loss against PyTorch's semantics, predict's output on a stub model.
 */
let dir = '';
let tokenizer: Tokenizer;
let recipe: QaRecipe;

const source = { file: 'test', line: 1 };
const qa = (question: string, context: string, answer?: string, start?: number): QaExample => ({
  kind: 'qa',
  question,
  context,
  answers:
    answer === undefined
      ? { text: [], answer_start: [] }
      : { text: [answer], answer_start: [start ?? context.indexOf(answer)] },
  source,
});

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ft-qa-units-'));
  writeTinyQaModel(dir, 'bert', [...SQUAD_SENTENCES, 'Rain 😀 falls on Kalo.'], 64);
  tokenizer = Tokenizer.fromFolder(dir);
  recipe = qaRecipe({
    config: applyDefaults({ model: dir, task: 'question-answering', data: { train: '', max_length: 32 } }),
    modelDir: dir,
    tokenizer,
    labelSet: undefined,
    seed: 3,
  });
});

/** The text of a window's answer tokens, from the offsets. */
function answerText(w: ReturnType<typeof qaWindows>[number]): string {
  const from = w.offsets[w.startPosition];
  const to = w.offsets[w.endPosition];
  return from && to ? w.example.context.slice(from[0], to[1]) : '';
}

test('answer positions: the tokens covering the answer, CLS when the window lacks any of it', () => {
  // Context tokens at offsets [0,3) [4,8) [8,11) [12,15); question tokens and specials are null.
  const offsets: ([number, number] | null)[] = [null, null, null, [0, 3], [4, 8], [8, 11], [12, 15], null];
  assert.deepEqual(answerPositions(offsets, 4, 11, 0), { start: 4, end: 5 });
  assert.deepEqual(answerPositions(offsets, 5, 9, 0), { start: 4, end: 5 }, 'inside tokens: the covering ones');
  assert.deepEqual(answerPositions(offsets, 12, 15, 0), { start: 6, end: 6 }, 'the last token of the window');
  assert.deepEqual(answerPositions(offsets, 0, 3, 0), { start: 3, end: 3 });
  assert.deepEqual(answerPositions(offsets, 12, 20, 0), { start: 0, end: 0 }, 'runs past the window');
  assert.deepEqual(answerPositions(offsets.slice(0, 5), 8, 11, 0), { start: 0, end: 0 }, 'after the window');
});

test('doc_stride windows: only the windows holding the answer point at it, the rest at CLS', () => {
  const [row] = squadRows(1, 5, { maxFillers: 8, fillersFirst: true }).filter((r) => r.context.length > 200);
  assert.ok(row);
  const e: QaExample = { kind: 'qa', ...row, source };
  const windows = qaWindows(tokenizer, e, { maxLength: 32, docStride: 8 });
  assert.ok(windows.length >= 4, `${windows.length} windows`);
  const question = tokenizer.encode(row.question).ids.length - 2;
  for (const w of windows) {
    assert.ok(w.inputIds.length <= 32);
    // [CLS] question [SEP] context [SEP]: the context part has offsets, the rest none.
    assert.equal(w.offsets.filter((o) => o !== null).length, w.inputIds.length - question - 3);
    assert.ok(w.offsets.slice(0, question + 2).every((o) => o === null));
  }
  // Consecutive windows share docStride tokens of the context.
  const first = windows[0]?.offsets.filter((o) => o !== null) ?? [];
  const second = windows[1]?.offsets.filter((o) => o !== null) ?? [];
  assert.deepEqual(second.slice(0, 8), first.slice(-8));
  const holding = windows.filter((w) => w.startPosition !== 0);
  assert.ok(holding.length >= 1 && holding.length < windows.length);
  for (const w of holding) assert.equal(answerText(w), row.answers.text[0]);
  for (const w of windows.filter((w) => w.startPosition === 0)) assert.equal(w.endPosition, 0);
  assert.ok(
    holding.every((w) => w.windowIndex > 0),
    'the answer is at the end of a long context',
  );
  // The recipe's encode gives every window of every example, each keeping its example.
  const encoded = recipe.encode([e, e]);
  assert.equal(encoded.length, 2 * qaWindows(tokenizer, e, recipe.settings).length);
});

test('answer_start counts code points, as SQuAD: an emoji before the answer is handled', async () => {
  const context = 'Rain 😀 falls on Kalo.';
  const file = join(dir, 'emoji.jsonl');
  // In Python, context.index('Kalo') is 16; in JavaScript it is 17 (the emoji is two UTF-16 units).
  writeFileSync(
    file,
    `${JSON.stringify({ question: 'Where does rain fall?', context, answers: { text: ['Kalo'], answer_start: [16] } })}\n`,
  );
  const columns = { text: 'text', label: 'label', tokens: 'tokens', tags: 'tags' };
  const examples: Example[] = [];
  for await (const e of loadExamples(file, {
    rows: TASKS['question-answering'].data.rows,
    columns,
    badRows: new BadRows('error'),
  }))
    examples.push(e);
  const e = examples[0] as QaExample;
  assert.equal(e.answers.answer_start[0], 17);
  const [w] = qaWindows(tokenizer, e, { maxLength: 32, docStride: 8 });
  assert.ok(w);
  assert.equal(answerText(w), 'Kalo');
  assert.equal(codePointIndex(context, 17), 16);
  assert.equal(codePointIndex(context, 21), 20);
  assert.equal(codePointIndex('a😀b', 3), 2);
});

const logits = (start: number[], end: number[], offsets: ([number, number] | null)[]): WindowLogits => ({
  start,
  end,
  offsets,
});

test('post-processing: best start/end pair by summed logits, text from the offsets', () => {
  const context = 'alpha beta gamma delta';
  const offsets: ([number, number] | null)[] = [null, null, [0, 5], [6, 10], [11, 16], [17, 22], null];
  const w = logits([0, 0, 1, 5, 2, 0, 0], [0, 0, 0, 1, 6, 2, 0], offsets);
  const [best, ...rest] = bestAnswers(context, [w], { nBest: 20, maxAnswerLength: 30 });
  assert.ok(best);
  assert.deepEqual([best.text, best.start, best.end, best.score], ['beta gamma', 6, 16, 11]);
  assert.equal(best.startLogit, 5);
  assert.equal(best.endLogit, 6);
  // Every kept candidate is a valid span, sorted by score; probabilities are a softmax over them.
  const all = [best, ...rest];
  for (let i = 1; i < all.length; i++) assert.ok((all[i - 1]?.score as number) >= (all[i]?.score as number));
  const z = all.reduce((s, c) => s + Math.exp(c.score - best.score), 0);
  assert.ok(Math.abs(best.probability - 1 / z) < 1e-12);
  assert.ok(Math.abs(all.reduce((s, c) => s + c.probability, 0) - 1) < 1e-12);
  assert.ok(all.every((c) => c.end > c.start && context.slice(c.start, c.end) === c.text));
});

test('post-processing: spans outside the context, reversed or too long are never answers', () => {
  const context = 'one two three four';
  const offsets: ([number, number] | null)[] = [null, null, [0, 3], [4, 7], [8, 13], [14, 18], null];
  // The highest logits sit on the question token 1 and the final [SEP] (outside the context).
  const outside = logits([0, 9, 1, 0, 0, 0, 9], [0, 9, 0, 0, 1, 0, 9], offsets);
  const [best] = bestAnswers(context, [outside], { nBest: 20, maxAnswerLength: 30 });
  assert.equal(best?.text, 'one two three');
  // End before start: the best start is after the best end, so the pair is skipped.
  const reversed = logits([0, 0, 0, 0, 0, 9, 0], [0, 0, 9, 0, 0, 0, 0], offsets);
  const r = bestAnswers(context, [reversed], { nBest: 20, maxAnswerLength: 30 });
  assert.equal(r[0]?.score, 9);
  assert.ok(['one', 'four'].includes(r[0]?.text as string), r[0]?.text);
  // Too long: "one ... four" spans 4 tokens; with max_answer_length 2 the best is a shorter span.
  const long = logits([0, 0, 9, 0, 0, 0, 0], [0, 0, 0, 0, 0, 9, 0], offsets);
  assert.equal(bestAnswers(context, [long], { nBest: 20, maxAnswerLength: 4 })[0]?.text, 'one two three four');
  const short = bestAnswers(context, [long], { nBest: 20, maxAnswerLength: 2 });
  assert.ok(short.every((c) => c.text.split(' ').length <= 2));
  assert.ok(short[0]?.text === 'one' || short[0]?.text === 'four');
  // n-best 1: only the top start and top end are paired, so with both outside there is no answer.
  assert.deepEqual(bestAnswers(context, [outside], { nBest: 1, maxAnswerLength: 30 }), []);
  assert.deepEqual(bestAnswers(context, [outside], { nBest: 2, maxAnswerLength: 30 }), []);
  assert.deepEqual(
    bestAnswers(context, [outside], { nBest: 3, maxAnswerLength: 30 }).map((c) => c.text),
    ['one two three'],
  );
});

test('post-processing: the whitespace in SentencePiece offsets is not part of the answer', () => {
  const context = 'Hello world again';
  const w = logits([0, 0, 9, 0], [0, 0, 9, 0], [null, [0, 5], [5, 11], [11, 17]]);
  const [best] = bestAnswers(context, [w], { nBest: 20, maxAnswerLength: 30 });
  assert.deepEqual([best?.text, best?.start, best?.end], ['world', 6, 11]);
});

test('post-processing: the best span over several windows, n-best kept across them', () => {
  const context = 'aa bb cc dd';
  const w0 = logits([0, 1, 2, 0], [0, 1, 2, 0], [null, [0, 2], [3, 5], null]);
  const w1 = logits([0, 5, 1, 0], [0, 1, 6, 0], [null, [6, 8], [9, 11], null]);
  const all = bestAnswers(context, [w0, w1], { nBest: 3, maxAnswerLength: 30 });
  assert.equal(all.length, 3);
  assert.deepEqual([all[0]?.text, all[0]?.window, all[0]?.score], ['cc dd', 1, 11]);
});

/** An evaluator whose start/end logits peak on the tokens of `answer` in each window that has it. */
function peakingEvaluator(): Evaluator {
  return {
    async evaluate(batch: Batch) {
      const ids = batch.input_ids as TensorData;
      const [B, T] = ids.dims as [number, number];
      const starts = tensorNumbers(batch.start_positions as TensorData);
      const ends = tensorNumbers(batch.end_positions as TensorData);
      const values = new Float32Array(B * T * 2);
      for (let b = 0; b < B; b++) {
        if (starts[b] === 0) continue; // no answer in this window: flat logits
        values[(b * T + (starts[b] as number)) * 2] = 8;
        values[(b * T + (ends[b] as number)) * 2 + 1] = 8;
      }
      return { loss: 0.5, logits: tensorOf('float32', [B, T, 2], values) };
    },
  };
}

test('evaluation maps windows back to their examples, whatever the batch size', async () => {
  const rows = squadRows(6, 9, { maxFillers: 8, fillersFirst: true });
  const examples = rows.map((r) => ({ kind: 'qa' as const, ...r, source }));
  const windows = recipe.encode(examples);
  assert.ok(windows.length > examples.length);
  for (const size of [1, 3, 64]) {
    const ev = peakingEvaluator();
    const result = await recipe.evaluate(ev, windows, ['exact_match', 'f1'], size);
    assert.deepEqual(result, { loss: 0.5, exact_match: 100, f1: 100 });
    const { answers } = await recipe.answers(ev, windows, size);
    for (const e of examples) assert.equal(answers.get(e)?.[0]?.text, e.answers.text[0]);
  }
  // A wrong prediction counts: drop the peaks and every answer is some other span.
  const flat: Evaluator = {
    async evaluate(batch) {
      const [B, T] = (batch.input_ids as TensorData).dims as [number, number];
      return { loss: 1, logits: tensorOf('float32', [B, T, 2], new Float32Array(B * T * 2)) };
    },
  };
  const scores = await recipe.evaluate(flat, windows, ['exact_match'], 4);
  assert.ok((scores.exact_match as number) < 100);
});

test('predict: answer, score, start and end in code points of the context', async () => {
  const context = 'Rain 😀 falls on Kalo. The capital of Kalo is Mipe.';
  const example = qa('What is the capital of Kalo?', context, 'Mipe');
  const [window] = recipe.encode([example]);
  assert.ok(window);
  // A model whose logits peak on the answer's tokens (predict's windows carry no gold positions).
  const stub = {
    recipe,
    async evaluate(batch: Batch) {
      const [B, T] = (batch.input_ids as TensorData).dims as [number, number];
      const values = new Float32Array(B * T * 2);
      values[window.startPosition * 2] = 4;
      values[window.endPosition * 2 + 1] = 3;
      return { loss: 0, logits: tensorOf('float32', [B, T, 2], values) };
    },
  } as unknown as QaFinetunedModel;
  const p = await predictQa(stub, { question: example.question, context }, 'in.jsonl:1');
  assert.deepEqual(Object.keys(p), ['answer', 'score', 'start', 'end', 'probability']);
  assert.equal(p.answer, 'Mipe');
  assert.equal(p.score, 7);
  const chars = [...context];
  assert.equal(chars.slice(p.start as number, p.end as number).join(''), 'Mipe');
  assert.equal(p.start, context.indexOf('Mipe') - 1, 'the emoji is one character');
  await assert.rejects(
    predictQa(stub, { question: 'x' }, 'in.jsonl:2'),
    /in\.jsonl:2: expected a non-empty string in "context"/,
  );
});

test('loss: (CE(start) + CE(end)) / 2, positions clamped to [0, T] and T ignored, as PyTorch', async () => {
  const weights = initWeights(recipe.model.params, 5);
  const spec = buildForward({
    model: recipe.model,
    weights,
    trainable: new Set(),
    optimizer: { kind: 'adamw', weightDecay: 0 },
  });
  const session = await createSession(encodeModel(spec.graph), { device: 'cpu', threads: 1 });
  try {
    const examples = squadRows(3, 4).map((r) => ({ kind: 'qa' as const, ...r, source }));
    const batch = recipe.collate(recipe.encode(examples).slice(0, 3));
    const [B, T] = (batch.input_ids as TensorData).dims as [number, number];
    const cases: [number[], number[]][] = [
      [
        [3, 5, 7],
        [4, 6, 9],
      ],
      [
        [-2, T, T + 7], // -2 clamps to 0; T and beyond are ignored
        [1, 2, T + 1],
      ],
    ];
    for (const [starts, ends] of cases) {
      const feeds = {
        ...batch,
        start_positions: tensorOf('int64', [B], starts),
        end_positions: tensorOf('int64', [B], ends),
      };
      const out = await session.run(feeds);
      const loss = tensorNumbers(out[spec.loss] as TensorData)[0] as number;
      const l = tensorNumbers(out[spec.logits as string] as TensorData);
      const ce = (column: number, positions: number[]) => {
        let sum = 0;
        let n = 0;
        positions.forEach((p, b) => {
          const target = Math.min(Math.max(p, 0), T);
          if (target === T) return;
          const row = Array.from({ length: T }, (_, t) => l[(b * T + t) * 2 + column] as number);
          const max = Math.max(...row);
          const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
          sum += lse - (row[target] as number);
          n++;
        });
        return sum / n;
      };
      const expected = (ce(0, starts) + ce(1, ends)) / 2;
      assert.ok(Math.abs(loss - expected) < 1e-5, `loss ${loss} vs ${expected}`);
    }
  } finally {
    await session.dispose();
  }
});

test('the QA model: qa_outputs head, HF architecture names, start/end inference outputs', () => {
  const names = recipe.model.params.map((p) => p.name);
  assert.deepEqual(names.slice(-2), ['qa_outputs.weight', 'qa_outputs.bias']);
  assert.deepEqual(recipe.model.params.at(-2)?.shape, [2, 32]);
  assert.equal(recipe.architecture, 'BertForQuestionAnswering');
  assert.deepEqual(recipe.loadReport.missing, ['qa_outputs.weight', 'qa_outputs.bias']);
  assert.deepEqual(
    recipe.model.batchInputs.map((b) => b.name),
    ['input_ids', 'attention_mask', 'token_type_ids', 'start_positions', 'end_positions'],
  );
  const graph = buildInference(recipe.model, initWeights(recipe.model.params, 1));
  assert.deepEqual(graph.outputs, ['start_logits', 'end_logits']);
  assert.deepEqual(graph.inputs, ['input_ids', 'attention_mask', 'token_type_ids']);
});

const ARCHITECTURES = {
  roberta: 'RobertaForQuestionAnswering',
  distilbert: 'DistilBertForQuestionAnswering',
  albert: 'AlbertForQuestionAnswering',
  electra: 'ElectraForQuestionAnswering',
} as const;

for (const [family, architecture] of Object.entries(ARCHITECTURES)) {
  test(`${family}: answer windows from its tokenizer's offsets, and the QA graph's start/end outputs`, async () => {
    const folder = mkdtempSync(join(tmpdir(), `ft-qa-${family}-`));
    writeTinyQaModel(folder, family as keyof typeof ARCHITECTURES, SQUAD_SENTENCES, 64);
    const r = qaRecipe({
      config: applyDefaults({ model: folder, task: 'question-answering', data: { train: '', max_length: 48 } }),
      modelDir: folder,
      tokenizer: Tokenizer.fromFolder(folder),
      labelSet: undefined,
      seed: 1,
    });
    assert.equal(r.architecture, architecture);
    const rows = [...squadRows(20, 21), ...squadRows(10, 22, { maxFillers: 8, fillersFirst: true })];
    const windows = r.encode(rows.map((row) => ({ kind: 'qa' as const, ...row, source })));
    assert.ok(windows.length > rows.length);
    for (const row of rows) {
      const own = windows.filter((w) => w.example.id === row.id);
      const holding = own.filter((w) => w.startPosition !== 0);
      assert.ok(holding.length >= 1, `${family}: no window holds the answer of ${row.id}`);
      // ALBERT's SentencePiece offsets include the space before a word (as Hugging Face's do).
      for (const w of holding) assert.equal(answerText(w).trim(), row.answers.text[0], `${family} ${row.id}`);
    }
    const batch = r.collate(windows.slice(0, 4));
    const { start_positions: _s, end_positions: _e, ...inputs } = batch;
    const session = await createSession(encodeModel(buildInference(r.model, r.weights)), { device: 'cpu', threads: 1 });
    try {
      assert.deepEqual([...session.outputNames], ['start_logits', 'end_logits']);
      const out = await session.run(inputs);
      assert.deepEqual((out.start_logits as TensorData).dims, (batch.input_ids as TensorData).dims);
      assert.deepEqual((out.end_logits as TensorData).dims, (batch.input_ids as TensorData).dims);
    } finally {
      await session.dispose();
    }
  });
}
