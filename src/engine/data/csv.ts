import { type CsvError, type Parser, parse } from 'csv-parse';
import { MAX_LINE_BYTES } from '../../shared/limits.js';
import { type BadRows, DataError, type Source } from './errors.js';
import { type LineChunk, lineTooLong, readLineChunks } from './lines.js';
import type { RawRow } from './records.js';

/**
 * CSV and TSV rows (RFC 4180 quoting, parsed by csv-parse), streamed chunk by chunk. The first
 * non-blank row is the header. Records are collected synchronously through csv-parse's
 * `on_record` hook, so each chunk's rows are known as soon as it is written and the line of every
 * record is exact (csv-parse reports the line a record ends on; it starts after the previous one).
 *
 * csv-parse cannot resume after a quoting error, so in `skip` mode the parser is restarted on the
 * line after the first line of the broken record: the chunks since the last complete record are
 * kept for that. An unclosed quote would swallow the rest of the file; MAX_RECORD bounds both
 * that and the memory kept, and is reported as the quoting error it almost always is.
 */
export interface CsvOptions {
  delimiter: ',' | '\t';
  /** Columns the header must have, with the config key that names each. */
  required: { name: string; key: string }[];
  badRows: BadRows;
  chunkBytes?: number;
  /** Longest record accepted (default MAX_LINE_BYTES); tests make it small. */
  maxRecord?: number;
  /** Longest line read (default MAX_LINE_BYTES); tests make it small. */
  maxLineBytes?: number;
}

/** A record may span lines (quoted line breaks), but is bounded like one line. */
const MAX_RECORD = MAX_LINE_BYTES;
const QUOTING_CODES = new Set([
  'CSV_INVALID_CLOSING_QUOTE',
  'INVALID_OPENING_QUOTE',
  'CSV_QUOTE_NOT_CLOSED',
  'CSV_MAX_RECORD_SIZE',
  'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE',
]);
// Errors whose record starts where the problem is: the opening quote never found its end.
const RUNAWAY_CODES = new Set(['CSV_QUOTE_NOT_CLOSED', 'CSV_MAX_RECORD_SIZE']);

interface Session {
  parser: Parser;
  /** Absolute line = offset + csv-parse's line. */
  offset: number;
  records: { fields: string[]; end: number }[];
  error?: CsvError;
}

function open(delimiter: string, offset: number, maxRecord: number): Session {
  const s: Session = { parser: undefined as unknown as Parser, offset, records: [] };
  s.parser = parse({
    delimiter,
    relax_column_count: true, // wrong field counts are reported here, with the column
    relax_quotes: delimiter === '\t', // TSV often has bare quotes inside fields (5" screen)
    max_record_size: maxRecord,
    on_record: (fields: string[], ctx: { lines: number }) => {
      s.records.push({ fields, end: offset + ctx.lines });
      return null; // collected here, not pushed into the stream
    },
  });
  s.parser.on('error', (err: CsvError) => {
    s.error ??= err;
  });
  return s;
}

function write(s: Session, bytes: Buffer): Promise<void> {
  // The write callback gets the error before the 'error' event is emitted, so keep it from here.
  return new Promise((resolve) =>
    s.parser.write(bytes, (err) => {
      if (err) s.error ??= err as CsvError;
      resolve();
    }),
  );
}

function finish(s: Session): Promise<void> {
  return new Promise((resolve) => {
    s.parser.once('error', () => resolve());
    s.parser.once('finish', () => resolve());
    s.parser.end();
  });
}

/** The chunks from line `from` on (the first one cut at that line's first byte). */
function sliceFrom(from: number, chunks: LineChunk[]): LineChunk[] {
  const out: LineChunk[] = [];
  for (const c of chunks) {
    const last = c.firstLine + c.lineCount - 1;
    if (last < from) continue;
    if (c.firstLine >= from) {
      out.push(c);
      continue;
    }
    let at = 0;
    for (let line = c.firstLine; line < from; line++) at = c.bytes.indexOf(0x0a, at) + 1;
    out.push({
      text: '',
      bytes: c.bytes.subarray(at),
      firstLine: from,
      lineCount: last - from + 1,
      badLines: c.badLines.filter((l) => l >= from),
      longLines: c.longLines.filter((l) => l >= from),
    });
  }
  return out;
}

function isBlank(fields: string[]): boolean {
  return fields.length === 1 && (fields[0] as string).trim() === '';
}

