// Text that remembers where each of its UTF-16 units came from in the original input.
//
// @huggingface/tokenizers normalizes and pre-tokenizes plain strings and so loses every offset. We
// redo those steps on an `Aligned` text instead: each unit of `text` carries the span [start, end)
// of original-text units it was produced from. A unit inserted out of nothing (a prefix space, a
// Metaspace ▁) has an empty span start === end at its insertion point, so it never widens a token's
// offsets. All positions are JavaScript string indices (UTF-16 units) of the original text.

export interface Aligned {
  text: string;
  starts: number[];
  ends: number[];
}

/** The original text itself: unit i comes from [i, i+1). */
export function identity(text: string, base = 0): Aligned {
  const starts = new Array<number>(text.length);
  const ends = new Array<number>(text.length);
  for (let i = 0; i < text.length; i++) {
    starts[i] = base + i;
    ends[i] = base + i + 1;
  }
  return { text, starts, ends };
}

export function slice(a: Aligned, from: number, to: number = a.text.length): Aligned {
  return { text: a.text.slice(from, to), starts: a.starts.slice(from, to), ends: a.ends.slice(from, to) };
}

export function concat(parts: Aligned[]): Aligned {
  return {
    text: parts.map((p) => p.text).join(''),
    starts: parts.flatMap((p) => p.starts),
    ends: parts.flatMap((p) => p.ends),
  };
}

/** Where an insertion before unit `at` sits in the original text. */
function anchor(a: Aligned, at: number): number {
  if (at < a.text.length) return a.starts[at] as number;
  return a.text.length > 0 ? (a.ends[a.text.length - 1] as number) : 0;
}

/** `s` inserted before unit `at`, its units owning no original text. */
export function insert(a: Aligned, at: number, s: string): Aligned {
  const p = anchor(a, at);
  const added: Aligned = { text: s, starts: new Array(s.length).fill(p), ends: new Array(s.length).fill(p) };
  return concat([slice(a, 0, at), added, slice(a, at)]);
}

/**
 * The original span of units [from, to): the union of their non-empty spans, or an empty span.
 * Written into `out` when given (hot loops reuse one pair), else into a new pair.
 */
export function spanOf(a: Aligned, from: number, to: number, out: [number, number] = [0, 0]): [number, number] {
  let start = Number.POSITIVE_INFINITY;
  let end = Number.NEGATIVE_INFINITY;
  for (let i = from; i < to; i++) {
    const s = a.starts[i] as number;
    const e = a.ends[i] as number;
    if (e <= s) continue;
    if (s < start) start = s;
    if (e > end) end = e;
  }
  if (end < start) {
    const p = anchor(a, from);
    out[0] = p;
    out[1] = p;
  } else {
    out[0] = start;
    out[1] = end;
  }
  return out;
}

/** Builder that appends output units, each owning a given original span. */
class Output {
  readonly parts: string[] = [];
  /** Spans already made (a prefix the caller copied), extended by `push`. */
  constructor(
    readonly starts: number[] = [],
    readonly ends: number[] = [],
  ) {}
  push(s: string, start: number, end: number): void {
    this.parts.push(s);
    for (let k = 0; k < s.length; k++) {
      this.starts.push(start);
      this.ends.push(end);
    }
  }
  done(): Aligned {
    return { text: this.parts.join(''), starts: this.starts, ends: this.ends };
  }
}

/**
 * The first unit at or after `from` from which mapping with `f` may differ from `a` itself: one
 * that `f` changes, a surrogate (a pair's units are given the pair's joint span), or one whose
 * span is not start <= end (spanOf would replace it). Mapping that changes nothing then
 * allocates nothing, and the units before it are copied as they are.
 */
function firstChange(a: Aligned, f: (ch: string) => string, from = 0): number {
  const { text, starts, ends } = a;
  for (let i = from; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdfff) return i;
    if ((starts[i] as number) > (ends[i] as number)) return i;
    const ch = text[i] as string;
    if (f(ch) !== ch) return i;
  }
  return text.length;
}

/**
 * Replaces each code point by `f(codePoint)` (possibly '' to delete it, or several characters);
 * every output unit owns the span of the code point it came from. With `attachDeleted`, a deleted
 * code point right after the previous output joins that output's span: a stripped combining
 * accent then stays inside its letter's offsets, so a token ending in "é" written as e + U+0301
 * covers both (the Rust crate drops the accent's position).
 */
export function mapCodePoints(a: Aligned, f: (ch: string) => string, attachDeleted = false): Aligned {
  const first = firstChange(a, f);
  if (first === a.text.length) return a;
  // The unchanged prefix is what the loop below would give it: each unit keeps its own span.
  // (Copied, not spread into push: a line may be millions of units, past the call-argument limit.)
  const out = new Output(a.starts.slice(0, first), a.ends.slice(0, first));
  out.parts.push(a.text.slice(0, first));
  for (let i = first; i < a.text.length; ) {
    // A run of units that map to themselves: each keeps its own span, as below it would.
    const next = i === first ? i : firstChange(a, f, i);
    if (next > i) {
      out.parts.push(a.text.slice(i, next));
      for (let k = i; k < next; k++) {
        out.starts.push(a.starts[k] as number);
        out.ends.push(a.ends[k] as number);
      }
      i = next;
      continue;
    }
    const n = (a.text.codePointAt(i) as number) > 0xffff ? 2 : 1;
    const [s, e] = spanOf(a, i, i + n);
    const mapped = f(a.text.slice(i, i + n));
    const last = out.ends.length - 1;
    const joinable = last >= 0 && out.ends[last] === s && (out.starts[last] as number) < s;
    if (mapped === '' && attachDeleted && joinable && e > s) {
      for (let k = last; k >= 0 && out.ends[k] === s; k--) out.ends[k] = e;
    }
    out.push(mapped, s, e);
    i += n;
  }
  return out.done();
}

