import type { Label } from '../data/records.js';
import { shuffle } from '../util/random.js';
import { EDA_STOP_WORDS, edaSynonyms } from './eda.js';
import type { WordNet } from './wordnet.js';

/**
 * Label-preserving augmentation of token-classification rows (Dai & Adel 2020, "An Analysis of
 * Simple Data Augmentation for Named Entity Recognition"): only `O` tokens get synonyms, and a
 * mention is swapped for a whole other mention of its type, so every tag stays right.
 */
export interface TaggedTokens {
  tokens: string[];
  tags: Label[];
}

/** A B-/I- mention: its type and where it is. */
interface Span {
  type: string;
  start: number;
  end: number;
}

const OUTSIDE = 'O';

/** The mentions of a row: a B-X starts one, an I-X continues one of type X (or starts one, IOB1-style). */
export function mentionSpans(tags: readonly Label[]): Span[] {
  const spans: Span[] = [];
  let open: Span | undefined;
  tags.forEach((raw, i) => {
    const tag = String(raw);
    const prefix = tag.slice(0, 2);
    const type = tag.slice(2);
    if (prefix === 'I-' && open && open.type === type) {
      open.end = i + 1;
      return;
    }
    if (prefix === 'B-' || prefix === 'I-') {
      open = { type, start: i, end: i + 1 };
      spans.push(open);
    } else open = undefined;
  });
  return spans;
}

/** Every mention of the training rows by type, as token lists, each distinct one once (first-seen order). */
export function mentionsByType(rows: readonly TaggedTokens[]): Map<string, string[][]> {
  const byType = new Map<string, string[][]>();
  const seen = new Set<string>();
  for (const row of rows) {
    for (const span of mentionSpans(row.tags)) {
      const tokens = row.tokens.slice(span.start, span.end);
      const key = `${span.type}\u0000${tokens.join('\u0000')}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const list = byType.get(span.type) ?? [];
      list.push(tokens);
      byType.set(span.type, list);
    }
  }
  return byType;
}

/**
 * Synonym replacement of `O` tokens: as EDA's SR, up to n = max(1, int(alpha * tokens)) distinct
 * non-stop words among the O tokens, in random order, each (every O occurrence, compared
 * lowercased) replaced by a random WordNet synonym; a multiword synonym becomes several tokens, all O.
 */
export function synonymReplaceOutside(
  wordnet: WordNet,
  row: TaggedTokens,
  alpha: number,
  rand: () => number,
): TaggedTokens {
  const n = Math.max(1, Math.floor(alpha * row.tokens.length));
  const outside = row.tokens.map((t, i) => (String(row.tags[i]) === OUTSIDE ? t.toLowerCase() : undefined));
  const words = [...new Set(outside.filter((w): w is string => w !== undefined && !EDA_STOP_WORDS.has(w)))];
  const chosen = new Map<string, string[]>();
  for (const word of shuffle(words, rand)) {
    if (chosen.size >= n) break;
    const synonyms = edaSynonyms(wordnet, word).filter((s) => s.trim() !== '');
    if (synonyms.length === 0) continue;
    const synonym = synonyms[Math.floor(rand() * synonyms.length)] as string;
    chosen.set(word, synonym.split(' ').filter(Boolean));
  }
  const tokens: string[] = [];
  const tags: Label[] = [];
  row.tokens.forEach((token, i) => {
    const replacement = outside[i] === undefined ? undefined : chosen.get(outside[i] as string);
    if (replacement) {
      tokens.push(...replacement);
      for (const _ of replacement) tags.push(OUTSIDE);
    } else {
      tokens.push(token);
      tags.push(row.tags[i] as Label);
    }
  });
  return { tokens, tags };
}

/**
 * Mention replacement: each mention, with probability p, becomes a random other mention of its
 * type from the training rows, tagged B-X, I-X, ... (IOB2) whatever scheme the replaced one had.
 */
export function mentionReplacement(
  row: TaggedTokens,
  mentions: ReadonlyMap<string, readonly string[][]>,
  p: number,
  rand: () => number,
): TaggedTokens {
  const tokens: string[] = [];
  const tags: Label[] = [];
  let at = 0;
  for (const span of mentionSpans(row.tags)) {
    tokens.push(...row.tokens.slice(at, span.start));
    tags.push(...row.tags.slice(at, span.start));
    const original = row.tokens.slice(span.start, span.end);
    const others = (mentions.get(span.type) ?? []).filter((m) => m.join(' ') !== original.join(' '));
    if (others.length > 0 && rand() < p) {
      const other = others[Math.floor(rand() * others.length)] as string[];
      tokens.push(...other);
      for (let k = 0; k < other.length; k++) tags.push(`${k === 0 ? 'B' : 'I'}-${span.type}`);
    } else {
      tokens.push(...original);
      tags.push(...row.tags.slice(span.start, span.end));
    }
    at = span.end;
  }
  tokens.push(...row.tokens.slice(at));
  tags.push(...row.tags.slice(at));
  return { tokens, tags };
}
