import { createHash } from 'node:crypto';
import { Cleaner } from '../data/clean.js';
import type { Tokenizer } from '../tokenize/index.js';
import { wordStarts } from '../tokenize/words.js';
import { type JobRequest, type JobResult, TOKEN_SPECIAL, TOKEN_WORD_START, type WorkerInit } from './protocol.js';

/**
 * One job of a corpus tokenizer thread (worker.ts): cleans each text as data.clean says (as the
 * in-memory pipeline does), hashes it for exact dedup, and tokenizes it. Apart from the thread so
 * the benchmarks can time it in-process.
 */
export function tokenizeJob(tokenizer: Tokenizer, init: WorkerInit, job: JobRequest): JobResult {
  const { maxLength, blankAsEmpty } = init.encoding;
  const encodeOptions = maxLength === null ? {} : { maxLength };
  const cleaner = new Cleaner(init.clean);
  const lengths: number[] = [];
  const hashes: number[] = [];
  const idParts: number[][] = [];
  const flagParts: Uint8Array[] = [];
  let tokens = 0;
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
    const enc = tokenizer.encode(text, null, encodeOptions);
    const starts = wordStarts(enc.offsets, enc.specialTokensMask);
    const flags = new Uint8Array(enc.ids.length);
    for (let t = 0; t < flags.length; t++) {
      flags[t] = (enc.specialTokensMask[t] === 1 ? TOKEN_SPECIAL : 0) | (starts[t] === 1 ? TOKEN_WORD_START : 0);
    }
    lengths.push(enc.ids.length);
    idParts.push(enc.ids);
    flagParts.push(flags);
    tokens += enc.ids.length;
  }
  const ids = new Uint32Array(tokens);
  const flags = new Uint8Array(tokens);
  let at = 0;
  idParts.forEach((part, i) => {
    ids.set(part, at);
    flags.set(flagParts[i] as Uint8Array, at);
    at += part.length;
  });
  return {
    id: job.id,
    read: job.texts.length,
    lengths: Uint32Array.from(lengths),
    ids,
    flags,
    hashes: Uint32Array.from(hashes),
    counts: cleaner.counts,
  };
}
