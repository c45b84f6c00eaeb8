import type { Seq2SeqSearch } from './generation-config.js';

/**
 * transformers' logits processors that an encoder-decoder's GenerationConfig turns on, applied to
 * one row's scores in `_get_logits_processor`'s order: NoRepeatNGram, MinLength, MinNewTokens,
 * ForcedBOS, ForcedEOS. Greedy search and sampling apply them to the logits, beam search to the
 * log-softmax (as `_beam_search` does), so a forced token scores 0 there, not log p.
 *
 * `sequence` is the row's decoder input so far, the decoder start token included: transformers'
 * `input_ids` of the decoder, whose length `cur_len` the processors compare with.
 */
export type ScoreProcessors = Pick<
  Seq2SeqSearch,
  'noRepeatNgramSize' | 'minLength' | 'minNewTokens' | 'eosTokenIds' | 'forcedBosTokenId' | 'forcedEosTokenIds'
> & {
  /** max_length: 1 + max_new_tokens (the decoder start token counts). */
  maxLength: number;
};

export function processScores(
  scores: Float32Array | Float64Array,
  sequence: readonly number[],
  p: ScoreProcessors,
): void {
  const curLen = sequence.length;
  if (p.noRepeatNgramSize > 0)
    for (const id of bannedNgramTokens(sequence, p.noRepeatNgramSize)) scores[id] = Number.NEGATIVE_INFINITY;
  // MinLengthLogitsProcessor: input_ids.shape[-1] < min_length; MinNewTokensLengthLogitsProcessor:
  // the tokens after the decoder start (its prompt length, 1) fewer than min_new_tokens.
  if (curLen < p.minLength || curLen - 1 < p.minNewTokens)
    for (const id of p.eosTokenIds) if (id < scores.length) scores[id] = Number.NEGATIVE_INFINITY;
  if (p.forcedBosTokenId !== null && curLen === 1) forceOnly(scores, [p.forcedBosTokenId]);
  if (p.forcedEosTokenIds.length > 0 && curLen === p.maxLength - 1) forceOnly(scores, p.forcedEosTokenIds);
}

/** ForcedBOS/ForcedEOS: every score −inf but these, which get 0. */
function forceOnly(scores: Float32Array | Float64Array, ids: readonly number[]): void {
  scores.fill(Number.NEGATIVE_INFINITY);
  for (const id of ids) if (id < scores.length) scores[id] = 0;
}

/**
 * NoRepeatNGramLogitsProcessor (`_get_ngrams` + `_get_generated_ngrams`): the tokens that would
 * complete an n-gram already in the sequence, given its last n − 1 tokens. None while the
 * sequence is shorter than n − 1 (cur_len + 1 < n).
 */
export function bannedNgramTokens(sequence: readonly number[], n: number): number[] {
  const curLen = sequence.length;
  if (curLen + 1 < n) return [];
  const banned: number[] = [];
  const start = curLen + 1 - n;
  for (let i = 0; i + n <= curLen; i++) {
    let same = true;
    for (let j = 0; j < n - 1 && same; j++) same = sequence[i + j] === sequence[start + j];
    if (same) banned.push(sequence[i + n - 1] as number);
  }
  return banned;
}

/** log_softmax of one row of logits, in float64. */
export function logSoftmax(logits: ArrayLike<number>, offset: number, size: number): Float64Array {
  let max = Number.NEGATIVE_INFINITY;
  for (let v = 0; v < size; v++) max = Math.max(max, logits[offset + v] as number);
  let sum = 0;
  for (let v = 0; v < size; v++) sum += Math.exp((logits[offset + v] as number) - max);
  const lse = max + Math.log(sum);
  const out = new Float64Array(size);
  for (let v = 0; v < size; v++) out[v] = (logits[offset + v] as number) - lse;
  return out;
}
