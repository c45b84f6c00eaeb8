// tokenizer.json "pre_tokenizer" entries, redone on aligned text: each returns the words (pre-tokens)
// a normalized section splits into, every unit still pointing at its original characters.
//
// The words' texts are what the library's pre-tokenizers produce for BertPreTokenizer, ByteLevel
// and Metaspace (checked by the tests). Where the library simplifies the Rust crate (Metaspace
// without its split on ▁, Punctuation grouping runs, ASCII-only \w in Whitespace), the Rust
// behaviour is followed, since that is what the models were trained with; for Metaspace the
// split changes no id, only the word boundaries.
import { type Aligned, insert, mapCodePoints, printableAscii, replaceAll, slice } from './aligned.js';
import { compilePattern, type Json } from './library.js';

export interface PreTokenizeContext {
  /** Index of the section (text between added tokens) in the input; Metaspace "first" uses it. */
  sectionIndex: number;
}

export type AlignedPreTokenizer = (words: Aligned[], ctx: PreTokenizeContext) => Aligned[];

export interface PreTokenizerOptions {
  /** Adds a prefix space in every ByteLevel step (pre-split words, as transformers requires). */
  forcePrefixSpace?: boolean;
}

type Behavior = 'Removed' | 'Isolated' | 'MergedWithPrevious' | 'MergedWithNext' | 'Contiguous';

/** The GPT-2 byte-to-unicode table: printable bytes map to themselves, the rest above U+0100. */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const table = new Array<string>(256);
  let next = 256;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    table[b] = String.fromCharCode(printable ? b : next++);
  }
  return table;
})();

export const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
const PUNCT = '\\p{P}\\u0021-\\u002F\\u003A-\\u0040\\u005B-\\u0060\\u007B-\\u007E';
export const BERT_SPLIT = new RegExp(`[^\\s${PUNCT}]+|[${PUNCT}]`, 'gu');
const PUNCT_CHAR = new RegExp(`[${PUNCT}]`, 'gu');
const WORD = '\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}';
const WHITESPACE_SPLIT = new RegExp(`[${WORD}]+|[^${WORD}\\s]+`, 'gu');
const NON_SPACE = /\S+/gu;
const NUMERIC = /\p{N}/gu;
const NUMERIC_RUN = /\p{N}+/gu;

/**
 * The non-empty pieces matched by a global regex (one of this module's: exec moves its lastIndex,
 * which nothing else reads; an empty match steps one code point on, as matchAll does).
 */
function matches(a: Aligned, re: RegExp): Aligned[] {
  const out: Aligned[] = [];
  const text = a.text;
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const at = m.index;
    const n = m[0].length;
    if (n === 0) re.lastIndex = at + ((text.codePointAt(at) ?? 0) > 0xffff ? 2 : 1);
    else out.push(slice(a, at, at + n));
  }
  return out;
}

/**
 * words.flatMap(f), without flatMap (slow in V8) and, for the single section the tokenizer
 * passes, without a copy.
 */
function flatEach(words: Aligned[], f: (w: Aligned) => Aligned[]): Aligned[] {
  if (words.length === 1) return f(words[0] as Aligned);
  const out: Aligned[] = [];
  for (const w of words) for (const x of f(w)) out.push(x);
  return out;
}

/** Splits around delimiter ranges as the Rust crate's SplitDelimiterBehavior says. */
function splitBy(a: Aligned, delims: [number, number][], behavior: Behavior): Aligned[] {
  let ds = delims;
  if (behavior === 'Contiguous') {
    ds = [];
    for (const d of delims) {
      const last = ds[ds.length - 1];
      if (last && last[1] === d[0]) last[1] = d[1];
      else ds.push([d[0], d[1]]);
    }
  }
  const cuts: [number, number][] = [];
  let prev = 0;
  let pendingStart = -1; // MergedWithNext: where the delimiter waiting for its next gap began
  for (const [s, e] of ds) {
    const gap: [number, number] = [pendingStart >= 0 ? pendingStart : prev, s];
    if (behavior === 'MergedWithPrevious') cuts.push([gap[0], e]);
    else if (behavior === 'MergedWithNext') {
      cuts.push(gap);
      pendingStart = s;
    } else {
      cuts.push(gap);
      if (behavior !== 'Removed') cuts.push([s, e]);
    }
    prev = e;
  }
  cuts.push([pendingStart >= 0 ? pendingStart : prev, a.text.length]);
  return cuts.filter(([s, e]) => e > s).map(([s, e]) => slice(a, s, e));
}

function regexDelims(text: string, re: RegExp, invert: boolean): [number, number][] {
  const found: [number, number][] = [...text.matchAll(re)]
    .filter((m) => m[0].length > 0)
    .map((m) => [m.index, m.index + m[0].length]);
  if (!invert) return found;
  const gaps: [number, number][] = [];
  let prev = 0;
  for (const [s, e] of found) {
    if (s > prev) gaps.push([prev, s]);
    prev = e;
  }
  if (prev < text.length) gaps.push([prev, text.length]);
  return gaps;
}

