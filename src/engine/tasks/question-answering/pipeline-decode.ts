import type { WindowLogits } from './postprocess.js';

/**
 * Answers as transformers' QuestionAnsweringPipeline decodes them (pipelines/question_answering.py,
 * `select_starts_ends`, `decode_spans` and `postprocess`), for serving: run_qa.py's n-best
 * post-processing (postprocess.ts) stays what `predict` and `evaluate` use.
 *
 * Per window: tokens that cannot start or end an answer (the question, special tokens) get logit
 * -10000, the CLS token excepted (its p_mask is 0: some models answer "impossible" there); start
 * and end logits are softmaxed over the window; with `handleImpossibleAnswer` the null score is
 * the smallest p_start(CLS) × p_end(CLS) over windows; CLS is then zeroed. A span (s, e) with
 * s <= e <= s + maxAnswerLen - 1 scores p_start(s) × p_end(e); the window's `topK` best are kept
 * if both ends are context (or CLS) tokens. Across windows, answers of the same text (case
 * ignored) add their scores; the `topK` best are returned, the null answer ("" at 0..0) among them.
 */
export interface PipelineWindow extends WindowLogits {
  /** Positions of the CLS token in the window: kept in the softmax, as the pipeline's p_mask does. */
  cls: readonly number[];
  /** The word of each token within its sequence (word_ids), for `alignToWords`. */
  wordIds: readonly (number | null)[];
}

export interface PipelineOptions {
  topK: number;
  maxAnswerLen: number;
  handleImpossibleAnswer: boolean;
  /** Widen the span to whole words (the pipeline's default): word_to_chars of the end tokens' words. */
  alignToWords: boolean;
}

export const PIPELINE_DEFAULTS: PipelineOptions = {
  topK: 1,
  maxAnswerLen: 15,
  handleImpossibleAnswer: false,
  alignToWords: true,
};

export interface PipelineAnswer {
  answer: string;
  score: number;
  /** [start, end) in the context (UTF-16 indices). */
  start: number;
  end: number;
}

/** The pipeline's masked softmax over one window (numpy's float64 arithmetic). */
function maskedSoftmax(logits: ArrayLike<number>, desired: readonly boolean[]): Float64Array {
  const x = Float64Array.from(desired, (ok, t) => (ok ? (logits[t] as number) : -10000));
  const max = x.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY);
  let sum = 0;
  for (let t = 0; t < x.length; t++) {
    x[t] = Math.exp((x[t] as number) - max);
    sum += x[t] as number;
  }
  for (let t = 0; t < x.length; t++) x[t] = (x[t] as number) / sum;
  return x;
}

/** The character span of tokens s..e: their words' extent (alignToWords) or their own offsets. */
function charSpan(w: PipelineWindow, s: number, e: number, alignToWords: boolean): [number, number] {
  const offset = (t: number): [number, number] => w.offsets[t] ?? [0, 0];
  if (!alignToWords || w.wordIds[s] == null || w.wordIds[e] == null) return [offset(s)[0], offset(e)[1]];
  // word_to_chars(word, sequence_index=1): the first and last context token of that word.
  const extent = (word: number): [number, number] => {
    let from = Number.POSITIVE_INFINITY;
    let to = Number.NEGATIVE_INFINITY;
    w.wordIds.forEach((id, t) => {
      const o = w.offsets[t];
      if (id === word && o) {
        from = Math.min(from, o[0]);
        to = Math.max(to, o[1]);
      }
    });
    return [from, to];
  };
  return [extent(w.wordIds[s] as number)[0], extent(w.wordIds[e] as number)[1]];
}

export function pipelineAnswers(
  context: string,
  windows: readonly PipelineWindow[],
  o: PipelineOptions = PIPELINE_DEFAULTS,
): PipelineAnswer[] {
  let minNullScore = 1000000;
  const answers: PipelineAnswer[] = [];
  for (const w of windows) {
    const T = w.offsets.length;
    const desired = Array.from({ length: T }, (_, t) => w.offsets[t] !== null || w.cls.includes(t));
    const pStart = maskedSoftmax(w.start, desired);
    const pEnd = maskedSoftmax(w.end, desired);
    if (o.handleImpossibleAnswer) minNullScore = Math.min(minNullScore, (pStart[0] as number) * (pEnd[0] as number));
    pStart[0] = 0;
    pEnd[0] = 0;
    // decode_spans: the topK of the banded outer product (ties: lower flat index first, as argmax),
    // then only spans whose both ends are desired tokens.
    const spans: { s: number; e: number; score: number }[] = [];
    for (let s = 0; s < T; s++)
      for (let e = s; e < Math.min(T, s + o.maxAnswerLen); e++)
        spans.push({ s, e, score: (pStart[s] as number) * (pEnd[e] as number) });
    spans.sort((a, b) => b.score - a.score || a.s - b.s || a.e - b.e);
    for (const { s, e, score } of spans.slice(0, o.topK)) {
      if (!desired[s] || !desired[e]) continue;
      const [start, end] = charSpan(w, s, e, o.alignToWords);
      const text = context.slice(start, end);
      const same = answers.find((a) => a.answer.toLowerCase() === text.toLowerCase());
      if (same) same.score += score;
      else answers.push({ answer: text, score, start, end });
    }
  }
  if (o.handleImpossibleAnswer) answers.push({ answer: '', score: minNullScore, start: 0, end: 0 });
  // Python's sorted is stable: equal scores keep their order.
  return answers.sort((a, b) => b.score - a.score).slice(0, o.topK);
}