export async function* csvRows(file: string, opts: CsvOptions): AsyncGenerator<RawRow[]> {
  const maxLine = opts.maxLineBytes ?? MAX_LINE_BYTES;
  const source = readLineChunks(file, opts.chunkBytes, maxLine)[Symbol.asyncIterator]();
  // Long lines are reported when their chunk first arrives; a chunk replayed after a quoting error is not reported twice.
  const reportedLong = new Set<number>();
  let queue: LineChunk[] = [];
  let pending: LineChunk[] = [];
  const maxRecord = opts.maxRecord ?? MAX_RECORD;
  let session = open(opts.delimiter, 0, maxRecord);
  let lastEnd = 0;
  let header: Map<string, number> | undefined;
  let width = 0;
  const badLines = new Set<number>();

  const checkHeader = (fields: string[], line: number) => {
    header = new Map();
    fields.forEach((name, i) => {
      if (header?.has(name)) {
        throw new DataError('format', `the header names column '${name}' twice`, { file, line, column: i + 1 });
      }
      header?.set(name, i);
    });
    width = fields.length;
    for (const { name, key } of opts.required) {
      if (header.has(name)) continue;
      const near = fields.find((f) => f.trim().toLowerCase() === name.toLowerCase());
      throw new DataError(
        'missing-column',
        `the header has no column '${name}' (columns: ${fields.join(', ')})${near === undefined ? '' : `; did you mean '${near}'?`}`,
        { file, line },
        `a column named '${name}' (${key})`,
      );
    }
  };

  const toRow = (fields: string[], start: number, end: number): RawRow | undefined => {
    const map = header as Map<string, number>;
    for (let line = start; line <= end && badLines.size > 0; line++) {
      if (!badLines.has(line)) continue;
      const col = fields.findIndex((f) => f.includes('\uFFFD'));
      const where: Source = { file, line, ...(col === -1 ? {} : { column: col + 1 }) };
      opts.badRows.report(new DataError('encoding', 'bytes that are not valid UTF-8', where, 'UTF-8 text'));
      return undefined;
    }
    if (fields.length !== width) {
      const column = Math.min(fields.length, width) + 1;
      opts.badRows.report(
        new DataError(
          'field-count',
          `the row has ${fields.length} fields but the header has ${width}`,
          { file, line: start, column },
          `${width} fields (quote a field that contains '${opts.delimiter === ',' ? ',' : '\\t'}' or a line break)`,
        ),
      );
      return undefined;
    }
    const source: Source = { file, line: start };
    return {
      get: (name) => {
        const i = map.get(name);
        return i === undefined ? undefined : fields[i];
      },
      column: (name) => {
        const i = map.get(name);
        return i === undefined ? undefined : i + 1;
      },
      fields: () => [...map.keys()],
      source,
      textual: true,
    };
  };

  const drain = (): RawRow[] => {
    const rows: RawRow[] = [];
    for (const { fields, end } of session.records) {
      const start = lastEnd + 1;
      lastEnd = end;
      if (isBlank(fields)) continue;
      if (header === undefined) {
        checkHeader(fields, start);
        continue;
      }
      const row = toRow(fields, start, end);
      if (row) rows.push(row);
    }
    session.records = [];
    for (const line of badLines) if (line <= lastEnd) badLines.delete(line);
    return rows;
  };

  /** Reports the parser's error; in skip mode restarts after the broken record's first line. */
  const recover = (err: CsvError) => {
    if (!QUOTING_CODES.has(err.code) || header === undefined) {
      const where = { file, line: lastEnd + 1 };
      throw new DataError(header === undefined ? 'format' : 'quoting', `cannot parse CSV: ${err.message}`, where);
    }
    const start = lastEnd + 1;
    const errLine = session.offset + ((err as { lines?: number }).lines ?? 1);
    const runaway = RUNAWAY_CODES.has(err.code);
    const col = (err as { column?: unknown }).column;
    const where: Source = {
      file,
      line: runaway ? start : errLine,
      ...(typeof col === 'number' && !runaway ? { column: col + 1 } : {}),
    };
    const got = /got "(.*?)"/.exec(err.message)?.[1];
    const problem = runaway
      ? `a quoted field opened on this line is never closed${err.code === 'CSV_MAX_RECORD_SIZE' ? ` (the record grew past ${maxRecord} bytes)` : ''}`
      : err.code === 'INVALID_OPENING_QUOTE'
        ? 'a quote inside a field that does not start with one'
        : `a closing quote is followed by ${got === undefined ? 'text' : JSON.stringify(got)} instead of a delimiter or the end of the line`;
    opts.badRows.report(
      new DataError(
        'quoting',
        problem,
        where,
        'RFC 4180 quoting: the whole field in double quotes, inner quotes doubled ("say ""hi""")',
      ),
    );
    const resume = start + 1;
    queue = sliceFrom(resume, [...pending, ...queue]);
    pending = [];
    lastEnd = resume - 1;
    session.parser.destroy();
    session = open(opts.delimiter, lastEnd, maxRecord);
  };

  try {
    for (;;) {
      let chunk = queue.shift();
      if (chunk === undefined) {
        const next = await source.next();
        if (!next.done) chunk = next.value;
      }
      if (chunk === undefined) {
        await finish(session);
        const rows = drain();
        if (rows.length > 0) yield rows;
        if (session.error === undefined) break;
        recover(session.error);
        continue;
      }
      pending.push(chunk);
      for (const line of chunk.badLines) badLines.add(line);
      for (const line of chunk.longLines) {
        if (reportedLong.has(line)) continue;
        reportedLong.add(line);
        opts.badRows.report(lineTooLong(file, line, maxLine));
      }
      await write(session, chunk.bytes);
      const rows = drain();
      if (rows.length > 0) yield rows;
      pending = pending.filter((c) => c.firstLine + c.lineCount - 1 > lastEnd);
      if (session.error !== undefined) recover(session.error);
    }
  } finally {
    session.parser.destroy();
    await source.return?.(undefined);
  }
}
