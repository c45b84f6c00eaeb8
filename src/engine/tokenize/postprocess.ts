// tokenizer.json "post_processor" entries as templates, and the truncation arithmetic of the Rust
// `tokenizers` crate (what transformers' fast tokenizers use for training data).
import type { Json } from './library.js';

/** One tokenized sequence before special tokens are added. */
export interface SequenceTokens {
  ids: number[];
  tokens: string[];
  offsets: [number, number][];
  wordIds: (number | null)[];
}

export interface Encoding {
  ids: number[];
  tokens: string[];
  attentionMask: number[];
  tokenTypeIds: number[];
  /** [start, end) in the text of the token's own sequence (JavaScript string indices); specials [0, 0]. */
  offsets: [number, number][];
  /** 0 for tokens of the first text, 1 for the pair's, null for special and padding tokens. */
  sequenceIds: (0 | 1 | null)[];
  /** Index of the word (pre-token, or input word for encodeWords) the token belongs to. */
  wordIds: (number | null)[];
  specialTokensMask: number[];
}

export type TruncationStrategy = 'longest_first' | 'only_first' | 'only_second';

type Item =
  | { kind: 'special'; ids: number[]; tokens: string[]; typeId: number }
  | { kind: 'sequence'; seq: 0 | 1; typeId: number };

export interface PostProcessor {
  single: Item[];
  pair: Item[];
  /** ByteLevel / RobertaProcessing trim_offsets: offsets leave out the spaces a token starts or ends with. */
  trimOffsets: boolean;
}

const A = (typeId: number): Item => ({ kind: 'sequence', seq: 0, typeId });
const B = (typeId: number): Item => ({ kind: 'sequence', seq: 1, typeId });

function special(entry: unknown, typeId: number): Item {
  const [token, id] = entry as [string, number];
  return { kind: 'special', ids: [id], tokens: [token], typeId };
}

function template(items: Json[], specials: Json, idOf: (token: string) => number | undefined): Item[] {
  return items.map((item) => {
    const seq = item.Sequence as { id: string; type_id?: number } | undefined;
    if (seq) return seq.id === 'B' ? B(seq.type_id ?? 0) : A(seq.type_id ?? 0);
    const sp = item.SpecialToken as { id: string; type_id?: number };
    const def = specials[sp.id] as { ids?: number[]; tokens?: string[] } | undefined;
    const id = idOf(sp.id);
    const ids = def?.ids ?? (id === undefined ? [] : [id]);
    return { kind: 'special', ids, tokens: def?.tokens ?? ids.map(() => sp.id), typeId: sp.type_id ?? 0 };
  });
}

/** Builds the template a tokenizer.json "post_processor" entry describes (null: sequences only). */
export function buildPostProcessor(
  config: Json | null | undefined,
  idOf: (token: string) => number | undefined,
): PostProcessor {
  const plain: PostProcessor = { single: [A(0)], pair: [A(0), B(1)], trimOffsets: false };
  if (!config) return plain;
  switch (config.type) {
    case 'TemplateProcessing': {
      const specials = (config.special_tokens as Json | undefined) ?? {};
      return {
        single: template((config.single as Json[] | undefined) ?? [], specials, idOf),
        pair: template((config.pair as Json[] | undefined) ?? [], specials, idOf),
        trimOffsets: false,
      };
    }
    case 'BertProcessing': {
      const [cls, sep] = [special(config.cls, 0), special(config.sep, 0)];
      return { single: [cls, A(0), sep], pair: [cls, A(0), sep, B(1), special(config.sep, 1)], trimOffsets: false };
    }
    case 'RobertaProcessing': {
      // Every RoBERTa token has type id 0 (its embedding table has one row), pair included.
      const [cls, sep] = [special(config.cls, 0), special(config.sep, 0)];
      return {
        single: [cls, A(0), sep],
        pair: [cls, A(0), sep, sep, B(0), sep],
        trimOffsets: config.trim_offsets !== false,
      };
    }
    case 'ByteLevel':
      return { ...plain, trimOffsets: config.trim_offsets === true };
    case 'Sequence': {
      let out = plain;
      for (const c of (config.processors as Json[] | undefined) ?? []) {
        const p = buildPostProcessor(c, idOf);
        out =
          c.type === 'ByteLevel'
            ? { ...out, trimOffsets: out.trimOffsets || p.trimOffsets }
            : { ...p, trimOffsets: out.trimOffsets || p.trimOffsets };
      }
      return out;
    }
    default:
      throw new Error(`tokenizer.json: post_processor type ${String(config.type)} is not supported`);
  }
}

