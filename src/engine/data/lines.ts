import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { formatBytes, MAX_LINE_BYTES } from '../../shared/limits.js';
import { DataError } from './errors.js';

/**
 * Streams a UTF-8 text file as chunks of whole lines, so that a file of any size is read with
 * bounded memory and every line keeps its 1-based number. Decoding is strict (TextDecoder with
 * fatal: true, once per chunk, which is fast); only when a chunk fails is it decoded line by line
 * to find the lines with bad bytes, which are then passed on with U+FFFD in place of the bytes
 * and listed in `badLines`, so the loader can report (or skip) exactly those rows.
 *
 * A line longer than `maxLineBytes` (MAX_LINE_BYTES) is not kept: its bytes are dropped as they
 * arrive, it stays in the chunk as an empty line (so numbering holds), and it is listed in
 * `longLines`. Memory is then bounded by the limit plus a chunk even for a file with no line break.
 */
export interface LineChunk {
  /** Whole lines, each ending with '\n' except possibly the file's last line. */
  text: string;
  /** The same lines as bytes: the file's own when valid, else `text` re-encoded. */
  bytes: Buffer;
  /** Number of the first line in `text`. */
  firstLine: number;
  /** Number of lines in `text`. */
  lineCount: number;
  /** Lines (absolute numbers) that held bytes that are not valid UTF-8. */
  badLines: number[];
  /** Lines (absolute numbers) longer than the limit, left empty in `text` and `bytes`. */
  longLines: number[];
}

const CHUNK_BYTES = 1 << 20;
const NEWLINE = 0x0a;
const CR = 0x0d;
const UTF8_BOM = [0xef, 0xbb, 0xbf];

/** Fails with a clear message when the file is missing or is not a regular file. */
export async function fileSize(file: string): Promise<number> {
  try {
    const s = await stat(file);
    if (!s.isFile()) throw new DataError('format', `${file} is not a file`);
    return s.size;
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw new DataError('format', `cannot read ${file}: ${(err as Error).message}`);
  }
}

function countNewlines(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(NEWLINE); i !== -1; i = buf.indexOf(NEWLINE, i + 1)) n++;
  return n;
}

// ignoreBOM keeps a U+FEFF inside the file as it is: only the file's first bytes are a BOM, and
// they are removed below; otherwise every chunk that happens to start with EF BB BF would lose it.
const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lenient = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/**
 * The lines of `bytes` longer than `max` (line break not counted) emptied, and their numbers. A
 * buffer no longer than the limit can have none, which is the common case and costs nothing.
 */
function dropLongLines(bytes: Buffer, firstLine: number, max: number): { bytes: Buffer; longLines: number[] } {
  if (bytes.length <= max) return { bytes, longLines: [] };
  const longLines: number[] = [];
  const kept: Buffer[] = [];
  let start = 0;
  for (let line = firstLine; start < bytes.length; line++) {
    const nl = bytes.indexOf(NEWLINE, start);
    const end = nl === -1 ? bytes.length : nl;
    if (end - start > max) {
      longLines.push(line);
      // The line's own break stays (CRLF too): CSV reads only the break the file uses as one.
      const cr = nl !== -1 && end > start && bytes[end - 1] === CR ? 1 : 0;
      kept.push(bytes.subarray(end - cr, nl === -1 ? end : end + 1));
    } else kept.push(bytes.subarray(start, nl === -1 ? end : end + 1));
    start = nl === -1 ? bytes.length : nl + 1;
  }
  return longLines.length === 0 ? { bytes, longLines } : { bytes: Buffer.concat(kept), longLines };
}

/** The row-level error of a line over the limit (skippable with `data.on_bad_rows: skip`). */
export function lineTooLong(file: string, line: number, max: number): DataError {
  return new DataError(
    'line-too-long',
    `the line is longer than ${formatBytes(max)}, the most a line may have`,
    { file, line },
    'one record per line (a file without line breaks is not JSON lines or CSV)',
  );
}

/** A line dropped whole (too long) as a chunk of its own: one empty line, with the line's break. */
function longLineChunk(line: number, ending: '\r\n' | '\n' | ''): LineChunk {
  const bytes = Buffer.from(ending);
  return { text: bytes.toString(), bytes, firstLine: line, lineCount: 1, badLines: [], longLines: [line] };
}

