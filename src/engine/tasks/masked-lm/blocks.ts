import type { Example } from '../../data/records.js';
import type { Tokenizer } from '../../tokenize/index.js';
import { wordIdsFromOffsets } from '../../tokenize/words.js';
import type { MlmExample } from './masking.js';

/**
 * Texts to masked-LM examples as run_mlm.py prepares them. `lineByLine`: one example per
 * non-blank text, tokenized with its special tokens and truncated to maxLength. Otherwise
 * (group_texts): every text tokenized with its special tokens, untruncated, all concatenated,
 * and cut into maxLength blocks, the remainder dropped. run_mlm groups 1,000 texts at a time
 * (dropping a remainder per group); here the whole set is one group, so only one remainder goes.
 * Words follow transformers' offsets rule (wordIdsFromOffsets), shifted per text so that no two
 * texts of a block share a word.
 */
export function encodeMlmTexts(
  tokenizer: Tokenizer,
  examples: readonly Example[],
  o: { maxLength: number; lineByLine: boolean },
): MlmExample[] {
  const texts = examples.map((e) => {
    if (e.kind !== 'text') throw new Error(`masked-lm needs text examples, got ${e.kind}`);
    return e;
  });
  if (o.lineByLine) {
    return texts
      .filter((e) => e.text.trim().length > 0)
      .map((e) => {
        const enc = tokenizer.encode(e.text, null, { maxLength: o.maxLength });
        const wordIds = wordIdsFromOffsets(enc.offsets, enc.specialTokensMask);
        return { inputIds: enc.ids, specialMask: enc.specialTokensMask, wordIds, line: e.source.line };
      });
  }
  const ids: number[] = [];
  const special: number[] = [];
  const words: (number | null)[] = [];
  let wordBase = 0;
  for (const e of texts) {
    const enc = tokenizer.encode(e.text, null);
    const wordIds = wordIdsFromOffsets(enc.offsets, enc.specialTokensMask);
    let top = -1;
    enc.ids.forEach((id, t) => {
      const w = wordIds[t] ?? null;
      ids.push(id);
      special.push(enc.specialTokensMask[t] ?? 0);
      words.push(w === null ? null : wordBase + w);
      if (w !== null && w > top) top = w;
    });
    wordBase += top + 1;
  }
  const blocks: MlmExample[] = [];
  for (let i = 0; i + o.maxLength <= ids.length; i += o.maxLength) {
    blocks.push({
      inputIds: ids.slice(i, i + o.maxLength),
      specialMask: special.slice(i, i + o.maxLength),
      wordIds: words.slice(i, i + o.maxLength),
    });
  }
  if (blocks.length === 0 && texts.length > 0) {
    throw new Error(
      `masked-lm: the texts hold ${ids.length} tokens, fewer than one block of data.max_length ${o.maxLength}; ` +
        'lower data.max_length, add text, or set data.line_by_line: true',
    );
  }
  return blocks;
}
