import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';
import type { CleanCounts } from '../data/clean.js';
import type { JobResult } from './protocol.js';

/**
 * The on-disk form of a tokenized corpus, one folder per cache key:
 *   ids.u32      every kept text's token ids, concatenated (uint32, little-endian)
 *   flags.u8     one byte per token (protocol.ts: special, word start)
 *   offsets.u64  texts + 1 token offsets: text i is tokens [offsets[i], offsets[i + 1])
 *   hashes.u32   two words per text: its exact-dedup hash
 *   meta.json    what the folder holds, written last: a folder without it is not a cache
 * Readers take tokens by offset (a batch at a time), never the whole corpus.
 */
export const CACHE_FORMAT = 1;
const FILES = { ids: 'ids.u32', flags: 'flags.u8', offsets: 'offsets.u64', hashes: 'hashes.u32', meta: 'meta.json' };

if (endianness() !== 'LE') throw new Error('the tokenized-corpus cache is little-endian; this machine is not');

export interface CorpusMeta {
  format: number;
  key: string;
  /** Texts kept (after cleaning) and their tokens. */
  texts: number;
  tokens: number;
  /** Texts read, before cleaning dropped any. */
  read: number;
  files: { path: string; bytes: number; sha256: string }[];
  counts: CleanCounts;
  /** Rows skipped as bad (data.on_bad_rows: skip), and the first few of them. */
  skipped: { count: number; rows: { file: string; line: number; message: string }[] };
}

/** A Uint32Array that grows: the per-text arrays, which are N ints, not the corpus. */
class U32List {
  private data = new Uint32Array(1024);
  length = 0;
  push(values: Uint32Array): void {
    if (this.length + values.length > this.data.length) {
      const grown = new Uint32Array(Math.max(this.data.length * 2, this.length + values.length));
      grown.set(this.data.subarray(0, this.length));
      this.data = grown;
    }
    this.data.set(values, this.length);
    this.length += values.length;
  }
  view(): Uint32Array {
    return this.data.subarray(0, this.length);
  }
}

const bytesOf = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Appends all of `bytes` (writeSync may write less than asked). */
function writeFully(fd: number, bytes: Buffer): void {
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
}

/** Writes a cache folder (a temporary one: the builder renames it into place once complete). */
export class CorpusWriter {
  private readonly ids: number;
  private readonly flags: number;
  private readonly lengths = new U32List();
  private readonly hashes = new U32List();
  private tokens = 0;

  constructor(private readonly dir: string) {
    this.ids = openSync(join(dir, FILES.ids), 'w');
    this.flags = openSync(join(dir, FILES.flags), 'w');
  }

  append(r: JobResult): void {
    writeFully(this.ids, bytesOf(r.ids));
    writeFully(this.flags, bytesOf(r.flags));
    this.lengths.push(r.lengths);
    this.hashes.push(r.hashes);
    this.tokens += r.ids.length;
  }

  get texts(): number {
    return this.lengths.length;
  }

  /** Closes the token files, writes the index and then meta.json. */
  finish(meta: Omit<CorpusMeta, 'format' | 'texts' | 'tokens'>): CorpusMeta {
    closeSync(this.ids);
    closeSync(this.flags);
    const lengths = this.lengths.view();
    const offsets = new BigUint64Array(lengths.length + 1);
    let at = 0;
    lengths.forEach((n, i) => {
      at += n;
      offsets[i + 1] = BigInt(at);
    });
    writeFileSync(join(this.dir, FILES.offsets), bytesOf(offsets));
    writeFileSync(join(this.dir, FILES.hashes), bytesOf(this.hashes.view()));
    const full: CorpusMeta = { format: CACHE_FORMAT, texts: lengths.length, tokens: this.tokens, ...meta };
    writeFileSync(join(this.dir, FILES.meta), `${JSON.stringify(full, null, 2)}\n`);
    return full;
  }

  /** Closes the files of a write given up. */
  abandon(): void {
    for (const fd of [this.ids, this.flags]) {
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
    }
  }
}

/** Fills `into` from `position` of the file (readSync may return less than asked). */
function readFully(fd: number, into: Buffer, position: number): void {
  for (let done = 0; done < into.length; ) {
    const n = readSync(fd, into, done, into.length - done, position + done);
    if (n === 0) throw new Error('the tokenized-corpus cache ends early (was it changed while in use?)');
    done += n;
  }
}

/** A span of the corpus's token stream: ids and their flags. */
export interface TokenSpan {
  ids: Uint32Array;
  flags: Uint8Array;
}

/** A complete cache folder, read by offset. */
export class TokenCorpus {
  private constructor(
    readonly dir: string,
    readonly meta: CorpusMeta,
    /** Token offsets of the texts (texts + 1), as numbers (exact below 2^53 tokens). */
    readonly offsets: Float64Array,
    readonly hashes: Uint32Array,
    private readonly idsFd: number,
    private readonly flagsFd: number,
  ) {}

  /**
   * The cache in `dir`, or undefined when it is not a complete one of this format: no meta.json
   * (a write that never finished), another format, or files whose sizes disagree with meta.json.
   */
  static open(dir: string, key: string): TokenCorpus | undefined {
    const metaFile = join(dir, FILES.meta);
    if (!existsSync(metaFile)) return undefined;
    let meta: CorpusMeta;
    try {
      meta = JSON.parse(readFileSync(metaFile, 'utf8')) as CorpusMeta;
    } catch {
      return undefined;
    }
    if (meta.format !== CACHE_FORMAT || meta.key !== key) return undefined;
    const fds: number[] = [];
    try {
      const ids = openSync(join(dir, FILES.ids), 'r');
      fds.push(ids);
      const flags = openSync(join(dir, FILES.flags), 'r');
      fds.push(flags);
      const raw = readFileSync(join(dir, FILES.offsets));
      const hashesRaw = readFileSync(join(dir, FILES.hashes));
      const sound =
        fstatSync(ids).size === meta.tokens * 4 &&
        fstatSync(flags).size === meta.tokens &&
        raw.length === (meta.texts + 1) * 8 &&
        hashesRaw.length === meta.texts * 8;
      if (!sound) throw new Error('sizes differ from meta.json');
      const big = new BigUint64Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
      const offsets = Float64Array.from(big, (v) => Number(v));
      if (offsets[meta.texts] !== meta.tokens) throw new Error('offsets differ from meta.json');
      const hashes = new Uint32Array(
        hashesRaw.buffer.slice(hashesRaw.byteOffset, hashesRaw.byteOffset + hashesRaw.length),
      );
      return new TokenCorpus(dir, meta, offsets, hashes, ids, flags);
    } catch {
      for (const fd of fds) closeSync(fd);
      return undefined;
    }
  }

  get texts(): number {
    return this.meta.texts;
  }

  lengthOf(text: number): number {
    return (this.offsets[text + 1] as number) - (this.offsets[text] as number);
  }

  /** Tokens [start, end) of the whole stream. */
  span(start: number, end: number): TokenSpan {
    const n = end - start;
    const ids = new Uint32Array(n);
    const flags = new Uint8Array(n);
    readFully(this.idsFd, bytesOf(ids), start * 4);
    readFully(this.flagsFd, bytesOf(flags), start);
    return { ids, flags };
  }

  /** Tokens [from, to) of one text (the whole text by default). */
  text(i: number, from = 0, to = this.lengthOf(i)): TokenSpan {
    const base = this.offsets[i] as number;
    return this.span(base + from, base + to);
  }

  close(): void {
    closeSync(this.idsFd);
    closeSync(this.flagsFd);
  }
}
