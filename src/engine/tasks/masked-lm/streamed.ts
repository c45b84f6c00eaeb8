import { Concatenation } from '../../corpus/concatenation.js';
import { TOKEN_SPECIAL, TOKEN_WORD_START } from '../../corpus/protocol.js';
import type { TokenCorpus, TokenSpan } from '../../corpus/store.js';
import type { MlmExample } from './masking.js';

/**
 * Masked-LM examples read from a tokenized-corpus cache a batch at a time, the same examples
 * encodeMlmTexts (blocks.ts) makes in memory: line by line, one example per non-blank text (the
 * cache holds them truncated); otherwise the selected texts concatenated, in order, and cut into
 * maxLength blocks, the remainder dropped. An example is its index; only the texts' token
 * offsets (N numbers) are held, so memory follows the batch, not the corpus.
 */
export interface MlmCorpusExamples {
  count: number;
  lengthOf(item: number): number;
  examples(items: readonly number[]): MlmExample[];
}

/**
 * An example from a span's flags: specials as the mask says, and words numbered by their starts.
 * Only which tokens share a word matters to masking, so these numbers stand for the in-memory ones.
 */
function exampleOf(span: TokenSpan): MlmExample {
  const n = span.ids.length;
  const specialMask = new Array<number>(n);
  const wordIds = new Array<number | null>(n);
  let word = 0;
  for (let t = 0; t < n; t++) {
    const f = span.flags[t] as number;
    const special = (f & TOKEN_SPECIAL) !== 0;
    specialMask[t] = special ? 1 : 0;
    if (f & TOKEN_WORD_START) word++;
    wordIds[t] = special ? null : word;
  }
  return { inputIds: Array.from(span.ids), specialMask, wordIds };
}

export function mlmCorpusExamples(
  corpus: TokenCorpus,
  texts: Uint32Array,
  o: { maxLength: number; lineByLine: boolean },
): MlmCorpusExamples {
  if (o.lineByLine) {
    // Blank texts are cached with no tokens (CorpusEncoding.blankAsEmpty): run_mlm drops them.
    const items = texts.filter((t) => corpus.lengthOf(t) > 0);
    return {
      count: items.length,
      lengthOf: (i) => corpus.lengthOf(items[i] as number),
      examples: (list) => list.map((i) => exampleOf(corpus.text(items[i] as number))),
    };
  }
  const stream = new Concatenation(texts.length, (j) => corpus.lengthOf(texts[j] as number));
  const total = stream.total;
  const count = Math.floor(total / o.maxLength);
  if (count === 0 && texts.length > 0) {
    throw new Error(
      `masked-lm: the texts hold ${total} tokens, fewer than one block of data.max_length ${o.maxLength}; ` +
        'lower data.max_length, add text, or set data.line_by_line: true',
    );
  }
  const block = (b: number): MlmExample => {
    const ids = new Uint32Array(o.maxLength);
    const flags = new Uint8Array(o.maxLength);
    let p = b * o.maxLength;
    const end = p + o.maxLength;
    for (let j = stream.pieceAt(p); p < end; j++) {
      const base = stream.starts[j] as number;
      const to = Math.min(end, stream.starts[j + 1] as number);
      const span = corpus.text(texts[j] as number, p - base, to - base);
      ids.set(span.ids, p - b * o.maxLength);
      flags.set(span.flags, p - b * o.maxLength);
      p = to;
    }
    return exampleOf({ ids, flags });
  };
  return { count, lengthOf: () => o.maxLength, examples: (list) => list.map(block) };
}
