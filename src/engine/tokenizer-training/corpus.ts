// The texts a tokenizer is trained on, streamed from disk so a corpus of any size is read with
// bounded memory: JSON-lines files (one text per row, from a column), plain text files (one text
// per line) and folders of .txt files.
import { createReadStream } from 'node:fs';
import { extname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { formatBytes, MAX_LINE_BYTES } from '../../shared/limits.js';
import { corpusFiles as listCorpusFiles } from '../data/text-files.js';

/** Bad input to tokenizer training: says what is wrong and where (file, line). */
export class TokenizerTrainingError extends Error {
  override readonly name = 'TokenizerTrainingError';
}

const JSONL = new Set(['.jsonl', '.json', '.ndjson']);
const LINE_END = /\r\n|\r|\n/g;

/** The files of the inputs, in order; a folder gives its .txt files (recursively, sorted by path). */
export const corpusFiles = (inputs: readonly string[]): Promise<string[]> =>
  listCorpusFiles(inputs, (input, what) => new TokenizerTrainingError(`--input ${input}: ${what}`));

/** Lines of a file read in one go, and the bytes read for them. */
export interface LineBatch {
  lines: string[];
  bytes: number;
}

/**
 * The lines of a UTF-8 file with their line endings kept ("\n", "\r\n" or "\r"), as Hugging
 * Face's `train_from_files` reads them (a ByteLevel tokenizer learns the newline as a token), in
 * batches of about a megabyte: one await per batch, not per line.
 */
export async function* lineBatches(file: string): AsyncGenerator<LineBatch> {
  const decoder = new StringDecoder('utf8');
  let partial = '';
  let first = true;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    let text = partial + decoder.write(chunk);
    if (first && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    const lines: string[] = [];
    let start = 0;
    for (const m of text.matchAll(LINE_END)) {
      // A CR at the very end may be the first half of a CRLF split across chunks.
      if (m[0] === '\r' && m.index === text.length - 1) break;
      const end = m.index + m[0].length;
      lines.push(text.slice(start, end));
      start = end;
    }
    partial = text.slice(start);
    if (partial.length > MAX_LINE_BYTES) {
      throw new TokenizerTrainingError(`${file}: a line is longer than ${formatBytes(MAX_LINE_BYTES)}`);
    }
    yield { lines, bytes: chunk.length };
  }
  partial += decoder.end();
  if (partial !== '') yield { lines: [partial], bytes: 0 };
}

/** One JSON line's text column; errors name the file and line. */
function jsonText(file: string, line: number, raw: string, column: string): string | null {
  let row: unknown;
  try {
    row = JSON.parse(raw);
  } catch (err) {
    throw new TokenizerTrainingError(`${file}:${line}: not valid JSON (${(err as Error).message})`);
  }
  if (row === null || typeof row !== 'object' || Array.isArray(row)) {
    throw new TokenizerTrainingError(`${file}:${line}: expected a JSON object with a "${column}" key`);
  }
  const value = (row as Record<string, unknown>)[column];
  if (value === undefined) {
    const keys = Object.keys(row).join(', ') || 'none';
    throw new TokenizerTrainingError(
      `${file}:${line}: no "${column}" column (keys: ${keys}); name the text column with --text-column`,
    );
  }
  if (value === null) return null;
  if (typeof value !== 'string') {
    throw new TokenizerTrainingError(`${file}:${line}: "${column}" is a ${typeof value}, expected a string`);
  }
  return value;
}

/**
 * The texts of the corpus, file after file, in batches. JSON lines give the text column of each
 * row (blank lines and null values are skipped); other files give each line, ending included.
 */
export async function* corpusTexts(files: readonly string[], textColumn: string): AsyncGenerator<LineBatch> {
  for (const file of files) {
    const isJson = JSONL.has(extname(file).toLowerCase());
    let line = 0;
    for await (const batch of lineBatches(file)) {
      if (!isJson) {
        line += batch.lines.length;
        yield batch;
        continue;
      }
      const texts: string[] = [];
      for (const raw of batch.lines) {
        line++;
        if (raw.trim() === '') continue;
        const text = jsonText(file, line, raw, textColumn);
        if (text !== null) texts.push(text);
      }
      yield { lines: texts, bytes: batch.bytes };
    }
  }
}
