import { createHash } from 'node:crypto';
import { Cleaner } from '../data/clean.js';
import type { Tokenizer, TokenVisitor } from '../tokenize/index.js';
import { startsWord } from '../tokenize/words.js';
import { type JobRequest, type JobResult, TOKEN_SPECIAL, TOKEN_WORD_START, type WorkerInit } from './protocol.js';

/** Token ids and flags of a job, in typed arrays that double when full. */
class TokenBuffer {
  ids = new Uint32Array(1 << 16);
  flags = new Uint8Array(1 << 16);
  length = 0;

  push(id: number, flags: number): void {
    if (this.length === this.ids.length) {
      const ids = new Uint32Array(this.ids.length * 2);
      ids.set(this.ids);
      this.ids = ids;
      const fl = new Uint8Array(this.flags.length * 2);
      fl.set(this.flags);
      this.flags = fl;
    }
    this.ids[this.length] = id;
    this.flags[this.length] = flags;
    this.length++;
  }
}

/**
 * One job of a corpus tokenizer thread (worker.ts): cleans each text as data.clean says (as the
 * in-memory pipeline does), hashes it for exact dedup, and tokenizes it straight into the job's
 * typed arrays (ids, and flags: special, and word start by transformers' rule, words.ts). Apart
 * from the thread so the benchmarks can time it in-process.
 */
export function tokenizeJob(tokenizer: Tokenizer, init: WorkerInit, job: JobRequest): JobResult {
  const { maxLength, blankAsEmpty } = init.encoding;
  const cleaner = new Cleaner(init.clean);
  const lengths: number[] = [];
  const hashes: number[] = [];
  const out = new TokenBuffer();
  // The previous token of the current text: where it ended (-1: none yet), and whether it was special.
  let previousEnd = -1;
  let previousSpecial = false;
  const visit: TokenVisitor = (id, start, end, special) => {
    if (special) out.push(id, TOKEN_SPECIAL);
    else out.push(id, startsWord(start, previousEnd, previousSpecial) ? TOKEN_WORD_START : 0);
    previousEnd = end;
    previousSpecial = special;
  };
  for (const raw of job.texts) {
    const cleaned = cleaner.example({ kind: 'text', text: raw, source: { file: '', line: 0 } });
    if (cleaned?.kind !== 'text') continue;
    const text = cleaned.text;
    const digest = createHash('sha1').update(text).digest();
    hashes.push(digest.readUInt32LE(0), digest.readUInt32LE(4));
    if (blankAsEmpty && text.trim().length === 0) {
      lengths.push(0);
      continue;
    }
    previousEnd = -1;
    previousSpecial = false;
    lengths.push(tokenizer.forEachToken(text, maxLength, visit));
  }
  return {
    id: job.id,
    read: job.texts.length,
    lengths: Uint32Array.from(lengths),
    // Copies of their own (slice), so the transfer to the main thread moves only these bytes.
    ids: out.ids.slice(0, out.length),
    flags: out.flags.slice(0, out.length),
    hashes: Uint32Array.from(hashes),
    counts: cleaner.counts,
  };
}