/** How many special tokens the template adds to a single text or a pair. */
export function numSpecialTokens(pp: PostProcessor, pair: boolean): number {
  return (pair ? pp.pair : pp.single).reduce((n, item) => n + (item.kind === 'special' ? item.ids.length : 0), 0);
}

/** Joins one or two sequences with the template's special tokens and type ids. */
export function assemble(
  pp: PostProcessor,
  a: SequenceTokens,
  b: SequenceTokens | null,
  addSpecial: boolean,
): Encoding {
  const e: Encoding = {
    ids: [],
    tokens: [],
    attentionMask: [],
    tokenTypeIds: [],
    offsets: [],
    sequenceIds: [],
    wordIds: [],
    specialTokensMask: [],
  };
  for (const item of b ? pp.pair : pp.single) {
    if (item.kind === 'special') {
      if (!addSpecial) continue;
      for (const [k, id] of item.ids.entries()) {
        e.ids.push(id);
        e.tokens.push(item.tokens[k] ?? '');
        e.tokenTypeIds.push(item.typeId);
        e.offsets.push([0, 0]);
        e.sequenceIds.push(null);
        e.wordIds.push(null);
        e.specialTokensMask.push(1);
      }
      continue;
    }
    const s = item.seq === 0 ? a : b;
    if (!s) continue;
    // One push per token: spreading a long context into push() would overflow the call stack.
    for (let k = 0; k < s.ids.length; k++) {
      const [x, y] = s.offsets[k] as [number, number];
      e.ids.push(s.ids[k] as number);
      e.tokens.push(s.tokens[k] as string);
      e.offsets.push([x, y]);
      e.wordIds.push(s.wordIds[k] ?? null);
      e.tokenTypeIds.push(item.typeId);
      e.sequenceIds.push(item.seq);
      e.specialTokensMask.push(0);
    }
  }
  e.attentionMask = e.ids.map(() => 1);
  return e;
}

export function sliceSequence(s: SequenceTokens, from: number, to: number): SequenceTokens {
  return {
    ids: s.ids.slice(from, to),
    tokens: s.tokens.slice(from, to),
    offsets: s.offsets.slice(from, to),
    wordIds: s.wordIds.slice(from, to),
  };
}

/**
 * How many tokens of each sequence survive truncation to `budget` tokens (max length minus the
 * special tokens), as the Rust crate computes it. longest_first takes tokens from the longer
 * sequence until both are equal, then splits the budget (the extra token to the longer one, or to
 * the pair on a tie). A single text is cut to the budget under every strategy.
 */
export function truncatedLengths(
  n1: number,
  n2: number | null,
  budget: number,
  strategy: TruncationStrategy,
): [number, number | null] {
  if (budget < 0) throw new Error(`Truncation: max length is shorter than the special tokens (${-budget} too few)`);
  const total = n1 + (n2 ?? 0);
  if (total <= budget) return [n1, n2];
  if (n2 === null) return [budget, null];
  const remove = total - budget;
  if (strategy === 'only_first' || strategy === 'only_second') {
    const [len, which] = strategy === 'only_first' ? [n1, 'first'] : [n2, 'second'];
    if (len <= remove) {
      throw new Error(
        `Truncation (${strategy}): the ${which} sequence has ${len} tokens, too few to remove ${remove}; ` +
          'raise max length or use longest_first',
      );
    }
    return strategy === 'only_first' ? [n1 - remove, n2] : [n1, n2 - remove];
  }
  let short = Math.min(n1, n2);
  let long = short > budget ? short : Math.max(short, budget - short);
  if (short + long > budget) {
    short = Math.floor(budget / 2);
    long = short + (budget % 2);
  }
  return n1 > n2 ? [long, short] : [short, long];
}

/**
 * Windows [start, end) over n tokens, `capacity` long, each starting `capacity - stride` after the
 * previous one (so consecutive windows share `stride` tokens) until one reaches the end.
 */
export function windowRanges(n: number, capacity: number, stride: number): [number, number][] {
  if (n <= capacity) return [[0, n]];
  if (stride < 0 || stride >= capacity) {
    throw new Error(
      `Overflow windows: stride ${stride} must be smaller than the ${capacity} tokens left for the context ` +
        '(max length minus the question and special tokens)',
    );
  }
  const out: [number, number][] = [];
  for (let start = 0; ; start += capacity - stride) {
    const end = Math.min(start + capacity, n);
    out.push([start, end]);
    if (end === n) return out;
  }
}
