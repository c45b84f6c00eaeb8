// The one module that touches @huggingface/tokenizers, through typed views of the parts we use.
//
// The package ships a CommonJS build (exports["."].node.require), so tsx and esbuild's cjs bundle
// both load it with a plain require. Its .d.ts files use extensionless relative imports, which
// TypeScript's NodeNext resolution cannot follow, so every import from it arrives as `any`: the
// interfaces below state what this project relies on, checked by the tests against the library.
import * as hf from '@huggingface/tokenizers';

/** JSON as read from tokenizer.json / tokenizer_config.json. */
export type Json = Record<string, unknown>;

export interface LibEncoding {
  ids: number[];
  tokens: string[];
  attention_mask: number[];
  token_type_ids?: number[];
}

export interface LibAddedToken {
  content: string;
  id: number;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  special: boolean;
  normalized: boolean;
}

/** The tokenizer model (WordPiece, BPE or Unigram), called on a list of pre-tokens. */
export interface LibModel {
  (tokens: string[]): string[];
  config: Json;
  vocab: string[];
  tokens_to_ids: Map<string, number>;
  unk_token_id?: number;
  unk_token?: string;
  /** BPE only: the merged pieces of one pre-token (cached by the library: never mutate). */
  bpe?: (token: string) => string[];
  /** Unigram only: the Viterbi pieces of one pre-token, unknown characters as themselves. */
  tokenize?: (text: string) => string[];
  end_of_word_suffix?: string;
  continuing_subword_suffix?: string | null;
  byte_fallback?: boolean;
  ignore_merges?: boolean;
  fuse_unk: boolean;
}

export interface LibTokenizer {
  model: LibModel;
  encode(
    text: string,
    options?: { text_pair?: string | null; add_special_tokens?: boolean; return_token_type_ids?: boolean },
  ): LibEncoding;
  decode(ids: number[], options?: { skip_special_tokens?: boolean; clean_up_tokenization_spaces?: boolean }): string;
  token_to_id(token: string): number | undefined;
  id_to_token(id: number): string | undefined;
  get_added_tokens_decoder(): Map<number, LibAddedToken>;
}

export interface LibNormalizer {
  normalize(text: string): string;
}

export interface LibPreTokenizer {
  pre_tokenize_text(text: string, options?: { section_index?: number }): string[];
}

/** Builds the library's tokenizer (throws on component types it does not implement). */
export function createLibTokenizer(tokenizerJson: Json, tokenizerConfig: Json): LibTokenizer {
  return new hf.Tokenizer(tokenizerJson, tokenizerConfig) as unknown as LibTokenizer;
}

/** A library tokenizer with an empty model around one normalizer or pre-tokenizer config. */
function bare(parts: Json): unknown {
  const model = { type: 'WordPiece', vocab: {}, unk_token: '[UNK]' };
  const empty = { normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, added_tokens: [] };
  return new hf.Tokenizer({ ...empty, model, ...parts }, {});
}

/** The library's own normalizer for a tokenizer.json "normalizer" entry (for cross-checks). */
export function createLibNormalizer(config: Json): LibNormalizer {
  return (bare({ normalizer: config }) as { normalizer: LibNormalizer }).normalizer;
}

/** The library's own pre-tokenizer for a tokenizer.json "pre_tokenizer" entry (for cross-checks). */
export function createLibPreTokenizer(config: Json): LibPreTokenizer {
  return (bare({ pre_tokenizer: config }) as { pre_tokenizer: LibPreTokenizer }).pre_tokenizer;
}

/**
 * A tokenizer.json pattern ({String} or {Regex}) as a global JavaScript RegExp, compiled by the
 * library, which rewrites the Oniguruma syntax Hugging Face patterns are written in.
 */
export function compilePattern(pattern: unknown): RegExp {
  const config = { type: 'Split', pattern, behavior: 'Isolated', invert: false };
  const split = (bare({ pre_tokenizer: config }) as { pre_tokenizer: { pattern: RegExp | null } }).pre_tokenizer;
  if (!split.pattern) throw new Error(`tokenizer.json: unsupported pattern ${JSON.stringify(pattern)}`);
  return split.pattern;
}
