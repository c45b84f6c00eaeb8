import { Concatenation } from '../../corpus/concatenation.js';
import type { TokenCorpus } from '../../corpus/store.js';
import type { CorpusStreaming } from '../task.js';
import { collateStep, collateWeighted, type LmExample } from './batches.js';
import { evaluateLmItems, lmMetrics } from './evaluate.js';

/**
 * Causal-LM text examples read from a tokenized-corpus cache a batch at a time, the same that
 * encodeTexts (recipe.ts) makes in memory: without packing, each text truncated to max_length
 * and kept when it has at least 2 tokens; with packing, the non-empty texts joined by EOS and cut
 * into max_length blocks, the last one kept when it has 2 tokens or more. An example is its index.
 */
export interface LmCorpusExamples {
  count: number;
  lengthOf(item: number): number;
  examples(items: readonly number[]): LmExample[];
}

export function lmCorpusExamples(
  corpus: TokenCorpus,
  texts: Uint32Array,
  o: { maxLength: number; packing: boolean; eos: number | null },
): LmCorpusExamples {
  if (!o.packing) {
    const items = texts.filter((t) => corpus.lengthOf(t) >= 2);
    return {
      count: items.length,
      lengthOf: (i) => corpus.lengthOf(items[i] as number),
      examples: (list) => list.map((i) => ({ inputIds: Array.from(corpus.text(items[i] as number).ids) })),
    };
  }
  const eos = o.eos;
  if (eos === null) throw new Error('data.packing needs an EOS token to separate texts (eos_token_id)');
  const kept = texts.filter((t) => corpus.lengthOf(t) > 0);
  // Segment j of the stream: an EOS (except before the first text), then text j's tokens.
  const stream = new Concatenation(kept.length, (j) => corpus.lengthOf(kept[j] as number) + (j > 0 ? 1 : 0));
  const total = stream.total;
  const L = o.maxLength;
  const lastLength = total % L;
  // Blocks shorter than 2 tokens predict nothing and are dropped, as encodeTexts drops them.
  const count = L < 2 ? 0 : Math.floor(total / L) + (lastLength >= 2 ? 1 : 0);
  const block = (b: number): LmExample => {
    const end = Math.min((b + 1) * L, total);
    const ids: number[] = [];
    let p = b * L;
    for (let j = stream.pieceAt(p); p < end; j++) {
      const base = stream.starts[j] as number;
      const lead = j > 0 ? 1 : 0;
      if (lead && p === base) {
        ids.push(eos);
        p++;
        if (p === end) break;
      }
      const to = Math.min(end, stream.starts[j + 1] as number);
      for (const id of corpus.text(kept[j] as number, p - base - lead, to - base - lead).ids) ids.push(id);
      p = to;
    }
    return { inputIds: ids };
  };
  return {
    count,
    lengthOf: (b) => Math.min((b + 1) * L, total) - b * L,
    examples: (list) => list.map(block),
  };
}

/** The causal-lm recipe's side of a streamed corpus (text rows; the n-gram baseline is not computed). */
export function causalLmStreaming(o: {
  maxLength: number;
  packing: boolean;
  eos: number | null;
  padId: number;
  accumulation: number;
}): CorpusStreaming {
  return {
    // Packing joins whole texts; otherwise each text is cut as encodeTexts cuts it.
    encoding: { maxLength: o.packing ? null : o.maxLength, blankAsEmpty: false },
    open(corpus, texts) {
      const source = lmCorpusExamples(corpus, texts, o);
      return {
        count: source.count,
        collate: (items) => collateWeighted(source.examples(items), o.padId),
        collateStep: (micro) =>
          collateStep(
            micro.map((m) => source.examples(m)),
            o.padId,
            o.accumulation,
          ),
        tokensOf: (item) => source.lengthOf(item),
        evaluate: async (evaluator, items, metrics, batchSize) =>
          lmMetrics(await evaluateLmItems(evaluator, items, source.examples, batchSize, o.padId), metrics),
      };
    },
  };
}
