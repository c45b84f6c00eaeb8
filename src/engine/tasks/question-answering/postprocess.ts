/**
 * From start/end logits to answers, as Hugging Face's `postprocess_qa_predictions` (run_qa.py,
 * SQuAD v1): over every window of an example, the `nBest` highest start and end logits are paired;
 * a pair is a candidate when both tokens are context tokens (not the question, a special token or
 * padding), end >= start, and it spans at most `maxAnswerLength` tokens. A candidate's score is
 * start_logit + end_logit, its text the context between the first token's start offset and the
 * last token's end offset (without surrounding whitespace); the `nBest` best candidates are kept
 * and get a probability by a softmax over their scores.
 */
export interface WindowLogits {
  /** Start and end logits of the window's tokens (index t = token t). */
  start: ArrayLike<number>;
  end: ArrayLike<number>;
  /** [start, end) offsets in the context of each context token; null elsewhere (see QaWindow). */
  offsets: readonly ([number, number] | null)[];
}

export interface QaPostprocessOptions {
  /** Start and end candidates per window, and answers kept per example (run_qa's n_best_size, 20). */
  nBest: number;
  /** Longest answer in tokens (run_qa's max_answer_length, 30). */
  maxAnswerLength: number;
}

export interface QaCandidate {
  text: string;
  /** [start, end) of the answer in the context (UTF-16 indices). */
  start: number;
  end: number;
  /** start_logit + end_logit. */
  score: number;
  startLogit: number;
  endLogit: number;
  /** Softmax of the score over the kept candidates of the example. */
  probability: number;
  /** Which window the span came from. */
  window: number;
}

const SPACE = /\s/u;

/** Indices of the n largest values of xs[0..length), largest first (ties: lower index first). */
function topIndices(xs: ArrayLike<number>, length: number, n: number): number[] {
  const order = Array.from({ length }, (_, i) => i);
  order.sort((a, b) => (xs[b] as number) - (xs[a] as number) || a - b);
  return order.slice(0, n);
}

/** The n-best answers of one example over its windows, best first; [] when no span qualifies. */
export function bestAnswers(context: string, windows: readonly WindowLogits[], o: QaPostprocessOptions): QaCandidate[] {
  const candidates: Omit<QaCandidate, 'probability'>[] = [];
  windows.forEach((w, window) => {
    const length = w.offsets.length;
    const starts = topIndices(w.start, length, o.nBest);
    const ends = topIndices(w.end, length, o.nBest);
    for (const s of starts) {
      const from = w.offsets[s];
      if (!from) continue;
      for (const e of ends) {
        const to = w.offsets[e];
        if (!to || e < s || e - s + 1 > o.maxAnswerLength) continue;
        const startLogit = w.start[s] as number;
        const endLogit = w.end[e] as number;
        // SentencePiece tokens (ALBERT) carry the space before a word in their offsets: trim it.
        let a = from[0];
        let b = to[1];
        while (a < b && SPACE.test(context[a] as string)) a++;
        while (b > a && SPACE.test(context[b - 1] as string)) b--;
        candidates.push({
          text: context.slice(a, b),
          start: a,
          end: b,
          score: startLogit + endLogit,
          startLogit,
          endLogit,
          window,
        });
      }
    }
  });
  // Stable sort: among equal scores the earlier window and span win.
  const kept = candidates.sort((a, b) => b.score - a.score).slice(0, o.nBest);
  if (kept.length === 0) return [];
  const max = kept[0]?.score as number;
  const exps = kept.map((c) => Math.exp(c.score - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return kept.map((c, i) => ({ ...c, probability: (exps[i] as number) / sum }));
}

/**
 * Start and end logits of item b of a [B, T, 2] logits tensor, for its `length` tokens from token
 * `first` (0 on the right padding side; the padding before it on the left).
 */
export function splitQaLogits(
  values: ArrayLike<number>,
  dims: readonly number[],
  b: number,
  first: number,
  length: number,
): { start: Float64Array; end: Float64Array } {
  const T = dims[1] as number;
  if (first < 0 || first + length > T) throw new Error(`QA logits: tokens ${first}..${first + length} outside ${T}`);
  const start = new Float64Array(length);
  const end = new Float64Array(length);
  for (let t = 0; t < length; t++) {
    start[t] = values[(b * T + first + t) * 2] as number;
    end[t] = values[(b * T + first + t) * 2 + 1] as number;
  }
  return { start, end };
}
