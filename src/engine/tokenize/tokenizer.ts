// The engine's tokenizer: a Hugging Face tokenizer.json (+ tokenizer_config.json and
// special_tokens_map.json) read through @huggingface/tokenizers, with the offsets, word ids,
// sequence ids, truncation, overflow windows and padding that fine-tuning needs and the library
// does not give. The library supplies the models and the vocabulary; normalization and
// pre-tokenization are redone on aligned text (see aligned.ts) so each token knows its characters.
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { MAX_MODEL_JSON_BYTES, MAX_TOKENIZER_BYTES } from '../../shared/limits.js';
import { readJsonBounded } from '../util/bounded-read.js';
import { AddedTokenSplitter, type Section } from './added-tokens.js';
import { type Aligned, identity, lowercase, mapCodePoints, replaceAll, slice, spanOf, trim } from './aligned.js';
import { createLibTokenizer, type Json, type LibAddedToken, type LibTokenizer } from './library.js';
import { buildWordModel, type WordModel } from './models.js';
import { type AlignedNormalizer, buildNormalizer } from './normalizers.js';
import {
  assemble,
  buildPostProcessor,
  type Encoding,
  numSpecialTokens,
  type PostProcessor,
  type SequenceTokens,
  sliceSequence,
  type TruncationStrategy,
  truncatedLengths,
  windowRanges,
} from './postprocess.js';
import { type AlignedPreTokenizer, buildPreTokenizer } from './pretokenizers.js';

export type { Encoding, TruncationStrategy };

/** A token of forEachToken: its id, its span [start, end) in the text ([0, 0] for specials), whether it is a special token. */
export type TokenVisitor = (id: number, start: number, end: number, special: boolean) => void;

export interface EncodeOptions {
  /** Total length cap, special tokens included; without it nothing is truncated. */
  maxLength?: number;
  /** How a pair is cut to maxLength (default longest_first). */
  truncation?: TruncationStrategy;
  addSpecialTokens?: boolean;
}

export interface BatchOptions extends EncodeOptions {
  /** longest (default): pad to the longest in the batch; max_length: pad to maxLength. */
  padding?: 'longest' | 'max_length';
}

export interface OverflowOptions {
  maxLength: number;
  /** Tokens shared by consecutive windows of the context (transformers' doc_stride). */
  stride: number;
  addSpecialTokens?: boolean;
  /**
   * The context as the first sequence and the question as the second (truncation only_first):
   * run_qa.py's order when the tokenizer pads on the left (XLNet), so the context stays next to
   * the padding and the question next to the specials at the end.
   */
  contextFirst?: boolean;
}

/** tokenizer_config.json writes `model_max_length` as int(1e30) when the model has no limit. */
const NO_MAX_LENGTH = 1e29;
/** The GPT-2 byte character of a space, which trim_offsets leaves out of offsets. */
const BYTE_SPACE = '\u0120';
const SPACE = /\s/u;

/** tokenizer.json, or one of the small JSON files beside it, read within its size limit. */
function readJson(path: string, limit = MAX_MODEL_JSON_BYTES): Json {
  return readJsonBounded(path, limit, `a ${basename(path)}`) as Json;
}

/** A special token as tokenizer_config writes it: a string or an AddedToken object. */
function tokenText(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as Json).content === 'string') {
    return (value as Json).content as string;
  }
  return null;
}

/**
 * What a transformers tokenizer class sets as class attributes, which no saved file repeats:
 * XLNetTokenizer(Fast) pads on the left with pad_token_type_id 3.
 */
function tokenizerClassDefaults(tokenizerClass: unknown): { side: 'left' | 'right'; padTypeId: number } {
  if (tokenizerClass === 'XLNetTokenizer' || tokenizerClass === 'XLNetTokenizerFast')
    return { side: 'left', padTypeId: 3 };
  return { side: 'right', padTypeId: 0 };
}

