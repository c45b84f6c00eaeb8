/**
 * transformers' word rule (DataCollatorForLanguageModeling._calc_word_ids_and_prob_mask): a
 * non-special token starts a new word when its offset does not start where the previous token
 * ended (-1 before the first token), or the previous token is special. Sub-tokens of one word
 * (`play`, `##ing`) touch.
 */
export function startsWord(start: number, previousEnd: number, previousSpecial: boolean): boolean {
  return start !== previousEnd || previousSpecial;
}

/** The words of a sequence by startsWord: numbered by a running count from 1, specials get null. */
export function wordIdsFromOffsets(
  offsets: readonly (readonly [number, number])[],
  specialMask: readonly number[],
): (number | null)[] {
  let word = 0;
  return offsets.map(([start], t) => {
    if (specialMask[t] === 1) return null;
    const previousEnd = t === 0 ? -1 : (offsets[t - 1] as readonly [number, number])[1];
    if (startsWord(start, previousEnd, t > 0 && specialMask[t - 1] === 1)) word++;
    return word;
  });
}