/** The GPT-2 characters of one code point's UTF-8 bytes (computed directly: TextEncoder per character is slow). */
function byteChars(ch: string): string {
  const cp = ch.codePointAt(0) as number;
  const c = (b: number) => BYTE_TO_CHAR[b] as string;
  if (cp < 0x80) return c(cp);
  if (cp < 0x800) return c(0xc0 | (cp >> 6)) + c(0x80 | (cp & 63));
  // Lone surrogates encode as U+FFFD, as TextEncoder does.
  if (cp >= 0xd800 && cp <= 0xdfff) return byteChars('\uFFFD');
  if (cp < 0x10000) return c(0xe0 | (cp >> 12)) + c(0x80 | ((cp >> 6) & 63)) + c(0x80 | (cp & 63));
  return c(0xf0 | (cp >> 18)) + c(0x80 | ((cp >> 12) & 63)) + c(0x80 | ((cp >> 6) & 63)) + c(0x80 | (cp & 63));
}

/** A string's GPT-2 byte characters (its UTF-8 bytes through BYTE_TO_CHAR). */
export function byteLevelText(s: string): string {
  let out = '';
  for (const ch of s) out += byteChars(ch);
  return out;
}

/** Each code point becomes the GPT-2 characters of its UTF-8 bytes, all owning its span. */
function toByteLevel(a: Aligned): Aligned {
  // Printable ASCII bytes are their own characters but for the space (Ġ): unit for unit, spans
  // shared (never changed in place, see lowercase).
  if (printableAscii(a))
    return { text: a.text.replaceAll(' ', BYTE_TO_CHAR[0x20] as string), starts: a.starts, ends: a.ends };
  return mapCodePoints(a, byteChars);
}

function byteLevel(config: Json, options: PreTokenizerOptions): AlignedPreTokenizer {
  const addPrefixSpace = options.forcePrefixSpace === true || config.add_prefix_space === true;
  const useRegex = config.use_regex !== false;
  return (words) =>
    flatEach(words, (w) => {
      const spaced = addPrefixSpace && !w.text.startsWith(' ') ? insert(w, 0, ' ') : w;
      return (useRegex ? matches(spaced, GPT2_SPLIT) : [spaced]).map(toByteLevel);
    });
}

function metaspace(config: Json): AlignedPreTokenizer {
  const replacement = typeof config.replacement === 'string' ? config.replacement : '\u2581';
  const scheme =
    (config.prepend_scheme as string | undefined) ?? (config.add_prefix_space === false ? 'never' : 'always');
  const split = config.split !== false;
  const space = / /gu;
  return (words, ctx) =>
    flatEach(words, (w) => {
      let t = replaceAll(w, space, replacement);
      const prepend = scheme === 'always' || (scheme === 'first' && ctx.sectionIndex === 0);
      if (prepend && !t.text.startsWith(replacement)) t = insert(t, 0, replacement);
      if (!split) return [t];
      const delims = regexDelims(t.text, new RegExp(replacement.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gu'), false);
      return splitBy(t, delims, 'MergedWithNext');
    });
}

/** Builds the aligned version of a tokenizer.json "pre_tokenizer" entry (null: one word per section). */
export function buildPreTokenizer(
  config: Json | null | undefined,
  options: PreTokenizerOptions = {},
): AlignedPreTokenizer | null {
  if (!config) return null;
  const each =
    (f: (w: Aligned) => Aligned[]): AlignedPreTokenizer =>
    (words) =>
      flatEach(words, f);
  switch (config.type) {
    case 'BertPreTokenizer':
      return each((w) => matches(w, BERT_SPLIT));
    case 'ByteLevel':
      return byteLevel(config, options);
    case 'Metaspace':
      return metaspace(config);
    case 'Whitespace':
      return each((w) => matches(w, WHITESPACE_SPLIT));
    case 'WhitespaceSplit':
      return each((w) => matches(w, NON_SPACE));
    case 'Punctuation': {
      const behavior = (config.behavior as Behavior | undefined) ?? 'Isolated';
      return each((w) => splitBy(w, regexDelims(w.text, PUNCT_CHAR, false), behavior));
    }
    case 'Digits': {
      const re = config.individual_digits ? NUMERIC : NUMERIC_RUN;
      return each((w) => splitBy(w, regexDelims(w.text, re, false), 'Isolated'));
    }
    case 'Split': {
      const re = compilePattern(config.pattern);
      const behavior = (config.behavior as Behavior | undefined) ?? 'Isolated';
      return each((w) => splitBy(w, regexDelims(w.text, re, config.invert === true), behavior));
    }
    case 'Replace': {
      const re = compilePattern(config.pattern);
      const content = typeof config.content === 'string' ? config.content : '';
      return each((w) => [replaceAll(w, re, content)]);
    }
    case 'FixedLength': {
      const length = typeof config.length === 'number' && config.length > 0 ? config.length : 5;
      return each((w) => {
        const cps = [...w.text];
        const out: Aligned[] = [];
        let at = 0;
        for (let i = 0; i < cps.length; i += length) {
          const n = cps.slice(i, i + length).join('').length;
          out.push(slice(w, at, at + n));
          at += n;
        }
        return out;
      });
    }
    case 'Sequence': {
      const steps = ((config.pretokenizers as Json[] | undefined) ?? [])
        .map((c) => buildPreTokenizer(c, options))
        .filter((p): p is AlignedPreTokenizer => p !== null);
      return (words, ctx) => steps.reduce((ws, step) => step(ws, ctx), words);
    }
    default:
      throw new Error(`tokenizer.json: pre_tokenizer type ${String(config.type)} is not supported`);
  }
}