export class Tokenizer {
  readonly lib: LibTokenizer;
  readonly padTokenId: number | null;
  readonly clsTokenId: number | null;
  readonly sepTokenId: number | null;
  readonly eosTokenId: number | null;
  readonly bosTokenId: number | null;
  readonly unkTokenId: number | null;
  readonly maskTokenId: number | null;
  /** tokenizer_config's model_max_length, or null when it is the "no limit" sentinel or absent. */
  readonly modelMaxLength: number | null;
  readonly paddingSide: 'left' | 'right';
  readonly padTypeId: number;
  private readonly normalizer: AlignedNormalizer | null;
  private readonly preTokenizer: AlignedPreTokenizer | null;
  /** For pre-split words: byte-level steps add a prefix space to each word, as transformers requires. */
  private readonly wordsPreTokenizer: AlignedPreTokenizer | null;
  private readonly model: WordModel;
  private readonly post: PostProcessor;
  private readonly rawAdded: AddedTokenSplitter;
  private readonly normalizedAdded: AddedTokenSplitter;
  private readonly removeSpace: boolean;
  private readonly lowercaseAndRemoveAccent: boolean;

  /** Reads tokenizer.json, tokenizer_config.json and special_tokens_map.json from a model folder. */
  static fromFolder(dir: string): Tokenizer {
    const path = join(dir, 'tokenizer.json');
    if (!existsSync(path)) {
      // MarianTokenizer has no fast version in transformers, so its save_pretrained writes no
      // tokenizer.json, and no maintained SentencePiece reader for Node is used here.
      if (existsSync(join(dir, 'source.spm')) || existsSync(join(dir, 'target.spm')))
        throw new Error(
          `${dir}: a Marian folder with SentencePiece models (source.spm, target.spm) but no tokenizer.json: ` +
            'MarianTokenizer has no fast tokenizer in transformers, so save_pretrained does not write one. ' +
            'Convert source.spm to a tokenizer.json (transformers.js and onnxruntime-extensions ship a MarianConverter ' +
            'for this) or use a repository that has one, such as Xenova/opus-mt-en-de; such a tokenizer.json ' +
            'tokenizes sources and targets alike with source.spm',
        );
      throw new Error(`${dir}: no tokenizer.json (save the tokenizer with a fast tokenizer to create one)`);
    }
    const optional = (name: string) => (existsSync(join(dir, name)) ? readJson(join(dir, name)) : {});
    return new Tokenizer(
      readJson(path, MAX_TOKENIZER_BYTES),
      optional('tokenizer_config.json'),
      optional('special_tokens_map.json'),
    );
  }

