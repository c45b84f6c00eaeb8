import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  PIPELINE_DEFAULTS,
  type PipelineWindow,
  pipelineAnswers,
} from '../../src/engine/tasks/question-answering/pipeline-decode.js';

/**
 * transformers' QuestionAnsweringPipeline decoding (select_starts_ends + decode_spans +
 * postprocess), on windows whose numbers are worked out by hand in each test.
 *
 * The window: [CLS] q [SEP] c1 c2 [SEP], context "ab cd" with c1 = "ab" [0, 2) and c2 = "cd" [3, 5).
 * Start logits [0, 5, 0, ln 2, 0, 7]: the question token and the SEPs are masked to -10000 (5 and
 * 7 do not count), CLS stays, so the softmax is over (CLS, c1, c2) = exp(0, ln 2, 0) / 4 =
 * (0.25, 0.5, 0.25). End logits [0, 0, 0, 0, ln 3, 0]: (CLS, c1, c2) = (1, 1, 3) / 5 =
 * (0.2, 0.2, 0.6). CLS is zeroed, so the spans score (c1, c1) = 0.5·0.2 = 0.1,
 * (c1, c2) = 0.5·0.6 = 0.3, (c2, c2) = 0.25·0.6 = 0.15; the null answer p(CLS)·p(CLS) = 0.25·0.2 = 0.05.
 */
const CONTEXT = 'ab cd';
const window = (o: Partial<PipelineWindow> = {}): PipelineWindow => ({
  start: [0, 5, 0, Math.log(2), 0, 7],
  end: [0, 0, 0, 0, Math.log(3), 0],
  offsets: [null, null, null, [0, 2], [3, 5], null],
  cls: [0],
  wordIds: [null, 0, null, 0, 1, null],
  ...o,
});
const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);

test('the best span scores p_start x p_end of the masked softmaxes, CLS in the softmax but not an answer', () => {
  const [best, ...rest] = pipelineAnswers(CONTEXT, [window()]);
  assert.equal(rest.length, 0);
  assert.equal(best?.answer, 'ab cd');
  assert.deepEqual([best?.start, best?.end], [0, 5]);
  close(best?.score as number, 0.3);
});

test('top_k ranks the spans; max_answer_len 1 leaves the one-token spans', () => {
  const three = pipelineAnswers(CONTEXT, [window()], { ...PIPELINE_DEFAULTS, topK: 3 });
  assert.deepEqual(
    three.map((a) => a.answer),
    ['ab cd', 'cd', 'ab'],
  );
  for (const [i, s] of [0.3, 0.15, 0.1].entries()) close(three[i]?.score as number, s);
  const short = pipelineAnswers(CONTEXT, [window()], { ...PIPELINE_DEFAULTS, maxAnswerLen: 1 });
  assert.equal(short[0]?.answer, 'cd');
  close(short[0]?.score as number, 0.15);
});

test('handle_impossible_answer adds the null answer scored p_start(CLS) x p_end(CLS)', () => {
  const answers = pipelineAnswers(CONTEXT, [window()], { ...PIPELINE_DEFAULTS, topK: 4, handleImpossibleAnswer: true });
  assert.deepEqual(
    answers.map((a) => a.answer),
    ['ab cd', 'cd', 'ab', ''],
  );
  close(answers[3]?.score as number, 0.05);
  assert.deepEqual([answers[3]?.start, answers[3]?.end], [0, 0]);
  // The null answer wins once CLS carries the mass: start logit ln 8 at CLS gives (8, 2, 1) / 11,
  // so null = 8/11 · 0.2 ≈ 0.145 beats (c1, c2) = 2/11 · 0.6 ≈ 0.109.
  const impossible = pipelineAnswers(CONTEXT, [window({ start: [Math.log(8), 5, 0, Math.log(2), 0, 7] })], {
    ...PIPELINE_DEFAULTS,
    handleImpossibleAnswer: true,
  });
  assert.equal(impossible[0]?.answer, '');
  close(impossible[0]?.score as number, (8 / 11) * 0.2);
});

test('the same answer from two windows adds its scores (case ignored); align_to_words widens to whole words', () => {
  // The second window holds c2 alone: its softmax is over (CLS, c2) = (0.5, 0.5) for starts and
  // (1, 3) / 4 for ends, so "cd" scores 0.5 · 0.75 = 0.375 there, plus 0.15 from the first: 0.525.
  const second: PipelineWindow = {
    start: [0, 0],
    end: [0, Math.log(3)],
    offsets: [null, [3, 5]],
    cls: [0],
    wordIds: [null, 1],
  };
  const merged = pipelineAnswers(CONTEXT, [window(), second], { ...PIPELINE_DEFAULTS, topK: 2 });
  assert.equal(merged[0]?.answer, 'cd');
  close(merged[0]?.score as number, 0.15 + 0.375);
  assert.equal(merged[1]?.answer, 'ab cd');
  // c1 and c2 as two pieces of one word "abcd" [0, 2) + [2, 4): a span starting at the second
  // piece is widened to the word's start with align_to_words, and kept to the piece without.
  const pieces = window({
    start: [0, 0, 0, 0, 0, 0],
    end: [0, 0, 0, 0, 0, 0],
    offsets: [null, null, null, [0, 2], [2, 4], null],
    wordIds: [null, 0, null, 0, 0, null],
  });
  const one = { ...PIPELINE_DEFAULTS, maxAnswerLen: 1, topK: 2 };
  assert.deepEqual(
    pipelineAnswers('abcd', [pieces], one).map((a) => [a.answer, a.start, a.end]),
    [['abcd', 0, 4]],
    'both pieces widen to the word "abcd", and the second adds to the first',
  );
  assert.deepEqual(
    pipelineAnswers('abcd', [pieces], { ...one, alignToWords: false }).map((a) => a.answer),
    ['ab', 'cd'],
  );
});
