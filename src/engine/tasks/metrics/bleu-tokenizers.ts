/**
 * sacreBLEU's BLEU tokenizers (sacrebleu/tokenizers/, version 2.6.0): `13a` (mteval-v13a.pl, the
 * default), `intl` (mteval-v14.pl's international tokenization), `zh` (Chinese characters split,
 * the rest as 13a) and `none`. Each returns the tokens joined by single spaces, as sacreBLEU does;
 * BLEU then splits them on whitespace.
 */
import { pySplit, pyStrip } from './python-text.js';

export const BLEU_TOKENIZERS = ['13a', 'intl', 'zh', 'none'] as const;
export type BleuTokenizer = (typeof BLEU_TOKENIZERS)[number];

// tokenizer_re.py's TokenizerRegexp, the tail of 13a and zh. Its first class lists the ASCII
// symbols { | } ~ [ \ ] ^ _ ` space ! " # $ % & ( ) * + : ; < = > ? @ / as code ranges: every ASCII
// punctuation except ' , - . (which the next three rules handle, near digits).
const SYMBOL = /([\x7b-\x7e\x5b-\x60\x20-\x26\x28-\x2b\x3a-\x40\x2f])/gu;
// A period or comma becomes a token of its own unless it has a digit on both sides: "3.5" and
// "1,000" stay whole, "end." and ".5" split.
const PERIOD_COMMA_AFTER = /([^0-9])([.,])/gu;
const PERIOD_COMMA_BEFORE = /([.,])([^0-9])/gu;
// A dash after a digit is split off ("5-6" -> "5 - 6").
const DASH_AFTER_DIGIT = /([0-9])(-)/gu;

function regexpTokenize(line: string): string {
  const out = line
    .replace(SYMBOL, ' $1 ')
    .replace(PERIOD_COMMA_AFTER, '$1 $2 ')
    .replace(PERIOD_COMMA_BEFORE, ' $1 $2')
    .replace(DASH_AFTER_DIGIT, '$1 $2 ');
  return pySplit(out).join(' ');
}

/** mteval-v13a.pl: drop `<skipped>`, join hyphenated line breaks, unescape four XML entities. */
export function tokenize13a(line: string): string {
  let text = line.replaceAll('<skipped>', '').replaceAll('-\n', '').replaceAll('\n', ' ');
  if (text.includes('&')) {
    text = text.replaceAll('&quot;', '"').replaceAll('&amp;', '&').replaceAll('&lt;', '<').replaceAll('&gt;', '>');
  }
  // The padding makes a final period split even after a digit ("in 2019." -> "in 2019 .").
  return regexpTokenize(` ${text} `);
}

// mteval-v14.pl's rules: punctuation (\p{P}) is split off unless it has a digit (\p{N}) on both
// sides, symbols (\p{S}) always. Unlike 13a there is no padding, so a number's final period stays
// on it ("2019." is one token), as in mteval-v14.pl and sacreBLEU. The classes come from Node's
// Unicode tables (process.versions.unicode); characters assigned after that version are in none
// of them here, while Python's `regex` module may already class them.
const PUNCT_AFTER_NON_DIGIT = /(\P{N})(\p{P})/gu;
const PUNCT_BEFORE_NON_DIGIT = /(\p{P})(\P{N})/gu;
const UNICODE_SYMBOL = /(\p{S})/gu;

export function tokenizeIntl(line: string): string {
  const out = line
    .replace(PUNCT_AFTER_NON_DIGIT, '$1 $2 ')
    .replace(PUNCT_BEFORE_NON_DIGIT, ' $1 $2')
    .replace(UNICODE_SYMBOL, ' $1 ');
  return pySplit(out).join(' ');
}

// tokenizer_zh.py's `_UCODE_RANGES`, inclusive code point ranges. Two of its entries are written
// '\u20000'..'\u2a6d6' and '\u2f800'..'\u2fa1d', meant as Extension B and the Compatibility
// Supplement; Python reads '\u20000' as U+2000 followed by '0', and comparing one character with
// those two-character strings makes the ranges U+2001..U+2A6D and U+2F81..U+2FA1 (general
// punctuation such as curly quotes, arrows, maths symbols, ...). sacreBLEU's scores come from that
// reading, so it is kept; the astral ideographs themselves are not split.
const CHINESE_RANGES: readonly (readonly [number, number])[] = [
  [0x3400, 0x4db5],
  [0x4e00, 0x9fa5],
  [0x9fa6, 0x9fbb],
  [0xf900, 0xfa2d],
  [0xfa30, 0xfa6a],
  [0xfa70, 0xfad9],
  [0x2001, 0x2a6d],
  [0x2f81, 0x2fa1],
  [0xff00, 0xffef],
  [0x2e80, 0x2eff],
  [0x3000, 0x303f],
  [0x31c0, 0x31ef],
  [0x2f00, 0x2fdf],
  [0x2ff0, 0x2fff],
  [0x3100, 0x312f],
  [0x31a0, 0x31bf],
  [0xfe10, 0xfe1f],
  [0xfe30, 0xfe4f],
  [0x2600, 0x26ff],
  [0x2700, 0x27bf],
  [0x3200, 0x32ff],
  [0x3300, 0x33ff],
];

/** Whether sacreBLEU's `zh` tokenizer splits this character off (see CHINESE_RANGES). */
export function isZhSplitChar(char: string): boolean {
  const cp = char.codePointAt(0) as number;
  return CHINESE_RANGES.some(([start, end]) => cp >= start && cp <= end);
}

/** Each Chinese character (see CHINESE_RANGES) becomes a token; the rest is tokenized as 13a's tail. */
export function tokenizeZh(line: string): string {
  let spaced = '';
  for (const char of pyStrip(line)) spaced += isZhSplitChar(char) ? ` ${char} ` : char;
  return regexpTokenize(spaced);
}

export function bleuTokenizer(name: BleuTokenizer): (line: string) => string {
  switch (name) {
    case '13a':
      return tokenize13a;
    case 'intl':
      return tokenizeIntl;
    case 'zh':
      return tokenizeZh;
    case 'none':
      return (line) => line;
  }
}