  constructor(tokenizerJson: Json, tokenizerConfig: Json = {}, specialTokensMap: Json = {}) {
    // tokenizer_config wins over special_tokens_map, as in transformers.
    const settings: Json = { ...specialTokensMap, ...tokenizerConfig };
    const flat: Json = { ...settings };
    for (const [key, value] of Object.entries(settings)) {
      if (key.endsWith('_token') && tokenText(value) !== null) flat[key] = tokenText(value);
    }
    if (Array.isArray(settings.additional_special_tokens)) {
      flat.additional_special_tokens = settings.additional_special_tokens.map(tokenText).filter((t) => t !== null);
    }
    delete flat.added_tokens_decoder;
    this.lib = createLibTokenizer(tokenizerJson, flat);
    const idOf = (key: string): number | null => {
      const text = tokenText(flat[key]);
      return text === null ? null : (this.lib.token_to_id(text) ?? null);
    };
    const padding = (tokenizerJson.padding as Json | null | undefined) ?? null;
    this.padTokenId = idOf('pad_token') ?? (typeof padding?.pad_id === 'number' ? padding.pad_id : null);
    this.clsTokenId = idOf('cls_token');
    this.sepTokenId = idOf('sep_token');
    this.eosTokenId = idOf('eos_token');
    this.bosTokenId = idOf('bos_token');
    this.unkTokenId = idOf('unk_token');
    this.maskTokenId = idOf('mask_token');
    const maxLength = flat.model_max_length;
    this.modelMaxLength = typeof maxLength === 'number' && maxLength < NO_MAX_LENGTH ? maxLength : null;
    const classDefaults = tokenizerClassDefaults(flat.tokenizer_class);
    const side =
      flat.padding_side ?? (padding ? (padding.direction === 'Left' ? 'left' : 'right') : classDefaults.side);
    this.paddingSide = side === 'left' ? 'left' : 'right';
    this.padTypeId = typeof padding?.pad_type_id === 'number' ? padding.pad_type_id : classDefaults.padTypeId;

    this.normalizer = buildNormalizer(tokenizerJson.normalizer as Json | null);
    this.preTokenizer = buildPreTokenizer(tokenizerJson.pre_tokenizer as Json | null);
    this.wordsPreTokenizer = buildPreTokenizer(tokenizerJson.pre_tokenizer as Json | null, { forcePrefixSpace: true });
    this.model = buildWordModel(this.lib.model);
    this.post = buildPostProcessor(tokenizerJson.post_processor as Json | null, (t) => this.lib.token_to_id(t));
    this.removeSpace = flat.remove_space === true;
    this.lowercaseAndRemoveAccent = flat.do_lowercase_and_remove_accent === true;
    // As the library: added tokens marked normalized are looked for in the normalized text.
    const raw: { content: string; token: LibAddedToken }[] = [];
    const normalized: { content: string; token: LibAddedToken }[] = [];
    for (const token of this.lib.get_added_tokens_decoder().values()) {
      if (token.normalized && this.normalizer) {
        normalized.push({ content: this.normalizer(identity(token.content)).text, token });
      } else {
        raw.push({ content: token.content, token });
      }
    }
    this.rawAdded = new AddedTokenSplitter(raw);
    this.normalizedAdded = new AddedTokenSplitter(normalized);
  }

  get vocabSize(): number {
    return this.lib.model.vocab.length;
  }

  tokenToId(token: string): number | null {
    return this.lib.token_to_id(token) ?? null;
  }

  idToToken(id: number): string | null {
    return this.lib.id_to_token(id) ?? null;
  }

  /** Tokenizes one text, or a pair, with offsets into each text and optional truncation. */
  encode(text: string, pair?: string | null, options: EncodeOptions = {}): Encoding {
    const a = this.collect(text, this.preTokenizer);
    const b = pair == null ? null : this.collect(pair, this.preTokenizer);
    return this.finish(a, b, options);
  }

  /**
   * The tokens of `encode(text, null, { maxLength })` (whole text when maxLength is null), each
   * given to `visit` in order, without building an Encoding: no token strings, offset pairs or
   * per-token arrays, for corpus tokenization. Returns the number of tokens.
   */
  forEachToken(text: string, maxLength: number | null, visit: TokenVisitor): number {
    const budget = maxLength === null ? Number.POSITIVE_INFINITY : maxLength - numSpecialTokens(this.post, false);
    // The same check, and message, as truncating an Encoding.
    if (budget < 0) truncatedLengths(0, null, budget, 'longest_first');
    let count = 0;
    for (const item of this.post.single) {
      if (item.kind === 'special') {
        for (const id of item.ids) visit(id, 0, 0, true);
        count += item.ids.length;
        continue;
      }
      if (item.seq !== 0) continue;
      let kept = 0;
      this.sequence(text, this.preTokenizer, (id, _token, start, end) => {
        if (kept >= budget) return;
        kept++;
        visit(id, start, end, false);
      });
      count += kept;
    }
    return count;
  }

  /**
   * Tokenizes pre-split words (token classification): each word is tokenized on its own and its
   * tokens carry the word's index in wordIds, so a label goes to the first token of each word.
   * Offsets are relative to each word, as Hugging Face gives them.
   */
  encodeWords(words: readonly string[], pairWords?: readonly string[] | null, options: EncodeOptions = {}): Encoding {
    const a = this.wordSequence(words);
    const b = pairWords == null ? null : this.wordSequence(pairWords);
    return this.finish(a, b, options);
  }

