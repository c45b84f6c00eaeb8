import { open, stat } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';

/**
 * Reads what was appended to a file since the last read (engine.log, events.jsonl), so a file
 * that grows to many megabytes is read once in total rather than once per change. A file that
 * shrank or was replaced is read again from the start (`restarted`). Multi-byte UTF-8 characters
 * split across reads are kept whole. No 'vscode' import.
 */
export class FileTail {
  private offset = 0;
  private decoder = new StringDecoder('utf8');
  private ino: number | undefined;

  constructor(readonly path: string) {}

  /** New text since the last call ('' when none or the file is missing). */
  async read(): Promise<{ text: string; restarted: boolean }> {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(this.path);
    } catch {
      return { text: '', restarted: false };
    }
    let restarted = false;
    if (info.size < this.offset || (this.ino !== undefined && info.ino !== this.ino)) {
      this.offset = 0;
      this.decoder = new StringDecoder('utf8');
      restarted = true;
    }
    this.ino = info.ino;
    if (info.size === this.offset) return { text: '', restarted };
    const handle = await open(this.path, 'r');
    try {
      const length = info.size - this.offset;
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, this.offset);
      this.offset += bytesRead;
      return { text: this.decoder.write(buffer.subarray(0, bytesRead)), restarted };
    } finally {
      await handle.close();
    }
  }
}

/** The last `count` non-empty lines of a file, reading at most its last `maxBytes`; [] if missing. */
export async function lastLines(path: string, count: number, maxBytes = 16 * 1024): Promise<string[]> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch {
    return [];
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const lines = buffer.toString('utf8').split(/\r?\n/);
    // Reading from the middle of the file: the first line is probably cut.
    if (length < size) lines.shift();
    return lines.filter((l) => l.trim() !== '').slice(-count);
  } finally {
    await handle.close();
  }
}
