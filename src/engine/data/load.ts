import { extname } from 'node:path';
import type { DataFileFormat } from '../../shared/data-report.js';
import { MAX_LINE_BYTES } from '../../shared/limits.js';
import { csvRows } from './csv.js';
import { BadRows, DataError, type Source } from './errors.js';
import { lineTooLong, readLineChunks } from './lines.js';
import {
  type Columns,
  columnsFor,
  detectSftLayout,
  type Example,
  type RawRow,
  type RowLayout,
  requiredFields,
  toExample,
} from './records.js';

/**
 * Streaming loaders: a data file becomes an async sequence of batches of examples (one batch per
 * ~1 MiB chunk of the file, so per-example async overhead stays out of the hot loop), each
 * example carrying its file and line. Row-level problems go to `badRows`, which throws or skips.
 */
export type Format = DataFileFormat;

const FORMATS: Readonly<Record<string, Format>> = {
  '.jsonl': 'jsonl',
  '.json': 'jsonl',
  '.csv': 'csv',
  '.tsv': 'tsv',
  '.txt': 'txt',
};

export function formatOf(file: string): Format {
  const ext = extname(file).toLowerCase();
  const format = FORMATS[ext];
  if (!format) {
    throw new DataError(
      'format',
      `cannot tell the format of ${file} from its extension '${ext || '(none)'}'`,
      undefined,
      '.jsonl or .json (JSON lines), .csv, .tsv, or .txt (plain text, one example per line)',
    );
  }
  return format;
}

export interface LoadOptions {
  /** `sft`: the layout of the first row (detectSftLayout) for every row of the file. */
  rows: RowLayout | 'sft';
  /** Told the layout the rows are read with, once it is known (the detected one for `sft`). */
  onLayout?: (layout: RowLayout) => void;
  columns: Columns;
  badRows: BadRows;
  /** Bytes per read; tests make it small to cross chunk boundaries. */
  chunkBytes?: number;
  /** Longest line (and CSV record) read, MAX_LINE_BYTES unless set; tests make it small. */
  maxLineBytes?: number;
}

/** Where JSON.parse stopped, when the message says (V8 reports "at position N"). */
function jsonColumn(err: unknown): number | undefined {
  const m = /position (\d+)/.exec(err instanceof Error ? err.message : '');
  return m ? Number(m[1]) + 1 : undefined;
}

function jsonRow(obj: Record<string, unknown>, source: Source): RawRow {
  return {
    get: (name) => (Object.hasOwn(obj, name) ? obj[name] : undefined),
    column: () => undefined,
    fields: () => Object.keys(obj),
    source,
    textual: false,
  };
}

/**
 * The non-blank lines of `file` with their numbers, a chunk at a time; a line too long or with
 * bytes that are not UTF-8 goes to `badRows` instead.
 */
async function* lineChunks(file: string, opts: LoadOptions): AsyncGenerator<{ line: number; text: string }[]> {
  const maxLine = opts.maxLineBytes ?? MAX_LINE_BYTES;
  for await (const chunk of readLineChunks(file, opts.chunkBytes, maxLine)) {
    const lines = chunk.text.split('\n');
    const bad = chunk.badLines.length > 0 ? new Set(chunk.badLines) : undefined;
    const long = chunk.longLines.length > 0 ? new Set(chunk.longLines) : undefined;
    const out: { line: number; text: string }[] = [];
    for (let i = 0; i < chunk.lineCount; i++) {
      const line = chunk.firstLine + i;
      let s = lines[i] as string;
      if (s.endsWith('\r')) s = s.slice(0, -1);
      if (long?.has(line)) {
        opts.badRows.report(lineTooLong(file, line, maxLine));
        continue;
      }
      if (bad?.has(line)) {
        opts.badRows.report(new DataError('encoding', 'bytes that are not valid UTF-8', { file, line }, 'UTF-8 text'));
        continue;
      }
      if (s.trim() !== '') out.push({ line, text: s });
    }
    yield out;
  }
}

