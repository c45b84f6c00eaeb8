/**
 * Python's string primitives that the reference metrics (SQuAD's script, sacreBLEU, rouge-score)
 * are written with, where JavaScript's look-alikes differ.
 */

// The characters Python's `str.split()` / `str.strip()` treat as whitespace (`str.isspace`): JS's
// `\s` adds U+FEFF and lacks U+001C..U+001F and U+0085.
const WHITESPACE_CLASS =
  '[\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const WHITESPACE_RUN = new RegExp(`${WHITESPACE_CLASS}+`);
const LEADING = new RegExp(`^${WHITESPACE_CLASS}+`);
const TRAILING = new RegExp(`${WHITESPACE_CLASS}+$`);

/** `s.split()`: the runs of non-whitespace, no empty strings. */
export function pySplit(s: string): string[] {
  return s.split(WHITESPACE_RUN).filter((t) => t !== '');
}

/** `s.rstrip()`. */
export function pyRstrip(s: string): string {
  return s.replace(TRAILING, '');
}

/** `s.strip()`. */
export function pyStrip(s: string): string {
  return s.replace(LEADING, '').replace(TRAILING, '');
}

/**
 * The characters of `s` as Python indexes them: code points, so a character outside the Basic
 * Multilingual Plane (an emoji, a rare CJK ideograph) is one character, not two UTF-16 halves.
 */
export function codePoints(s: string): string[] {
  return Array.from(s);
}
