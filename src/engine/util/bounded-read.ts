import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { formatBytes, formatOver } from '../../shared/limits.js';

/**
 * Whole-file reads with a size limit (src/shared/limits.ts): the size is checked on the open file
 * before anything is read, so a file far larger than its kind ever is (a corrupt download, a wrong
 * path) is refused with its name instead of being loaded into memory.
 */
export class FileTooLargeError extends Error {
  override readonly name = 'FileTooLargeError';
  constructor(
    readonly file: string,
    readonly size: number,
    readonly limit: number,
    what: string,
  ) {
    super(`${file} is ${formatOver(size, limit)}, more than the ${formatBytes(limit)} ${what} may have`);
  }
}

/**
 * The file as UTF-8 text. `what` names the kind of file in the error ("a tokenizer.json"). Errors
 * of the file system (a missing file) are thrown as they are, for the caller to word.
 */
export function readTextBounded(file: string, limit: number, what: string): string {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size > limit) throw new FileTooLargeError(file, size, limit, what);
    const buffer = Buffer.alloc(size);
    let done = 0;
    while (done < size) {
      const got = readSync(fd, buffer, done, size - done, done);
      if (got === 0) break; // shrank while being read: what was there is what there is
      done += got;
    }
    return buffer.subarray(0, done).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** The file parsed as JSON; a parse error names the file. */
export function readJsonBounded(file: string, limit: number, what: string): unknown {
  const text = readTextBounded(file, limit, what);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${file} is not valid JSON: ${(error as Error).message}`);
  }
}