function decodeChunk(raw: Buffer, firstLine: number, max: number): LineChunk {
  const { bytes, longLines } = dropLongLines(raw, firstLine, max);
  // A last line without a line break is a line too, even when it was emptied for its length.
  const unterminated = raw.length > 0 && raw[raw.length - 1] !== NEWLINE;
  const lineCount = countNewlines(bytes) + (unterminated ? 1 : 0);
  try {
    return { text: strict.decode(bytes), bytes, firstLine, lineCount, badLines: [], longLines };
  } catch {
    // Rare path: find the guilty lines one by one.
    const badLines: number[] = [];
    const parts: string[] = [];
    let start = 0;
    for (let line = firstLine; start < bytes.length; line++) {
      const nl = bytes.indexOf(NEWLINE, start);
      const end = nl === -1 ? bytes.length : nl + 1;
      const piece = bytes.subarray(start, end);
      try {
        parts.push(strict.decode(piece));
      } catch {
        badLines.push(line);
        parts.push(lenient.decode(piece));
      }
      start = end;
    }
    const text = parts.join('');
    return { text, bytes: Buffer.from(text, 'utf8'), firstLine, lineCount, badLines, longLines };
  }
}

/** Removes a UTF-8 BOM; refuses UTF-16, whose BOM is the one sure sign of it. */
function stripBom(file: string, buf: Buffer): Buffer {
  if ((buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff)) {
    throw new DataError('format', `${file} is UTF-16 encoded`, { file, line: 1 }, 'UTF-8 (save the file as UTF-8)');
  }
  return buf[0] === UTF8_BOM[0] && buf[1] === UTF8_BOM[1] && buf[2] === UTF8_BOM[2] ? buf.subarray(3) : buf;
}

/** Yields the file as chunks of whole lines, in order, about CHUNK_BYTES each. */
export async function* readLineChunks(
  file: string,
  chunkBytes = CHUNK_BYTES,
  maxLineBytes = MAX_LINE_BYTES,
): AsyncGenerator<LineChunk> {
  await fileSize(file);
  const stream = createReadStream(file, { highWaterMark: chunkBytes });
  let carry: Buffer = Buffer.alloc(0);
  let first = true;
  let line = 1;
  /** While the line being read is over the limit: its bytes are dropped up to its line break. */
  let dropping = false;
  /** The last byte dropped, to tell a CRLF whose CR was in an earlier read. */
  let lastDropped = 0;
  try {
    for await (const piece of stream as AsyncIterable<Buffer>) {
      let buf = carry.length > 0 ? Buffer.concat([carry, piece]) : piece;
      if (first) {
        // Three bytes are enough to recognise a BOM; a smaller first read waits for more.
        if (buf.length < 3) {
          carry = buf;
          continue;
        }
        buf = stripBom(file, buf);
        first = false;
      }
      if (dropping) {
        const nl = buf.indexOf(NEWLINE);
        carry = Buffer.alloc(0);
        if (nl === -1) {
          lastDropped = buf[buf.length - 1] ?? lastDropped;
          continue;
        }
        dropping = false;
        const cr = (nl > 0 ? buf[nl - 1] : lastDropped) === CR;
        yield longLineChunk(line, cr ? '\r\n' : '\n');
        line++;
        buf = buf.subarray(nl + 1);
      }
      const lastNewline = buf.lastIndexOf(NEWLINE);
      if (lastNewline === -1) {
        // One line longer than a chunk: keep reading until it ends, or drop it once over the limit.
        if (buf.length > maxLineBytes) {
          dropping = true;
          lastDropped = buf[buf.length - 1] ?? 0;
        } else carry = buf;
        continue;
      }
      // Copy the tail so the chunk's larger buffer can be freed.
      carry = Buffer.from(buf.subarray(lastNewline + 1));
      const chunk = decodeChunk(buf.subarray(0, lastNewline + 1), line, maxLineBytes);
      line += chunk.lineCount;
      yield chunk;
    }
  } finally {
    stream.destroy();
  }
  if (dropping) yield longLineChunk(line, '');
  else {
    if (first) carry = stripBom(file, carry);
    if (carry.length > 0) yield decodeChunk(carry, line, maxLineBytes);
  }
}
