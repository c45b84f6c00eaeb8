import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

/**
 * The lines of a UTF-8 text stream (LF or CRLF ends), with a leading byte-order mark stripped,
 * read as they arrive so a large file is never held whole. The stream is destroyed when the
 * iteration ends, early or not; its errors (e.g. a file that cannot be opened) are thrown from the
 * iteration as they are.
 */
export async function* textLines(input: Readable): AsyncGenerator<string> {
  input.setEncoding('utf8');
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let first = true;
  try {
    for await (const line of lines) {
      yield first && line.charCodeAt(0) === 0xfeff ? line.slice(1) : line;
      first = false;
    }
  } finally {
    lines.close();
    input.destroy();
  }
}
