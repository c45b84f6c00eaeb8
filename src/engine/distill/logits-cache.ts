import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Example } from '../data/records.js';
import { writeAll, writeFileAtomic, writeTextAtomic } from '../io/atomic.js';

/**
 * The teacher's logits on disk, computed once per example: a teacher is deterministic (eval mode,
 * no dropout), so its logits depend only on its weights, the examples and max_length, and those
 * three make the key. One entry is `<key>.f32` (every example's rows, float32 little-endian,
 * concatenated) and `<key>.json` (its index: classes and the rows of each example). Both are
 * written atomically, the index last, so an interrupted write leaves no entry that reads.
 * Another key's entry is removed when a new one is written: a changed teacher or data set
 * invalidates the old logits.
 */
export interface CachedLogits {
  /** Values per row: the classes' logits (and, with hidden_loss, the hidden state after them). */
  classes: number;
  /** Per example, in order: its rows × classes logits. */
  rows: Float32Array[];
}

interface CacheIndex {
  key: string;
  classes: number;
  /** Rows of each example (1 for a sequence, one per word for token classification). */
  counts: number[];
}

const FORMAT = 'finetune-teacher-logits/1';

/** The cache's folder inside a run directory: a resumed run finds the logits its first start computed. */
export const TEACHER_CACHE_DIR = 'teacher-logits';

/** sha256 of what the teacher reads of the examples (their texts or words, in order). */
export function hashExamples(examples: readonly Example[]): string {
  const hash = createHash('sha256');
  for (const e of examples) {
    const content = e.kind === 'text' ? [e.text, e.pair ?? null] : e.kind === 'tokens' ? e.tokens : [JSON.stringify(e)];
    hash.update(`${JSON.stringify(content)}\n`);
  }
  return hash.digest('hex');
}

/** The cache key of a teacher (its hash), examples (their hash), max_length and the label order. */
export function cacheKey(parts: {
  teacher: string;
  data: string;
  maxLength: number;
  labels: readonly string[];
  /** Rows carry the teacher's hidden state too (hidden_loss: mse). */
  hidden: boolean;
}): string {
  return createHash('sha256')
    .update(JSON.stringify([FORMAT, parts.teacher, parts.data, parts.maxLength, parts.labels, parts.hidden]))
    .digest('hex')
    .slice(0, 32);
}

/** The cached logits of `key`, or undefined when there is no complete entry. */
export function readCachedLogits(dir: string, key: string): CachedLogits | undefined {
  const indexFile = join(dir, `${key}.json`);
  const dataFile = join(dir, `${key}.f32`);
  if (!existsSync(indexFile) || !existsSync(dataFile)) return undefined;
  let index: CacheIndex;
  try {
    index = JSON.parse(readFileSync(indexFile, 'utf8')) as CacheIndex;
  } catch {
    return undefined;
  }
  const total = index.counts.reduce((a, b) => a + b, 0) * index.classes;
  if (index.key !== key || statSync(dataFile).size !== total * 4) return undefined;
  const bytes = readFileSync(dataFile);
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const rows: Float32Array[] = [];
  let at = 0;
  for (const n of index.counts) {
    rows.push(all.subarray(at, at + n * index.classes));
    at += n * index.classes;
  }
  return { classes: index.classes, rows };
}

/** Writes the entry of `key` (data, then index) and removes every other entry of `dir`. */
export function writeCachedLogits(dir: string, key: string, logits: CachedLogits): void {
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, `${key}.f32`), (fd) => {
    for (const r of logits.rows) writeAll(fd, new Uint8Array(r.buffer, r.byteOffset, r.byteLength));
  });
  const index: CacheIndex = { key, classes: logits.classes, counts: logits.rows.map((r) => r.length / logits.classes) };
  writeTextAtomic(join(dir, `${key}.json`), `${JSON.stringify(index)}\n`);
  for (const name of readdirSync(dir))
    if (!name.startsWith(`${key}.`) && !name.startsWith('.')) rmSync(join(dir, name), { force: true });
}