  /** Encodes texts or [text, pair] tuples and pads them to the same length. */
  encodeBatch(inputs: readonly (string | readonly [string, string])[], options: BatchOptions = {}): Encoding[] {
    const encodings = inputs.map((input) =>
      typeof input === 'string' ? this.encode(input, null, options) : this.encode(input[0], input[1], options),
    );
    const length = options.padding === 'max_length' ? options.maxLength : undefined;
    return this.pad(encodings, length);
  }

  /**
   * Question answering: tokenizes question and context and cuts the context into windows that
   * fit maxLength with the question, consecutive windows sharing `stride` tokens, as
   * transformers does with truncation="only_second" (only_first when `contextFirst`),
   * return_overflowing_tokens and doc_stride.
   */
  encodeWithOverflow(question: string, context: string, options: OverflowOptions): Encoding[] {
    const addSpecial = options.addSpecialTokens ?? true;
    const q = this.collect(question, this.preTokenizer);
    const c = this.collect(context, this.preTokenizer);
    const capacity = options.maxLength - (addSpecial ? numSpecialTokens(this.post, true) : 0) - q.ids.length;
    if (capacity <= 0) {
      throw new Error(
        `Overflow windows: the question takes ${q.ids.length} tokens, leaving no room for context ` +
          `within max length ${options.maxLength}`,
      );
    }
    return windowRanges(c.ids.length, capacity, options.stride).map(([from, to]) => {
      const window = sliceSequence(c, from, to);
      return options.contextFirst
        ? assemble(this.post, window, q, addSpecial)
        : assemble(this.post, q, window, addSpecial);
    });
  }

  /** Pads encodings to `length` (default: the longest) on the padding side; returns new encodings. */
  pad(encodings: readonly Encoding[], length?: number): Encoding[] {
    const target = encodings.reduce((n, e) => Math.max(n, e.ids.length), length ?? 0);
    const needs = encodings.some((e) => e.ids.length < target);
    if (needs && this.padTokenId === null) {
      throw new Error('Padding: this tokenizer has no pad token (set pad_token in tokenizer_config.json)');
    }
    const padId = this.padTokenId ?? 0;
    const padToken = this.lib.id_to_token(padId) ?? '';
    return encodings.map((e) => {
      const n = target - e.ids.length;
      const fill = <T>(xs: T[], v: T): T[] => {
        const extra = new Array<T>(n).fill(v);
        return this.paddingSide === 'left' ? [...extra, ...xs] : [...xs, ...extra];
      };
      return {
        ids: fill(e.ids, padId),
        tokens: fill(e.tokens, padToken),
        attentionMask: fill(e.attentionMask, 0),
        tokenTypeIds: fill(e.tokenTypeIds, this.padTypeId),
        offsets: fill<[number, number]>(e.offsets, [0, 0]).map(([s, t]): [number, number] => [s, t]),
        sequenceIds: fill<0 | 1 | null>(e.sequenceIds, null),
        wordIds: fill<number | null>(e.wordIds, null),
        specialTokensMask: fill(e.specialTokensMask, 1),
      };
    });
  }

  /** Text of token ids, through the tokenizer.json decoder. */
  decode(ids: readonly number[], skipSpecialTokens = false): string {
    if (ids.length === 0) return '';
    return this.lib.decode([...ids], { skip_special_tokens: skipSpecialTokens });
  }

  private finish(a: SequenceTokens, b: SequenceTokens | null, options: EncodeOptions): Encoding {
    const addSpecial = options.addSpecialTokens ?? true;
    const maxLength = options.maxLength ?? (options.truncation ? this.modelMaxLength : null) ?? null;
    if (maxLength === null) return assemble(this.post, a, b, addSpecial);
    const budget = maxLength - (addSpecial ? numSpecialTokens(this.post, b !== null) : 0);
    const strategy = options.truncation ?? 'longest_first';
    const [n1, n2] = truncatedLengths(a.ids.length, b ? b.ids.length : null, budget, strategy);
    return assemble(this.post, sliceSequence(a, 0, n1), b ? sliceSequence(b, 0, n2 ?? 0) : null, addSpecial);
  }

