// tokenizer.json "normalizer" entries, redone on aligned text so that offsets survive them.
//
// Each case reproduces the text @huggingface/tokenizers produces for the same config (the tests
// compare both on many strings); where the library and the Rust `tokenizers` crate differ, the
// comment says which one is followed and why.
import {
  type Aligned,
  insert,
  lowercase,
  mapCodePoints,
  printableAscii,
  replaceAll,
  trim,
  unicodeNormalize,
} from './aligned.js';
import { compilePattern, type Json } from './library.js';

export type AlignedNormalizer = (a: Aligned) => Aligned;

const CONTROL = /^[\p{Cc}\p{Cf}\p{Co}\p{Cs}]$/u;
const WHITESPACE = /^\s$/u;
const NONSPACING_MARK = /^\p{Mn}$/u;
const MARK = /^\p{M}$/u;

/**
 * BERT's "CJK ideograph" ranges. Tested per code point as the Rust crate does; the library tests
 * UTF-16 units and so misses the supplementary-plane ideographs (Extension B and later).
 */
export function isChineseChar(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

/** Drops NUL, U+FFFD and control characters (not tab/newline/CR); maps whitespace to ' '. */
function cleanText(ch: string): string {
  const cp = ch.codePointAt(0) as number;
  // Printable ASCII is neither control nor (but for ' ' itself) whitespace: kept as is.
  if (cp >= 0x20 && cp < 0x7f) return ch;
  if (ch === '\t' || ch === '\n' || ch === '\r') return ' ';
  if (cp === 0 || cp === 0xfffd || CONTROL.test(ch)) return '';
  return WHITESPACE.test(ch) ? ' ' : ch;
}

function stripAccents(a: Aligned): Aligned {
  return mapCodePoints(unicodeNormalize(a, 'NFD'), (ch) => (isNonspacingMark(ch) ? '' : ch), true);
}

/** \p{Mn}; no nonspacing mark lies below U+0300, so most text skips the regex. */
function isNonspacingMark(ch: string): boolean {
  return ch.charCodeAt(0) >= 0x300 && NONSPACING_MARK.test(ch);
}

function bertNormalizer(config: Json): AlignedNormalizer {
  return (a) => {
    // Printable ASCII: no control character, whitespace but ' ', CJK ideograph or accent, so
    // only lowercasing can change it.
    if (printableAscii(a)) return config.lowercase ? lowercase(a) : a;
    let t = a;
    if (config.clean_text) t = mapCodePoints(t, cleanText);
    if (config.handle_chinese_chars) {
      t = mapCodePoints(t, (ch) => (isChineseChar(ch.codePointAt(0) as number) ? ` ${ch} ` : ch));
    }
    // strip_accents null means "as lowercase": uncased BERT strips accents, cased BERT keeps them.
    if (config.lowercase) {
      t = lowercase(t);
      if (config.strip_accents !== false) t = stripAccents(t);
    } else if (config.strip_accents) {
      t = stripAccents(t);
    }
    return t;
  };
}

// The library's two character classes of the precompiled map, as code points (Biome rejects
// control characters inside regular expressions).
function precompiledRemoved(cp: number): boolean {
  return (
    (cp >= 0x01 && cp <= 0x08) || cp === 0x0b || (cp >= 0x0e && cp <= 0x1f) || cp === 0x7f || cp === 0x8f || cp === 0x9f
  );
}
const PRECOMPILED_SPACES = new Set([
  0x09, 0x0a, 0x0c, 0x0d, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x2581, 0x3000, 0xfeff, 0xfffd,
]);
function precompiledSpace(cp: number): boolean {
  return PRECOMPILED_SPACES.has(cp) || (cp >= 0x2000 && cp <= 0x200f);
}

/**
 * SentencePiece's precompiled character map, as the library approximates it (it does not decode
 * the map): controls removed, odd spaces to ' ', then NFKC except for the full-width tilde.
 */
function precompiled(a: Aligned): Aligned {
  const mapped = mapCodePoints(a, (ch) => {
    const cp = ch.codePointAt(0) as number;
    if (precompiledRemoved(cp)) return '';
    return precompiledSpace(cp) ? ' ' : ch;
  });
  return unicodeNormalize(mapped, 'NFKC', (ch) => ch === '\uFF5E');
}

/** Builds the aligned version of a tokenizer.json "normalizer" entry (null: no normalizer). */
export function buildNormalizer(config: Json | null | undefined): AlignedNormalizer | null {
  if (!config) return null;
  switch (config.type) {
    case 'BertNormalizer':
      return bertNormalizer(config);
    case 'Sequence': {
      const steps = ((config.normalizers as Json[] | undefined) ?? [])
        .map((c) => buildNormalizer(c))
        .filter((n): n is AlignedNormalizer => n !== null);
      return (a) => steps.reduce((t, step) => step(t), a);
    }
    case 'NFC':
    case 'NFD':
    case 'NFKC':
    case 'NFKD': {
      const form = config.type;
      return (a) => unicodeNormalize(a, form);
    }
    case 'Lowercase':
      return lowercase;
    case 'StripAccents':
      // The library removes every mark (\p{M}), as the Rust crate's is_combining_mark does.
      return (a) => mapCodePoints(a, (ch) => (MARK.test(ch) ? '' : ch), true);
    case 'Strip':
      return (a) => trim(a, Boolean(config.strip_left), Boolean(config.strip_right));
    case 'Replace': {
      const re = compilePattern(config.pattern);
      const content = typeof config.content === 'string' ? config.content : '';
      return (a) => replaceAll(a, re, content);
    }
    case 'Prepend': {
      const prefix = typeof config.prepend === 'string' ? config.prepend : '';
      // As the Rust crate: an empty text stays empty (the library would prepend anyway).
      return (a) => (a.text.length > 0 ? insert(a, 0, prefix) : a);
    }
    case 'Precompiled':
      return precompiled;
    default:
      throw new Error(`tokenizer.json: normalizer type ${String(config.type)} is not supported`);
  }
}
