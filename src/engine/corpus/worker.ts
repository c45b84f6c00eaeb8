import { parentPort, workerData } from 'node:worker_threads';
import { Tokenizer } from '../tokenize/index.js';
import type { JobRequest, WorkerInit, WorkerReply } from './protocol.js';
import { tokenizeJob } from './tokenize-job.js';

/**
 * A tokenizer thread of the corpus builder: runs tokenize-job.ts on each job it is sent. Started
 * by pool.ts, from the dist/corpus-worker.js bundle or, under tsx, from this file.
 */
const init = workerData as WorkerInit;
const tokenizer = Tokenizer.fromFolder(init.tokenizerDir);

const port = parentPort;
if (!port) throw new Error('corpus worker: started outside a worker thread');
port.on('message', (job: JobRequest) => {
  let reply: WorkerReply;
  try {
    const result = tokenizeJob(tokenizer, init, job);
    reply = { kind: 'result', result };
    // The arrays were made here, on ArrayBuffers of their own: moved, not copied.
    const buffers = [result.lengths, result.ids, result.flags, result.hashes].map((a) => a.buffer as ArrayBuffer);
    port.postMessage(reply, buffers);
  } catch (err) {
    reply = { kind: 'error', id: job.id, message: err instanceof Error ? err.message : String(err) };
    port.postMessage(reply);
  }
});