  private wordSequence(words: readonly string[]): SequenceTokens {
    const out = emptySequence();
    const emit = collectInto(out);
    for (const [i, w] of words.entries()) this.sequence(w, this.wordsPreTokenizer, emit, i);
    return out;
  }

  /** One text's tokens as arrays (see `sequence`). */
  private collect(text: string, preTokenizer: AlignedPreTokenizer | null): SequenceTokens {
    const out = emptySequence();
    this.sequence(text, preTokenizer, collectInto(out));
    return out;
  }

  /**
   * One text through added-token splitting, normalizer, pre-tokenizer and model, each token given
   * to `emit` in order. Word ids count the pre-tokens (and added tokens) in order, unless `wordId`
   * fixes them (pre-split words).
   */
  private sequence(text: string, preTokenizer: AlignedPreTokenizer | null, emit: Emit, wordId?: number): void {
    let word = 0;
    const nextWord = () => wordId ?? word++;
    // One span pair for every token: `emit` reads it before the next token overwrites it.
    const span: [number, number] = [0, 0];
    for (const [sectionIndex, section] of this.rawAdded.split(text).entries()) {
      if (section.to <= section.from) continue;
      if (section.added) {
        emit(section.added.id, section.added.content, section.from, section.to, nextWord());
        continue;
      }
      const normalized = this.normalize(identity(text.slice(section.from, section.to), section.from));
      if (normalized.text.length === 0) continue;
      const subsections: Section[] = this.normalizedAdded.empty
        ? [{ from: 0, to: normalized.text.length }]
        : this.normalizedAdded.split(normalized.text);
      for (const sub of subsections) {
        if (sub.to <= sub.from) continue;
        if (sub.added) {
          spanOf(normalized, sub.from, sub.to, span);
          emit(sub.added.id, sub.added.content, span[0], span[1], nextWord());
          continue;
        }
        const piece = slice(normalized, sub.from, sub.to);
        const words = preTokenizer ? preTokenizer([piece], { sectionIndex }) : [piece];
        for (const w of words) {
          const id = nextWord();
          for (const p of this.model(w.text)) {
            this.span(w, p.from, p.to, span);
            emit(p.id, p.token, span[0], span[1], id);
          }
        }
      }
    }
  }

  /** The config-level steps the library runs before the normalizer, then the normalizer. */
  private normalize(a: Aligned): Aligned {
    let t = a;
    if (this.removeSpace) t = replaceAll(trim(t, true, true), /\s+/gu, ' ');
    if (this.lowercaseAndRemoveAccent) t = mapCodePoints(lowercase(t), (ch) => (/^\p{M}$/u.test(ch) ? '' : ch), true);
    return this.normalizer ? this.normalizer(t) : t;
  }

  /** Original span of a token covering units [from, to) of word `w`, trimmed of spaces when asked; into `out`. */
  private span(w: Aligned, from: number, to: number, out: [number, number]): void {
    if (!this.post.trimOffsets) {
      spanOf(w, from, to, out);
      return;
    }
    const isSpace = (i: number) => w.text[i] === BYTE_SPACE || SPACE.test(w.text[i] as string);
    let s = from;
    let e = to;
    while (s < e && isSpace(s)) s++;
    while (e > s && isSpace(e - 1)) e--;
    if (s === e) {
      const end = spanOf(w, from, to, out)[1];
      out[0] = end;
      out[1] = end;
      return;
    }
    spanOf(w, s, e, out);
  }
}

/** Receives one token: id, vocabulary string, original span [start, end), word id. */
type Emit = (id: number, token: string, start: number, end: number, wordId: number) => void;

function emptySequence(): SequenceTokens {
  return { ids: [], tokens: [], offsets: [], wordIds: [] };
}

/** An Emit appending to `out`. */
function collectInto(out: SequenceTokens): Emit {
  return (id, token, start, end, wordId) => {
    out.ids.push(id);
    out.tokens.push(token);
    out.offsets.push([start, end]);
    out.wordIds.push(wordId);
  };
}
