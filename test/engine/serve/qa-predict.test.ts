import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadServedModel, type ServedModel } from '../../../src/engine/serve/served-model.js';
import { predict, startServer, writeTinyQaFinetuned } from './helpers.js';

/**
 * POST /predict of a question-answering model, scored as transformers' QuestionAnsweringPipeline
 * scores (p_start × p_end). The fixture's QA head has weight 0, so every token's start and end
 * logits are equal and the probabilities are countable by hand.
 *
 * "The capital of the land is far." tokenizes (the fixture's BERT vocabulary) as the, capital, of,
 * the, l, ##an, ##d, is, f, ##ar, . : 11 context tokens. The pipeline's softmax covers them and
 * CLS: 1/12 each. CLS is then zeroed, every span (s <= e < s + 15) scores 1/12 · 1/12 = 1/144,
 * and decode_spans' argmax takes the first: (the, the), the context's characters [0, 3).
 */
const CONTEXT = 'The capital of the land is far.';
const QUESTION = 'What is the capital?';
let qa: ServedModel;

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'serve-qa-'));
  qa = await loadServedModel(writeTinyQaFinetuned(dir), 'qa');
});

after(async () => {
  await qa?.dispose();
});

test('QA /predict: the pipeline score p_start x p_end, and its answer, start and end', async () => {
  const server = await startServer(qa);
  try {
    const r = await predict(server.url, { inputs: { question: QUESTION, context: CONTEXT } });
    assert.equal(r.status, 200);
    const body = r.body as { answer: string; score: number; start: number; end: number };
    assert.deepEqual({ answer: body.answer, start: body.start, end: body.end }, { answer: 'The', start: 0, end: 3 });
    assert.ok(Math.abs(body.score - 1 / 144) < 1e-6, `score ${body.score}`);

    // max_answer_len 1: the 11 one-token spans, 1/144 each (top_k 11 takes exactly them). With
    // align_to_words each piece of "land" (l ##an ##d) and of "far" (f ##ar) reads as its whole
    // word, and the pipeline adds the scores of answers with the same text (case ignored):
    // "land" 3/144, "the" (The, the) and "far" 2/144, the others 1/144.
    const spans = await predict(server.url, {
      inputs: { question: QUESTION, context: CONTEXT },
      parameters: { top_k: 11, max_answer_len: 1 },
    });
    const answers = (spans.body as { answer: string; score: number }[]).map((a) => a.answer);
    assert.deepEqual(new Set(answers), new Set(['The', 'capital', 'of', 'land', 'is', 'far', '.']));
    const land = (spans.body as { answer: string; score: number }[]).find((a) => a.answer === 'land');
    assert.ok(Math.abs((land?.score as number) - 3 / 144) < 1e-6, `land: ${land?.score}`);
    assert.equal(answers[0], 'land', 'the word of three pieces scores highest');

    // A list of inputs answers a list; bad parameters are 400s naming the parameter.
    const two = await predict(server.url, {
      inputs: [
        { question: QUESTION, context: CONTEXT },
        { question: QUESTION, context: 'It is far.' },
      ],
    });
    assert.equal(two.status, 200);
    const [first, second] = two.body as { answer: string; score: number }[];
    assert.equal(first?.answer, 'The');
    // "It is far." is it, is, f, ##ar, . : 5 context tokens, 1/6 each with CLS: 1/36.
    assert.equal(second?.answer, 'It');
    assert.ok(Math.abs((second?.score as number) - 1 / 36) < 1e-6, `score ${second?.score}`);
    const bad = await predict(server.url, {
      inputs: { question: QUESTION, context: CONTEXT },
      parameters: { max_answer_len: 0 },
    });
    assert.equal(bad.status, 400);
    assert.equal((bad.body as { error: { param: string } }).error.param, 'parameters.max_answer_len');
  } finally {
    await server.close();
  }
});
