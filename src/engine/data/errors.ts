/**
 * Typed data errors. Every problem found in a data file names the file, the 1-based line (and,
 * for CSV/TSV, the 1-based column of the field) and what was expected, so a user can open the
 * file at the exact spot. Row-level problems can be skipped (`data.on_bad_rows: skip`); file-level
 * ones (unknown format, a header without a required column, an empty dataset) always stop the run.
 */

import { type BadRow, type DataErrorKind, ROWS_LISTED, type Source } from '../../shared/data-report.js';

export type { BadRow, DataErrorKind, Source };

/** Kinds that concern one row: with `on_bad_rows: skip` such a row is dropped and listed. */
const ROW_KINDS: ReadonlySet<DataErrorKind> = new Set([
  'encoding',
  'malformed-json',
  'line-too-long',
  'field-count',
  'quoting',
  'missing-column',
  'empty-text',
  'wrong-type',
  'inconsistent',
]);

export function formatSource(s: Source): string {
  return `${s.file}:${s.line}${s.column === undefined ? '' : `:${s.column}`}`;
}

export class DataError extends Error {
  override readonly name = 'DataError';
  constructor(
    readonly kind: DataErrorKind,
    /** What is wrong, in words, without the location. */
    readonly problem: string,
    /** Where; absent for problems of a whole dataset without one line to point at. */
    readonly source?: Source,
    /** What the data should have had instead. */
    readonly expected?: string,
  ) {
    const where = source ? `${formatSource(source)}: ` : '';
    super(`${where}${problem}${expected ? `; expected ${expected}` : ''}`);
  }

  /** True when `on_bad_rows: skip` may drop the row instead of stopping. */
  get skippable(): boolean {
    return ROW_KINDS.has(this.kind) && this.source !== undefined;
  }
}

/** How many rows listed in full in the report; the rest are only counted. */
export const BAD_ROWS_LISTED = ROWS_LISTED;

/**
 * Collects row-level errors. In `error` mode the first one is thrown; in `skip` mode rows are
 * counted (per file) and the first BAD_ROWS_LISTED are kept for the report.
 */
export class BadRows {
  readonly listed: BadRow[] = [];
  readonly perFile = new Map<string, number>();
  count = 0;

  constructor(readonly mode: 'error' | 'skip') {}

  /** Throws in `error` mode or for errors that are not about one row; records the row otherwise. */
  report(err: DataError): void {
    if (this.mode === 'error' || !err.skippable || !err.source) throw err;
    this.count++;
    this.perFile.set(err.source.file, (this.perFile.get(err.source.file) ?? 0) + 1);
    if (this.listed.length < BAD_ROWS_LISTED) {
      const { file, line, column } = err.source;
      this.listed.push({
        kind: err.kind,
        file,
        line,
        ...(column === undefined ? {} : { column }),
        message: err.message,
      });
    }
  }
}

/** Describes a JSON value's type for "expected X, got Y" messages. */
export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a non-integer number';
  return `a ${typeof v}`;
}
