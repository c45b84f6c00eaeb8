// The BPE trainer of Hugging Face `tokenizers` (tokenizers/src/models/bpe/trainer.rs), which its
// WordPiece trainer also runs (with the "##" continuing-subword prefix): the alphabet, then merges
// of the most frequent adjacent pair until the vocabulary is full.
//
// Same order of operations and the same tie breaking: special tokens first, then the alphabet
// sorted by code point, then each merge takes the pair with the highest count, ties going to the
// smaller (left id, right id), as the trainer's heap orders `Merge`. Two places where the Rust
// trainer's result depends on hash-map iteration order are made deterministic here, so a corpus
// gives one vocabulary: words are visited in first-seen order (which fixes the ids of the
// "##x" continuation pieces), and limit_alphabet drops, among characters of equal count, the
// higher code point first. A pair is merged in all its words at once (the Rust heap can hold two
// entries for one pair when two different merges produce the same string, and then records the
// merge twice; the vocabulary is the same).
import { MaxHeap } from './heap.js';

export interface BpeOptions {
  vocabSize: number;
  /** A pair seen fewer times is never merged (the trainer stops at the first such pair). */
  minFrequency: number;
  /** Added first, in this order, with ids 0.. */
  specialTokens: readonly string[];
  /** Characters in the alphabet even when the corpus lacks them (ByteLevel's 256). */
  initialAlphabet?: readonly string[];
  /** Keep at most this many characters, the most frequent (initial ones count as infinitely frequent). */
  limitAlphabet?: number;
  /** WordPiece's "##": prefixed to every character but a word's first. */
  continuingSubwordPrefix?: string;
}

export interface BpeResult {
  /** Tokens by id. */
  vocab: string[];
  /** Merges in rank order, as pairs of token strings. */
  merges: [string, string][];
  /** Size of the alphabet the merges started from (special tokens not counted). */
  alphabetSize: number;
}

/** Pairs of ids as one number (ids stay below 2^26, so the key is exact in a double). */
const SHIFT = 2 ** 26;
const pairKey = (a: number, b: number) => a * SHIFT + b;

/** The alphabet the trainer keeps: code points by descending count, cut to the limit, then sorted. */
function computeAlphabet(words: ReadonlyMap<string, number>, options: BpeOptions): string[] {
  const counts = new Map<string, number>();
  for (const [word, count] of words) {
    for (const ch of word) counts.set(ch, (counts.get(ch) ?? 0) + count);
  }
  for (const ch of options.initialAlphabet ?? []) counts.set(ch, Number.POSITIVE_INFINITY);
  const cp = (ch: string) => ch.codePointAt(0) as number;
  let kept = [...counts.entries()];
  const limit = options.limitAlphabet;
  if (limit !== undefined && kept.length > limit) {
    kept.sort((x, y) => x[1] - y[1] || cp(y[0]) - cp(x[0]));
    kept = kept.slice(kept.length - limit);
  }
  return kept.map(([ch]) => ch).sort((x, y) => cp(x) - cp(y));
}

/**
 * Merges pair (a, b) into `rep` wherever it occurs in `word`, left to right, and reports the
 * neighbouring pairs that disappear (-1) and appear (+1), as Word::merge does.
 */
function mergeWord(word: number[], a: number, b: number, rep: number, change: (pair: number, delta: number) => void) {
  for (let i = 0; i < word.length - 1; i++) {
    if (word[i] !== a || word[i + 1] !== b) continue;
    if (i > 0) {
      const prev = word[i - 1] as number;
      change(pairKey(prev, a), -1);
      change(pairKey(prev, rep), 1);
    }
    word.splice(i, 2, rep);
    if (i < word.length - 1) {
      const next = word[i + 1] as number;
      change(pairKey(b, next), -1);
      change(pairKey(rep, next), 1);
    }
  }
}

/** Records that word `w` holds pair `key`. */
function addPosition(where: Map<number, Set<number>>, key: number, w: number): void {
  const set = where.get(key);
  if (set) set.add(w);
  else where.set(key, new Set([w]));
}

/** Trains BPE on word counts (each word a pre-token, counted over the corpus). */
export function trainBpe(words: ReadonlyMap<string, number>, options: BpeOptions): BpeResult {
  const vocab: string[] = [];
  const ids = new Map<string, number>();
  const add = (token: string): number => {
    let id = ids.get(token);
    if (id === undefined) {
      id = vocab.length;
      vocab.push(token);
      ids.set(token, id);
    }
    return id;
  };
  for (const t of options.specialTokens) add(t);
  const alphabet = computeAlphabet(words, options);
  for (const ch of alphabet) add(ch);

  // Each word as ids; characters left out of the alphabet are dropped, as the trainer does.
  const prefix = options.continuingSubwordPrefix;
  const symbols: number[][] = [];
  const counts: number[] = [];
  for (const [word, count] of words) {
    const chars = [...word];
    const ws: number[] = [];
    for (const [i, ch] of chars.entries()) {
      if (!ids.has(ch)) continue;
      ws.push(add(i > 0 && prefix ? prefix + ch : ch));
    }
    symbols.push(ws);
    counts.push(count);
  }

  const pairCounts = new Map<number, number>();
  const where = new Map<number, Set<number>>();
  for (const [w, ws] of symbols.entries()) {
    const count = counts[w] as number;
    for (let i = 0; i < ws.length - 1; i++) {
      const key = pairKey(ws[i] as number, ws[i + 1] as number);
      pairCounts.set(key, (pairCounts.get(key) ?? 0) + count);
      addPosition(where, key, w);
    }
  }
  // Highest count first; equal counts: the smaller pair (left id, then right id) first.
  const heap = new MaxHeap();
  for (const [key, count] of pairCounts) if (count > 0) heap.push(count, key);

  const merges: [string, string][] = [];
  while (vocab.length < options.vocabSize && heap.size > 0) {
    const { priority: count, key } = heap.pop();
    const current = pairCounts.get(key);
    if (current === undefined) continue; // already merged
    if (count !== current) {
      heap.push(current, key);
      continue;
    }
    if (count < 1 || count < options.minFrequency) break;
    const a = Math.floor(key / SHIFT);
    const b = key - a * SHIFT;
    const left = vocab[a] as string;
    let right = vocab[b] as string;
    if (prefix && right.startsWith(prefix)) right = right.slice(prefix.length);
    const rep = add(left + right);
    merges.push([left, vocab[b] as string]);

    const touched = new Set<number>();
    for (const w of where.get(key) ?? []) {
      const n = counts[w] as number;
      mergeWord(symbols[w] as number[], a, b, rep, (pair, delta) => {
        pairCounts.set(pair, (pairCounts.get(pair) ?? 0) + delta * n);
        if (delta > 0) {
          addPosition(where, pair, w);
          touched.add(pair);
        }
      });
    }
    pairCounts.delete(key);
    where.delete(key);
    for (const pair of touched) {
      const c = pairCounts.get(pair) ?? 0;
      if (c > 0) heap.push(c, pair);
    }
  }
  return { vocab, merges, alphabetSize: alphabet.length };
}