async function* jsonlRows(file: string, opts: LoadOptions): AsyncGenerator<RawRow[]> {
  let seenData = false;
  for await (const lines of lineChunks(file, opts)) {
    const rows: RawRow[] = [];
    for (const { line, text: s } of lines) {
      if (!seenData) {
        seenData = true;
        if (s.trimStart().startsWith('[')) {
          throw new DataError(
            'format',
            `${file} holds a JSON array`,
            { file, line },
            'JSON lines: one JSON object per line',
          );
        }
      }
      let value: unknown;
      try {
        value = JSON.parse(s);
      } catch (err) {
        const column = jsonColumn(err);
        const hint = s.trim() === '{' ? ' (a pretty-printed JSON document?)' : '';
        opts.badRows.report(
          new DataError(
            'malformed-json',
            `malformed JSON${hint}: ${(err as Error).message}`,
            { file, line, ...(column === undefined ? {} : { column }) },
            'one JSON object per line',
          ),
        );
        continue;
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        const got = Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`;
        opts.badRows.report(new DataError('wrong-type', `the line is ${got}`, { file, line }, 'a JSON object'));
        continue;
      }
      rows.push(jsonRow(value as Record<string, unknown>, { file, line }));
    }
    if (rows.length > 0) yield rows;
  }
}

/**
 * Plain text as Hugging Face datasets' "text" loader reads it: one example per line (line break
 * removed; blank lines skipped, as blank JSON lines are), the line being the text column.
 */
async function* textRows(file: string, opts: LoadOptions): AsyncGenerator<RawRow[]> {
  const column = opts.columns.text;
  for await (const lines of lineChunks(file, opts)) {
    const rows = lines.map(
      ({ line, text }): RawRow => ({
        get: (name) => (name === column ? text : undefined),
        column: () => undefined,
        fields: () => [column],
        source: { file, line },
        textual: true,
      }),
    );
    if (rows.length > 0) yield rows;
  }
}

/** Examples of `file`, in file order, in batches. */
export async function* loadBatches(file: string, opts: LoadOptions): AsyncGenerator<Example[]> {
  const format = formatOf(file);
  const rows =
    format === 'jsonl'
      ? jsonlRows(file, opts)
      : format === 'txt'
        ? textRows(file, opts)
        : csvRows(file, {
            delimiter: format === 'csv' ? ',' : '\t',
            // A detected layout is known only at the first row: its fields are checked row by row.
            required: opts.rows === 'sft' ? [] : requiredFields(opts.rows, opts.columns),
            badRows: opts.badRows,
            ...(opts.chunkBytes === undefined ? {} : { chunkBytes: opts.chunkBytes }),
            ...(opts.maxLineBytes === undefined ? {} : { maxLineBytes: opts.maxLineBytes }),
          });
  let layout: RowLayout | undefined = opts.rows === 'sft' ? undefined : opts.rows;
  if (layout) opts.onLayout?.(layout);
  for await (const batch of rows) {
    const examples: Example[] = [];
    for (const row of batch) {
      if (!layout) {
        layout = detectSftLayout(row);
        opts.onLayout?.(layout);
      }
      try {
        examples.push(toExample(layout, opts.columns, row));
      } catch (err) {
        if (!(err instanceof DataError)) throw err;
        opts.badRows.report(err);
      }
    }
    if (examples.length > 0) yield examples;
  }
}

/** Examples of `file` one at a time. */
export async function* loadExamples(file: string, opts: LoadOptions): AsyncGenerator<Example> {
  for await (const batch of loadBatches(file, opts)) yield* batch;
}

/**
 * The plain texts of `file` (its `textColumn`, whatever other columns it has), a bad row an error:
 * what `finetune evaluate` and the int8 check score a causal LM on.
 */
export async function loadTexts(file: string, textColumn: string | undefined): Promise<string[]> {
  const texts: string[] = [];
  for await (const e of loadExamples(file, {
    rows: 'text',
    columns: columnsFor({ text_column: textColumn }),
    badRows: new BadRows('error'),
  }))
    if (e.kind === 'text') texts.push(e.text);
  return texts;
}
