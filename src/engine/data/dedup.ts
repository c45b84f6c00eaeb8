import { createHash } from 'node:crypto';
import { type ConflictPair, type DedupReport, type DuplicatePair, ROWS_LISTED } from '../../shared/data-report.js';
import type { Example } from './records.js';

/**
 * Duplicate removal, after cleaning (so "Café" and "Cafe\u0301" are one text under NFC).
 *
 * Exact: two examples are duplicates when their content (text and pair; the tokens; question and
 * context) hashes the same (SHA-1); the first is kept. Duplicates whose labels differ are the
 * worse mistake (the model is taught both answers) and are listed as conflicts.
 *
 * Near (`near_dedup`): each example's words (letters and digits, lowercased) form word 3-grams
 * (a text of fewer than 3 words is one shingle); two examples are near duplicates when the
 * MinHash estimate (64 hash functions) of the Jaccard similarity of their 3-gram sets is at least
 * NEAR_THRESHOLD. Candidates come from LSH (16 bands of 4 rows, which finds pairs at 0.8 with
 * probability > 0.999); the later example of a pair is removed.
 */
export const NEAR_THRESHOLD = 0.8;
const PERMUTATIONS = 64;
const BANDS = 16;
const ROWS = PERMUTATIONS / BANDS;

/** What an example says, without its label: the part that must not repeat. */
export function contentKey(e: Example): string {
  switch (e.kind) {
    case 'text':
      return e.pair === undefined ? e.text : `${e.text}\u0000${e.pair}`;
    case 'tokens':
      return e.tokens.join('\u0001');
    case 'qa':
      return `${e.question}\u0000${e.context}`;
    case 'completion':
      return `${e.prompt}\u0000${e.completion}`;
    case 'chat':
      return JSON.stringify(e.messages.map((m) => [m.role, m.content]));
    case 'seq2seq':
      return `${e.sourceText}\u0000${e.targetText}`;
  }
}

/** The target of an example, for telling conflicting duplicates apart. */
export function labelKey(e: Example): string {
  switch (e.kind) {
    case 'text':
      return e.label === undefined && e.labels === undefined ? '' : JSON.stringify(e.label ?? e.labels);
    case 'tokens':
      return JSON.stringify(e.tags);
    case 'qa':
      return JSON.stringify(e.answers);
    case 'completion':
    case 'chat':
    case 'seq2seq':
      // The target is part of the content: duplicates never conflict.
      return '';
  }
}

export function contentHash(e: Example): string {
  return createHash('sha1').update(contentKey(e)).digest('base64');
}

export type { ConflictPair, DedupReport, DuplicatePair };

export function emptyDedupReport(): DedupReport {
  return { exact: 0, exactExamples: [], conflicting: 0, conflicts: [], near: 0, nearExamples: [] };
}

/** Keeps the first example of each content; counts into `report`. */
export function dedupExact(examples: readonly Example[], report: DedupReport): Example[] {
  const seen = new Map<string, Example>();
  const kept: Example[] = [];
  for (const e of examples) {
    const key = contentHash(e);
    const first = seen.get(key);
    if (first === undefined) {
      seen.set(key, e);
      kept.push(e);
      continue;
    }
    report.exact++;
    if (report.exactExamples.length < ROWS_LISTED) report.exactExamples.push({ kept: first.source, removed: e.source });
    const a = labelKey(first);
    const b = labelKey(e);
    if (a !== b) {
      report.conflicting++;
      if (report.conflicts.length < ROWS_LISTED) {
        report.conflicts.push({ kept: first.source, removed: e.source, labels: [a, b] });
      }
    }
  }
  return kept;
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** MurmurHash3's finaliser: spreads a 32-bit value over all bits. */
function fmix(x: number): number {
  let h = x;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const SEEDS = Uint32Array.from({ length: PERMUTATIONS }, (_, i) => fmix(0x9e3779b9 + i * 0x7f4a7c15));

/** MinHash signature of the example's word 3-grams; undefined when it has no word at all. */
export function minhash(text: string): Uint32Array | undefined {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu);
  if (words === null) return undefined;
  const wordHashes = words.map(fnv1a);
  const shingles: number[] = [];
  if (wordHashes.length < 3) shingles.push(wordHashes.reduce((h, w) => fmix(h ^ w), 0));
  for (let i = 0; i + 3 <= wordHashes.length; i++) {
    shingles.push(
      fmix(fmix(fmix(wordHashes[i] as number) ^ (wordHashes[i + 1] as number)) ^ (wordHashes[i + 2] as number)),
    );
  }
  const sig = new Uint32Array(PERMUTATIONS).fill(0xffffffff);
  for (const s of shingles) {
    for (let p = 0; p < PERMUTATIONS; p++) {
      const v = fmix(s ^ (SEEDS[p] as number));
      if (v < (sig[p] as number)) sig[p] = v;
    }
  }
  return sig;
}

export function estimatedJaccard(a: Uint32Array, b: Uint32Array): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

/** Removes near duplicates (see the file comment); counts into `report`. */
export function dedupNear(examples: readonly Example[], report: DedupReport): Example[] {
  const buckets = new Map<string, number[]>();
  const signatures: Uint32Array[] = [];
  const keptExamples: Example[] = [];
  for (const e of examples) {
    // The key's field separators are not letters or digits, so they split words like spaces do.
    const sig = minhash(contentKey(e));
    if (sig === undefined) {
      keptExamples.push(e);
      continue;
    }
    const bandKeys: string[] = [];
    let match = -1;
    for (let b = 0; b < BANDS; b++) {
      const key = `${b}:${sig.subarray(b * ROWS, (b + 1) * ROWS).join(',')}`;
      bandKeys.push(key);
      for (const candidate of buckets.get(key) ?? []) {
        if (match === -1 && estimatedJaccard(sig, signatures[candidate] as Uint32Array) >= NEAR_THRESHOLD) {
          match = candidate;
        }
      }
      if (match !== -1) break;
    }
    if (match !== -1) {
      report.near++;
      if (report.nearExamples.length < ROWS_LISTED) {
        report.nearExamples.push({ kept: (keptExamples[match] as Example).source, removed: e.source });
      }
      continue;
    }
    const index = keptExamples.length;
    keptExamples.push(e);
    signatures[index] = sig;
    for (const key of bandKeys) {
      const bucket = buckets.get(key);
      if (bucket) bucket.push(index);
      else buckets.set(key, [index]);
    }
  }
  return keptExamples;
}
