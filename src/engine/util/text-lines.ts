import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { formatBytes, MAX_LINE_BYTES } from '../../shared/limits.js';

/** A line longer than the limit; `line` is its 1-based number, for the caller's file:line message. */
export class LineTooLongError extends Error {
  override readonly name = 'LineTooLongError';
  constructor(
    readonly line: number,
    readonly limit: number,
  ) {
    super(`line ${line} is longer than ${formatBytes(limit)}, the most a line may have`);
  }
}

/**
 * The lines of a UTF-8 text stream (LF, CRLF or CR ends, as readline reads them), with a leading
 * byte-order mark stripped, read as they arrive so a large file is never held whole, nor a line
 * longer than `maxChars` (MAX_LINE_BYTES: a character is at least a byte), which throws
 * LineTooLongError instead of growing without bound. The stream is destroyed when the iteration
 * ends, early or not; its errors (e.g. a file that cannot be opened) are thrown as they are.
 */
export async function* textLines(input: Readable, maxChars = MAX_LINE_BYTES): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let partial = '';
  let number = 1;
  /** The last chunk ended in CR: an LF starting the next one belongs to it. */
  let afterCr = false;
  const emit = (line: string) => {
    const text = number === 1 && line.charCodeAt(0) === 0xfeff ? line.slice(1) : line;
    number++;
    return text;
  };
  try {
    for await (const chunk of input as AsyncIterable<Buffer | string>) {
      let text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
      if (afterCr && text.startsWith('\n')) text = text.slice(1);
      if (text !== '') afterCr = text.endsWith('\r');
      let start = 0;
      for (const m of text.matchAll(/\r\n|\r|\n/g)) {
        const line = partial + text.slice(start, m.index);
        partial = '';
        if (line.length > maxChars) throw new LineTooLongError(number, maxChars);
        yield emit(line);
        start = m.index + m[0].length;
      }
      partial += text.slice(start);
      if (partial.length > maxChars) throw new LineTooLongError(number, maxChars);
    }
    partial += decoder.end();
    if (partial !== '') yield emit(partial);
  } finally {
    input.destroy();
  }
}

/**
 * The lines of a UTF-8 text file, as textLines reads a stream. `what` names the file's role in the
 * errors (e.g. "--train"); `errorOf` makes them the caller's error type.
 */
export async function* fileLines(
  path: string,
  what: string,
  errorOf: (message: string) => Error,
): AsyncGenerator<string> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw errorOf(`cannot open ${what} file '${path}': ${(err as Error).message}`);
  }
  try {
    // textLines closes the stream, and with it the file, when the iteration ends.
    yield* textLines(handle.createReadStream());
  } catch (err) {
    throw errorOf(`cannot read ${what} file '${path}': ${(err as Error).message}`);
  }
}
