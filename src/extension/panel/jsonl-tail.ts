import { open, stat } from 'node:fs/promises';

/**
 * Reads a file that another process appends JSON lines to (the run's `events.jsonl`), returning
 * only what was added since the last read. The engine flushes one line per event, but a read can
 * still land in the middle of a write: the bytes after the last newline are kept and completed by
 * the next read. Bytes, not text, are kept, so a multi-byte character split by a read is decoded
 * whole. A line that is complete but not JSON is counted and skipped, never fatal.
 */
export interface TailResult<T> {
  values: T[];
  /** True when the file was shorter than what was read before (rewritten): `values` start from its beginning. */
  reset: boolean;
  /** Complete lines that were not valid JSON, in this read. */
  badLines: number;
}

const CHUNK = 1 << 20;

export class JsonlTail<T = unknown> {
  private offset = 0;
  private partial: Buffer = Buffer.alloc(0);
  private inode: number | undefined;

  constructor(readonly path: string) {}

  /** Bytes consumed so far (complete lines only). */
  get position(): number {
    return this.offset - this.partial.length;
  }

  async read(): Promise<TailResult<T>> {
    let size: number;
    let inode: number;
    try {
      ({ size, ino: inode } = await stat(this.path));
    } catch {
      return { values: [], reset: false, badLines: 0 }; // not written yet
    }
    let reset = false;
    // Shorter than before, or another file under the same name: it was rewritten, start over.
    const replaced = this.inode !== undefined && inode !== this.inode;
    this.inode = inode;
    if (size < this.offset || replaced) {
      this.offset = 0;
      this.partial = Buffer.alloc(0);
      reset = true;
    }
    if (size === this.offset) return { values: [], reset, badLines: 0 };
    const chunks: Buffer[] = [this.partial];
    const handle = await open(this.path, 'r');
    try {
      while (this.offset < size) {
        const buf = Buffer.alloc(Math.min(CHUNK, size - this.offset));
        const { bytesRead } = await handle.read(buf, 0, buf.length, this.offset);
        if (bytesRead === 0) break;
        chunks.push(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead));
        this.offset += bytesRead;
      }
    } finally {
      await handle.close();
    }
    const data = Buffer.concat(chunks);
    const end = data.lastIndexOf(10);
    this.partial = Buffer.from(data.subarray(end + 1));
    const values: T[] = [];
    let badLines = 0;
    if (end >= 0) {
      for (const line of data.subarray(0, end).toString('utf8').split('\n')) {
        const trimmed = line.trim();
        if (trimmed === '') continue;
        try {
          values.push(JSON.parse(trimmed) as T);
        } catch {
          badLines++;
        }
      }
    }
    return { values, reset, badLines };
  }
}