/** Whether every span is well formed (start <= end), as mapping a code point would leave it. */
function wellFormedSpans(a: Aligned): boolean {
  for (let i = 0; i < a.text.length; i++) if ((a.starts[i] as number) > (a.ends[i] as number)) return false;
  return true;
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * Whether `a` is printable ASCII (U+0020 to U+007E) with well-formed spans: the common text, which
 * normalizers and the byte-level step can map unit for unit, each unit keeping its own span,
 * without mapCodePoints' per-character calls.
 */
export function printableAscii(a: Aligned): boolean {
  return PRINTABLE_ASCII.test(a.text) && wellFormedSpans(a);
}

/**
 * Whether the text is ASCII with well-formed spans, so each unit lowercases to one unit and the
 * loop of `lowercase` would give every unit its own span: the common case, done without it.
 */
function lowercasesUnitByUnit(a: Aligned, whole: string): boolean {
  if (whole.length !== a.text.length) return false;
  for (let i = 0; i < a.text.length; i++) if (a.text.charCodeAt(i) >= 0x80) return false;
  return wellFormedSpans(a);
}

/**
 * Lowercases like String.prototype.toLowerCase on the whole text (so context rules such as the
 * Greek final sigma come out as the library's), while keeping each code point's span.
 */
export function lowercase(a: Aligned): Aligned {
  const whole = a.text.toLowerCase();
  if (whole === a.text) return a;
  // Spans are never changed in place once made (Output owns the arrays it extends), so they are shared.
  if (lowercasesUnitByUnit(a, whole)) return { text: whole, starts: a.starts, ends: a.ends };
  const out = new Output();
  let pos = 0;
  for (let i = 0; i < a.text.length; ) {
    const n = (a.text.codePointAt(i) as number) > 0xffff ? 2 : 1;
    const own = a.text.slice(i, i + n).toLowerCase();
    const [s, e] = spanOf(a, i, i + n);
    out.push(whole.slice(pos, pos + own.length), s, e);
    pos += own.length;
    i += n;
  }
  const result = out.done();
  // Lengths agreed code point by code point, so the text is the whole-string result; if some
  // context rule changed a length, per-code-point lowercasing is the closest aligned answer.
  return result.text === whole ? result : mapCodePoints(a, (ch) => ch.toLowerCase());
}

const MARK = /^\p{M}$/u;

/**
 * Unicode normalization (NFC, NFD, NFKC, NFKD) with alignment. The text is cut into groups that
 * normalize independently (a code point joins the current group when it is a combining mark, or
 * when normalizing it together with the group differs from normalizing them apart, as Hangul jamo
 * do); each output unit owns its whole group's span. `keep` exempts code points from normalizing.
 */
export function unicodeNormalize(
  a: Aligned,
  form: 'NFC' | 'NFD' | 'NFKC' | 'NFKD',
  keep?: (ch: string) => boolean,
): Aligned {
  if (!keep && a.text.normalize(form) === a.text) return a;
  // [from, to, kept]: a kept code point is a group of its own that no neighbour joins.
  const groups: [number, number, boolean][] = [];
  for (let i = 0; i < a.text.length; ) {
    const n = (a.text.codePointAt(i) as number) > 0xffff ? 2 : 1;
    const ch = a.text.slice(i, i + n);
    const kept = keep?.(ch) ?? false;
    const last = groups[groups.length - 1];
    // An ASCII character never changes nor composes with what precedes it: a group of its own.
    if (last && !kept && !last[2] && ch.charCodeAt(0) >= 0x80) {
      const group = a.text.slice(last[0], last[1]);
      if (MARK.test(ch) || (group + ch).normalize(form) !== group.normalize(form) + ch.normalize(form)) {
        last[1] = i + n;
        i += n;
        continue;
      }
    }
    groups.push([i, i + n, kept]);
    i += n;
  }
  const out = new Output();
  for (const [from, to, kept] of groups) {
    const [s, e] = spanOf(a, from, to);
    const group = a.text.slice(from, to);
    out.push(kept ? group : group.normalize(form), s, e);
  }
  const result = out.done();
  if (keep || result.text === a.text.normalize(form)) return result;
  // The grouping missed an interaction: normalize everything as one group (correct text, coarse
  // offsets) rather than produce text the model would tokenize differently from the library.
  const whole = new Output();
  const [s, e] = spanOf(a, 0, a.text.length);
  whole.push(a.text.normalize(form), s, e);
  return whole.done();
}

/** Replaces every match of the global regex `re` by `content`, which owns the match's span. */
export function replaceAll(a: Aligned, re: RegExp, content: string): Aligned {
  const out = new Output();
  let prev = 0;
  for (const m of a.text.matchAll(re)) {
    const at = m.index;
    if (m[0].length === 0) continue;
    for (let i = prev; i < at; i++) out.push(a.text[i] as string, a.starts[i] as number, a.ends[i] as number);
    const [s, e] = spanOf(a, at, at + m[0].length);
    out.push(content, s, e);
    prev = at + m[0].length;
  }
  for (let i = prev; i < a.text.length; i++) out.push(a.text[i] as string, a.starts[i] as number, a.ends[i] as number);
  return out.done();
}

/** Removes leading and/or trailing whitespace (JavaScript's definition, as String.trim). */
export function trim(a: Aligned, left: boolean, right: boolean): Aligned {
  let from = 0;
  let to = a.text.length;
  if (left) from = a.text.length - a.text.trimStart().length;
  if (right) to = a.text.trimEnd().length;
  return to <= from ? slice(a, 0, 0) : slice(a, from, to);
}
