import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedCleanConfig } from '../../shared/config.js';
import { type CleanCounts, emptyCleanCounts } from '../data/clean.js';
import { BadRows, DataError } from '../data/errors.js';
import { loadBatches } from '../data/load.js';
import type { Columns } from '../data/records.js';
import { corpusFiles } from '../data/text-files.js';
import { corpusKey } from './key.js';
import { TokenizerPool } from './pool.js';
import type { CorpusEncoding, JobResult } from './protocol.js';
import { CorpusWriter, TokenCorpus } from './store.js';

/**
 * A corpus tokenized once and kept: the cache folder of its key (key.ts) when one is complete,
 * else the corpus streamed from disk (JSON lines, CSV/TSV, plain text, a folder of .txt files),
 * tokenized by a pool of threads a chunk at a time, written into a temporary folder and renamed
 * into place only when complete, so a killed run leaves nothing that a later one would trust.
 */
export interface CorpusRequest {
  /** The file or folder (absolute), and the config key that named it, for messages. */
  input: string;
  configKey: string;
  tokenizerDir: string;
  encoding: CorpusEncoding;
  clean: ResolvedCleanConfig;
  columns: Columns;
  onBadRows: 'error' | 'skip';
  /** Folder of the caches, one subfolder per key. */
  cacheRoot: string;
  workers: number;
  /** Bytes per read (a job per read); tests make it small to spread a corpus over the threads. */
  chunkBytes?: number;
  log?: (line: string) => void;
  /** Called after each chunk's tokens are written (tests interrupt a build here). */
  onChunk?: (chunks: number) => void;
}

export interface BuiltCorpus {
  corpus: TokenCorpus;
  key: string;
  /** True when the cache was found complete and nothing was tokenized. */
  hit: boolean;
}

/** Temporary folders of builds whose process is gone (killed): never read, removed here. */
function removeDeadTemporaries(root: string, key: string): void {
  for (const name of readdirSync(root)) {
    const m = new RegExp(`^${key}\\.tmp-(\\d+)-`).exec(name);
    if (!m) continue;
    let alive = true;
    try {
      process.kill(Number(m[1]), 0);
    } catch (err) {
      // EPERM: the process exists but is another user's.
      alive = (err as NodeJS.ErrnoException).code === 'EPERM';
    }
    if (!alive || Number(m[1]) === process.pid) rmSync(join(root, name), { recursive: true, force: true });
  }
}

export async function tokenizedCorpus(r: CorpusRequest): Promise<BuiltCorpus> {
  const files = await corpusFiles(
    [r.input],
    (input, what) => new DataError('format', `${r.configKey} ${input}: ${what}`),
  );
  const { key, files: digests } = await corpusKey({
    input: r.input,
    files,
    tokenizerDir: r.tokenizerDir,
    encoding: r.encoding,
    clean: r.clean,
    textColumn: r.columns.text,
    onBadRows: r.onBadRows,
  });
  const dir = join(r.cacheRoot, key);
  const cached = TokenCorpus.open(dir, key);
  if (cached) {
    r.log?.(`tokenization cache hit ${key} (${cached.texts} texts, ${cached.meta.tokens} tokens)`);
    return { corpus: cached, key, hit: true };
  }
  mkdirSync(r.cacheRoot, { recursive: true });
  removeDeadTemporaries(r.cacheRoot, key);
  // A folder left by a write that never finished (or a damaged one) is not trusted: rebuilt.
  rmSync(dir, { recursive: true, force: true });
  const temp = join(r.cacheRoot, `${key}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(temp);
  const started = performance.now();
  const pool = new TokenizerPool({ tokenizerDir: r.tokenizerDir, clean: r.clean, encoding: r.encoding }, r.workers);
  const writer = new CorpusWriter(temp);
  const badRows = new BadRows(r.onBadRows);
  const counts = emptyCleanCounts();
  let read = 0;
  let chunks = 0;
  const write = (result: JobResult) => {
    writer.append(result);
    read += result.read;
    for (const k of Object.keys(counts) as (keyof CleanCounts)[]) counts[k] += result.counts[k];
    r.onChunk?.(++chunks);
  };
  try {
    // Two jobs a thread in flight: every thread stays busy while memory holds a few chunks.
    const inFlight: Promise<JobResult>[] = [];
    for (const file of files) {
      const options = {
        rows: 'text' as const,
        columns: r.columns,
        badRows,
        ...(r.chunkBytes ? { chunkBytes: r.chunkBytes } : {}),
      };
      for await (const batch of loadBatches(file, options)) {
        const job = pool.run(batch.map((e) => (e.kind === 'text' ? e.text : '')));
        // Awaited in order below; a job failing while an earlier one is awaited must not go unhandled.
        job.catch(() => undefined);
        inFlight.push(job);
        while (inFlight.length >= 2 * pool.size) write(await (inFlight.shift() as Promise<JobResult>));
      }
    }
    while (inFlight.length > 0) write(await (inFlight.shift() as Promise<JobResult>));
    if (writer.texts === 0) {
      throw new DataError(
        'empty-dataset',
        `${r.configKey} ${r.input}: no texts left (${read} read, ${badRows.count} bad rows skipped, ${counts.emptied} emptied by cleaning)`,
        undefined,
        'at least one line of text',
      );
    }
    writer.finish({
      key,
      read,
      files: digests,
      counts,
      skipped: {
        count: badRows.count,
        rows: badRows.listed.map((b) => ({ file: b.file, line: b.line, message: b.message })),
      },
    });
  } catch (err) {
    writer.abandon();
    rmSync(temp, { recursive: true, force: true });
    throw err;
  } finally {
    await pool.close();
  }
  try {
    renameSync(temp, dir);
  } catch (err) {
    // Another run built the same key meanwhile: its cache is as good as this one.
    rmSync(temp, { recursive: true, force: true });
    if (!TokenCorpus.open(dir, key)) throw err;
  }
  const corpus = TokenCorpus.open(dir, key);
  if (!corpus) throw new Error(`${dir}: the tokenized corpus just written does not read back`);
  const seconds = (performance.now() - started) / 1000;
  const mb = digests.reduce((n, f) => n + f.bytes, 0) / 1e6;
  r.log?.(
    `tokenized ${r.configKey} (${corpus.texts} texts, ${corpus.meta.tokens} tokens, ${mb.toFixed(1)} MB) in ${seconds.toFixed(1)} s ` +
      `(${(mb / Math.max(seconds, 1e-9)).toFixed(1)} MB/s, ${r.workers} threads) into cache ${key}`,
  );
  return { corpus, key, hit: false };
}
