import { DataError } from '../data/errors.js';
import { heldOutIndices } from '../data/split.js';
import type { TokenCorpus } from './store.js';

/**
 * Which texts of a cached corpus train and which validate, as the in-memory pipeline (prepare.ts)
 * decides it: exact duplicates removed (data.clean.dedup, the first kept, by the same SHA-1 of the
 * cleaned text, of which the cache keeps 64 bits), then data.validation_split held out by the same
 * seeded draw over the remaining texts. Only index arrays are held, never texts.
 */
export interface CorpusSelection {
  train: Uint32Array;
  validation: Uint32Array;
  duplicates: number;
}

/** The texts left after exact dedup, in order: an open-addressing set of 64-bit hashes. */
export function dedupTexts(corpus: TokenCorpus, dedup: boolean): { kept: Uint32Array; duplicates: number } {
  const n = corpus.texts;
  if (!dedup) return { kept: Uint32Array.from({ length: n }, (_, i) => i), duplicates: 0 };
  let capacity = 1024;
  while (capacity < n * 2) capacity *= 2;
  const mask = capacity - 1;
  // Slot i holds a hash as words 2i, 2i + 1, and used[i] whether it is taken.
  const table = new Uint32Array(capacity * 2);
  const used = new Uint8Array(capacity);
  const kept: number[] = [];
  const h = corpus.hashes;
  for (let t = 0; t < n; t++) {
    const a = h[2 * t] as number;
    const b = h[2 * t + 1] as number;
    let slot = (a ^ Math.imul(b, 0x9e3779b1)) & mask;
    let seen = false;
    while (used[slot]) {
      if (table[2 * slot] === a && table[2 * slot + 1] === b) {
        seen = true;
        break;
      }
      slot = (slot + 1) & mask;
    }
    if (seen) continue;
    used[slot] = 1;
    table[2 * slot] = a;
    table[2 * slot + 1] = b;
    kept.push(t);
  }
  return { kept: Uint32Array.from(kept), duplicates: n - kept.length };
}

export function selectTexts(
  corpus: TokenCorpus,
  o: { dedup: boolean; validationSplit: number | undefined; seed: number },
): CorpusSelection {
  const { kept, duplicates } = dedupTexts(corpus, o.dedup);
  if (o.validationSplit === undefined) return { train: kept, validation: new Uint32Array(0), duplicates };
  const held = heldOutIndices(kept.length, o.validationSplit, o.seed);
  const train = kept.filter((_, i) => held[i] === 0);
  const validation = kept.filter((_, i) => held[i] === 1);
  if (train.length === 0 || validation.length === 0) {
    throw new DataError(
      'empty-dataset',
      `data.validation_split ${o.validationSplit} of ${kept.length} texts leaves ${validation.length} for validation and ${train.length} for training`,
      undefined,
      'a split that leaves texts on both sides',
    );
  }
  return { train, validation, duplicates };
}
