// Runs the library's tokenizer model (WordPiece, BPE, Unigram) on one pre-token and says which
// units of the pre-token each resulting token covers.
//
// The model algorithms themselves are the library's: WordPiece's greedy longest match, BPE's merge
// queue and Unigram's Viterbi lattice. They return token strings only, so the covered ranges are
// recovered from the strings: WordPiece pieces are the word's characters (after the "##" prefix),
// BPE pieces concatenate to the word (once its end-of-word / continuing suffixes are removed), and
// Unigram pieces are substrings of the word. Unknown-token handling and fuse_unk are reproduced as
// the library's `TokenizerModel` applies them, so the ids are the library's ids.
import type { LibModel } from './library.js';

export interface Piece {
  id: number;
  /** The vocabulary entry of `id`. */
  token: string;
  /** Units [from, to) of the pre-token this token covers. */
  from: number;
  to: number;
}

export type WordModel = (word: string) => Piece[];

interface Raw {
  text: string;
  id: number | undefined;
  from: number;
  to: number;
}

function finish(model: LibModel, raws: Raw[]): Piece[] {
  const unk = model.unk_token_id;
  let list = raws;
  // fuse_unk: a run of unknown tokens becomes one token covering the whole run.
  if (model.fuse_unk && unk !== undefined) {
    list = [];
    for (const r of raws) {
      const last = list[list.length - 1];
      if (last && (last.id ?? unk) === unk && (r.id ?? unk) === unk) last.to = r.to;
      else list.push({ ...r });
    }
  }
  const out: Piece[] = [];
  for (const r of list) {
    // As the library: a string outside the vocabulary is the unknown token, or dropped without one.
    const id = r.id ?? unk;
    if (id === undefined) continue;
    out.push({ id, token: model.vocab[id] ?? r.text, from: r.from, to: r.to });
  }
  return out;
}

function wordPiece(model: LibModel): WordModel {
  const prefix =
    typeof model.config.continuing_subword_prefix === 'string' ? model.config.continuing_subword_prefix : '##';
  return (word) => {
    const tokens = model([word]);
    const raws: Raw[] = [];
    let pos = 0;
    for (const [i, t] of tokens.entries()) {
      const n = i > 0 && t.startsWith(prefix) ? t.length - prefix.length : t.length;
      raws.push({ text: t, id: model.tokens_to_ids.get(t), from: pos, to: pos + n });
      pos += n;
    }
    // The word became [UNK] (no split found, or too long): the token covers all of it.
    if (pos !== word.length) return finish(model, [{ text: word, id: model.unk_token_id, from: 0, to: word.length }]);
    return finish(model, raws);
  };
}

function bpe(model: LibModel, merge: (word: string) => string[]): WordModel {
  const eow = model.end_of_word_suffix ?? '';
  const cont = model.continuing_subword_suffix ?? '';
  const fallback = model.byte_fallback === true;
  const utf8 = new TextEncoder();
  return (word) => {
    if (model.ignore_merges && model.tokens_to_ids.has(word)) {
      return finish(model, [{ text: word, id: model.tokens_to_ids.get(word), from: 0, to: word.length }]);
    }
    const pieces = merge(word);
    const raws: Raw[] = [];
    let pos = 0;
    for (const [i, p] of pieces.entries()) {
      let n = p.length;
      if (i === pieces.length - 1 && eow && p.endsWith(eow)) n -= eow.length;
      else if (i < pieces.length - 1 && cont && p.endsWith(cont)) n -= cont.length;
      const range = { from: pos, to: pos + n };
      pos += n;
      if (model.tokens_to_ids.has(p)) {
        raws.push({ text: p, id: model.tokens_to_ids.get(p), ...range });
        continue;
      }
      if (fallback) {
        const bytes = Array.from(utf8.encode(p), (b) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
        if (bytes.every((b) => model.tokens_to_ids.has(b))) {
          for (const b of bytes) raws.push({ text: b, id: model.tokens_to_ids.get(b), ...range });
          continue;
        }
      }
      if (model.unk_token != null) raws.push({ text: p, id: model.unk_token_id, ...range });
    }
    return finish(model, raws);
  };
}

function unigram(model: LibModel, lattice: (word: string) => string[]): WordModel {
  return (word) => {
    const raws: Raw[] = [];
    let pos = 0;
    for (const p of lattice(word)) {
      raws.push({ text: p, id: model.tokens_to_ids.get(p), from: pos, to: pos + p.length });
      pos += p.length;
    }
    return finish(model, raws);
  };
}

/**
 * Words cached per tokenizer, as the Rust crate's BPE cache (DEFAULT_CACHE_CAPACITY 10_000): once
 * full, new words are computed but not stored. Natural text repeats a few thousand words most of
 * the time, so corpus tokenization mostly skips the model.
 */
export const WORD_CACHE_CAPACITY = 10_000;
/** Longer words are not cached (the crate's cache MAX_LENGTH): they rarely recur, and would fill it. */
const WORD_CACHE_MAX_LENGTH = 256;

/**
 * `f` with its results remembered for up to `capacity` words. The pieces are shared between
 * calls, so callers only read them.
 */
function cached(f: WordModel, capacity: number): WordModel {
  if (capacity <= 0) return f;
  const cache = new Map<string, Piece[]>();
  return (word) => {
    const hit = cache.get(word);
    if (hit) return hit;
    const pieces = f(word);
    if (word.length <= WORD_CACHE_MAX_LENGTH && cache.size < capacity) cache.set(word, pieces);
    return pieces;
  };
}

/** The per-word model of a library tokenizer, with covered ranges, cached per word. */
export function buildWordModel(model: LibModel, cacheCapacity = WORD_CACHE_CAPACITY): WordModel {
  return cached(uncachedWordModel(model), cacheCapacity);
}

function uncachedWordModel(model: LibModel): WordModel {
  const type = model.config.type;
  if (type === 'WordPiece') return wordPiece(model);
  if (model.bpe) return bpe(model, model.bpe.bind(model));
  if (model.tokenize) return unigram(model, model.tokenize.bind(model));
  // Other models (the library's vocabulary-lookup fallback): each token covers the whole word.
  return (word) =>
    finish(
      model,
      model([word]).map((t) => ({ text: t, id: model.tokens_to_ids.get(t), from: 0, to: word.length })),
    );
}
