import { open, stat } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { splitLines } from './events.js';

/**
 * Reads what another process appended to a file since the last read (engine.log, events.jsonl),
 * so a file that grows to many megabytes is read once in total rather than once per change. The
 * one tail of the extension: the run output channels read text, the runs view and the run panel
 * read events.jsonl line by line. A file that shrank or was replaced (another inode under the same
 * name) is read again from its start (`restarted`). Multi-byte UTF-8 characters split across reads
 * are kept whole. No 'vscode' import.
 */
export interface TextChunk {
  /** The text appended since the last read ('' when none or the file is missing). */
  text: string;
  /** The file was rewritten: `text` starts from its beginning, and what was read before is stale. */
  restarted: boolean;
}

export interface LinesChunk {
  /**
   * The lines completed since the last read, without their '\n' (a '\r' and blank lines are left
   * for the caller, which trims). A last line without its newline is a write in progress: it is
   * held back until the rest arrives.
   */
  lines: string[];
  restarted: boolean;
}

/** Bytes read at most per read call, so a large append does not need one buffer of its size. */
const CHUNK = 1 << 20;

export class FileTail {
  private offset = 0;
  private ino: number | undefined;
  private decoder = new StringDecoder('utf8');
  /** The unfinished last line, for readLines(). */
  private carry = '';

  constructor(readonly path: string) {}

  /** New text since the last call. Use one of read() and readLines() per tail, not both. */
  async read(): Promise<TextChunk> {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(this.path);
    } catch {
      return { text: '', restarted: false }; // not written yet
    }
    let restarted = false;
    if (info.size < this.offset || (this.ino !== undefined && info.ino !== this.ino)) {
      this.offset = 0;
      this.decoder = new StringDecoder('utf8');
      this.carry = '';
      restarted = true;
    }
    this.ino = info.ino;
    if (info.size === this.offset) return { text: '', restarted };
    let text = '';
    const handle = await open(this.path, 'r');
    try {
      while (this.offset < info.size) {
        const buffer = Buffer.alloc(Math.min(CHUNK, info.size - this.offset));
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.offset);
        if (bytesRead === 0) break;
        this.offset += bytesRead;
        text += this.decoder.write(buffer.subarray(0, bytesRead));
      }
    } finally {
      await handle.close();
    }
    return { text, restarted };
  }

  /** The lines completed since the last call (see LinesChunk). */
  async readLines(): Promise<LinesChunk> {
    const { text, restarted } = await this.read();
    const { lines, carry } = splitLines(this.carry, text);
    this.carry = carry;
    return { lines, restarted };
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
