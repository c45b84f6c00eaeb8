import { type LeakageReport, ROWS_LISTED } from '../../shared/data-report.js';
import { rng, shuffle } from '../util/random.js';
import { contentHash, labelKey } from './dedup.js';
import { DataError, type Source } from './errors.js';
import type { Example } from './records.js';

/**
 * `validation_split`: a seeded hold-out of the training examples. With stratification (text
 * classification) each label keeps its share: of a label's n examples exactly round(fraction * n)
 * go to validation, chosen by a seeded shuffle of that label's examples (labels taken in order of
 * first appearance, all drawing from one generator). Both parts keep file order.
 */
export interface SplitResult {
  train: Example[];
  validation: Example[];
}

/** The stratum of an example: its label for a text example (as dedup compares labels), else one group. */
function groupKey(e: Example): string {
  return e.kind === 'text' ? labelKey(e) : '';
}

/** Marks round(fraction × n) of `indices` in `held`, drawn by a shuffle from `rand`. */
function holdOut(indices: number[], fraction: number, rand: () => number, held: Uint8Array): void {
  const take = Math.round(fraction * indices.length);
  for (const i of shuffle(indices, rand).slice(0, take)) held[i] = 1;
}

/**
 * The unstratified split of n examples by index (1: validation), exactly as splitValidation
 * draws it, for a corpus whose examples are not in memory (a tokenized-corpus cache).
 */
export function heldOutIndices(n: number, fraction: number, seed: number): Uint8Array {
  const held = new Uint8Array(n);
  holdOut(
    Array.from({ length: n }, (_, i) => i),
    fraction,
    rng(seed),
    held,
  );
  return held;
}

export function splitValidation(
  examples: readonly Example[],
  fraction: number,
  seed: number,
  stratify: boolean,
): SplitResult {
  if (!(fraction > 0 && fraction < 1)) {
    throw new DataError('config', `data.validation_split is ${fraction}`, undefined, 'a fraction between 0 and 1');
  }
  const groups = new Map<string, number[]>();
  examples.forEach((e, i) => {
    const key = stratify ? groupKey(e) : '';
    const g = groups.get(key);
    if (g) g.push(i);
    else groups.set(key, [i]);
  });
  const rand = rng(seed);
  const held = new Uint8Array(examples.length);
  for (const indices of groups.values()) holdOut(indices, fraction, rand, held);
  const train: Example[] = [];
  const validation: Example[] = [];
  examples.forEach((e, i) => {
    (held[i] ? validation : train).push(e);
  });
  return { train, validation };
}

export type { LeakageReport };

const EXCERPT = 80;

function excerpt(e: Example): string {
  const s =
    e.kind === 'text'
      ? e.text
      : e.kind === 'tokens'
        ? e.tokens.join(' ')
        : e.kind === 'qa'
          ? e.question
          : e.kind === 'completion'
            ? e.prompt
            : e.kind === 'seq2seq'
              ? e.sourceText
              : (e.messages[0]?.content ?? '');
  return s.length > EXCERPT ? `${s.slice(0, EXCERPT - 1)}…` : s;
}

export function checkLeakage(train: readonly Example[], validation: readonly Example[]): LeakageReport {
  const seen = new Map<string, Source>();
  for (const e of train) {
    const key = contentHash(e);
    if (!seen.has(key)) seen.set(key, e.source);
  }
  const report: LeakageReport = { count: 0, examples: [] };
  for (const e of validation) {
    const where = seen.get(contentHash(e));
    if (where === undefined) continue;
    report.count++;
    if (report.examples.length < ROWS_LISTED)
      report.examples.push({ text: excerpt(e), train: where, validation: e.source });
  }
  return report;
}
