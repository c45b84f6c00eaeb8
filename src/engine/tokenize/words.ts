/**
 * The words of a sequence by transformers' rule (DataCollatorForLanguageModeling.
 * _calc_word_ids_and_prob_mask): a non-special token starts a new word when its offset does not
 * start where the previous token ended, or the previous token is special; words are numbered by a
 * running count from 1, specials get null. Sub-tokens of one word (`play`, `##ing`) touch.
 */
export function wordIdsFromOffsets(
  offsets: readonly (readonly [number, number])[],
  specialMask: readonly number[],
): (number | null)[] {
  let word = 0;
  return offsets.map(([start], t) => {
    if (specialMask[t] === 1) return null;
    const previousEnd = t === 0 ? -1 : (offsets[t - 1] as readonly [number, number])[1];
    if (start !== previousEnd || (t > 0 && specialMask[t - 1] === 1)) word++;
    return word;
  });
}

/**
 * Per token, 1 where wordIdsFromOffsets starts a new word (a non-special token whose word differs
 * from the previous non-special token's), else 0: all that whole-word masking needs of the words,
 * in one byte a token, which is what the tokenized-corpus cache stores.
 */
export function wordStarts(
  offsets: readonly (readonly [number, number])[],
  specialMask: readonly number[],
): Uint8Array {
  const words = wordIdsFromOffsets(offsets, specialMask);
  const starts = new Uint8Array(words.length);
  let previous: number | null = null;
  words.forEach((w, t) => {
    if (w === null) return;
    if (w !== previous) starts[t] = 1;
    previous = w;
  });
  return starts;
}
