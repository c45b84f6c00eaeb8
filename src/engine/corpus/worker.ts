import { createHash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { Cleaner } from '../data/clean.js';
import { Tokenizer } from '../tokenize/index.js';
import { wordStarts } from '../tokenize/words.js';
import {
  type JobRequest,
  type JobResult,
  TOKEN_SPECIAL,
  TOKEN_WORD_START,
  type WorkerInit,
  type WorkerReply,
} from './protocol.js';

/**
 * A tokenizer thread of the corpus builder: cleans each text as data.clean says (as the in-memory
 * pipeline does), hashes it for exact dedup, and tokenizes it. Started by pool.ts, from the
 * dist/corpus-worker.js bundle or, under tsx, from this file.
 */
const init = workerData as WorkerInit;
const tokenizer = Tokenizer.fromFolder(init.tokenizerDir);
const { maxLength, blankAsEmpty } = init.encoding;
const encodeOptions = maxLength === null ? {} : { maxLength };

function run(job: JobRequest): JobResult {
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

const port = parentPort;
if (!port) throw new Error('corpus worker: started outside a worker thread');
port.on('message', (job: JobRequest) => {
  let reply: WorkerReply;
  try {
    const result = run(job);
    reply = { kind: 'result', result };
    // The arrays were made here, on ArrayBuffers of their own: moved, not copied.
    const buffers = [result.lengths, result.ids, result.flags, result.hashes].map((a) => a.buffer as ArrayBuffer);
    port.postMessage(reply, buffers);
  } catch (err) {
    reply = { kind: 'error', id: job.id, message: err instanceof Error ? err.message : String(err) };
    port.postMessage(reply);
  }
});
