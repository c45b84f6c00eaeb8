import { argmax } from '../tasks/metrics/classification.js';

/**
 * How one position's logits become the next token, in transformers' order: the logits processors
 * first (repetition_penalty), then, when sampling, the warpers (temperature, top-k, top-p), then
 * greedy argmax or a draw. `generate()` (causal-lm-model.ts) calls `nextToken` once per token.
 */

/** The decoding settings that shape the choice of each token (a subset of GenerationOptions). */
export interface DecodingOptions {
  /** Sample instead of greedy decoding (default: greedy). */
  doSample?: boolean;
  /** Logits are divided by it before sampling (default 1; 0 means greedy). */
  temperature?: number;
  /** Sample among the k most likely tokens only (0 or absent: no limit). */
  topK?: number;
  /** Sample among the most likely tokens whose probabilities add up to top_p (1 or absent: no limit). */
  topP?: number;
  /**
   * transformers' repetition_penalty (CTRL, Keskar et al. 2019): the logit of every token already
   * in the sequence (prompt and generated) is divided by it when positive, multiplied when
   * negative. 1 or absent: off; above 1 discourages repeats; must be > 0.
   */
  repetitionPenalty?: number;
}

/**
 * transformers' RepetitionPenaltyLogitsProcessor, in place: for each id in `seen` (the sequence
 * so far; repeats count once, as its gather/scatter writes the same value twice),
 * `score < 0 ? score * penalty : score / penalty`.
 */
export function applyRepetitionPenalty(logits: number[], seen: Iterable<number>, penalty: number): void {
  for (const id of seen instanceof Set ? seen : new Set(seen)) {
    const score = logits[id];
    if (score === undefined) continue; // an id outside the head (never produced by the model itself)
    logits[id] = score < 0 ? score * penalty : score / penalty;
  }
}

/**
 * The next token from one position's logits. `seen` is the set of ids in the sequence so far
 * (prompt and generated), read by the repetition penalty. `logits` is not modified.
 */
export function nextToken(
  logits: ArrayLike<number>,
  o: DecodingOptions,
  rand: () => number,
  seen: Iterable<number> = [],
): number {
  let scores: ArrayLike<number> = logits;
  if (o.repetitionPenalty !== undefined && o.repetitionPenalty !== 1) {
    const copy = Array.from(logits);
    applyRepetitionPenalty(copy, seen, o.repetitionPenalty);
    scores = copy;
  }
  const temperature = o.temperature ?? 1;
  if (!o.doSample || temperature === 0) return argmax(scores);
  return sample(scores, o, temperature, rand);
}

/** The sampling warpers in transformers' order (temperature, top-k, top-p; at least one token kept), then a draw. */
function sample(logits: ArrayLike<number>, o: DecodingOptions, temperature: number, rand: () => number): number {
  const V = logits.length;
  const order = Array.from({ length: V }, (_, i) => i).sort(
    (a, b) => (logits[b] as number) - (logits[a] as number) || a - b,
  );
  let keep = o.topK && o.topK > 0 ? Math.min(o.topK, V) : V;
  const scaled = order.slice(0, keep).map((i) => (logits[i] as number) / temperature);
  const max = scaled[0] as number;
  const exps = scaled.map((s) => Math.exp(s - max));
  const total = exps.reduce((a, b) => a + b, 0);
  const probs = exps.map((e) => e / total);
  if (o.topP !== undefined && o.topP < 1) {
    let cum = 0;
    let n = 0;
    while (n < probs.length && cum < o.topP) cum += probs[n++] as number;
    keep = Math.max(1, n);
  }
  const kept = probs.slice(0, keep);
  const mass = kept.reduce((a, b) => a + b, 0);
  let u = rand() * mass;
  for (let j = 0; j < kept.length; j++) {
    u -= kept[j] as number;
    if (u < 0) return order[j] as number;
  }
  return order[kept.length - 1] as number;
}

/** What is wrong with decoding settings, as an Error naming the option (transformers' names). */
export function checkDecoding(o: DecodingOptions & { maxNewTokens?: number }): void {
  const bad = (what: string) => {
    throw new Error(`generation: ${what}`);
  };
  if (o.maxNewTokens !== undefined && !(Number.isInteger(o.maxNewTokens) && o.maxNewTokens >= 0))
    bad(`max_new_tokens must be a non-negative integer, got ${o.maxNewTokens}`);
  if (o.temperature !== undefined && !(o.temperature >= 0 && Number.isFinite(o.temperature)))
    bad(`temperature must be >= 0, got ${o.temperature}`);
  if (o.topK !== undefined && !(Number.isInteger(o.topK) && o.topK >= 0))
    bad(`top_k must be a non-negative integer, got ${o.topK}`);
  if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1)) bad(`top_p must be in (0, 1], got ${o.topP}`);
  // transformers raises "`penalty` has to be a strictly positive float" for the same values.
  if (o.repetitionPenalty !== undefined && !(o.repetitionPenalty > 0 && Number.isFinite(o.repetitionPenalty)))
    bad(`repetition_penalty must be > 0 (1 = off), got ${o.repetitionPenalty}`);
}
