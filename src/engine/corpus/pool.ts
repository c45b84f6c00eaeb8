import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { JobResult, WorkerInit, WorkerReply } from './protocol.js';

/**
 * A pool of tokenizer threads (worker.ts). Jobs go to the least busy thread; their results come
 * back as promises, which the builder awaits in submission order, so the cache it writes does not
 * depend on which thread finished first.
 */

/** data.tokenize_workers, else one thread per core (os.availableParallelism()). */
export function workerCount(configured: number | undefined): number {
  return configured ?? Math.max(1, availableParallelism());
}

/**
 * Starts one thread: the bundled dist/corpus-worker.js next to the running bundle, or, when the
 * engine runs from its TypeScript sources (tests, under tsx), worker.ts loaded through tsx.
 */
function startWorker(init: WorkerInit): Worker {
  const options = { name: 'Fine-tune corpus tokenizer', workerData: init };
  if (!__filename.endsWith('.ts')) return new Worker(join(__dirname, 'corpus-worker.js'), options);
  const tsx = require.resolve('tsx/cjs');
  const source = `require(${JSON.stringify(tsx)}); require(${JSON.stringify(join(__dirname, 'worker.ts'))});`;
  return new Worker(source, { ...options, eval: true });
}

interface Pending {
  resolve(result: JobResult): void;
  reject(error: Error): void;
}

interface Thread {
  worker: Worker;
  busy: Map<number, Pending>;
}

export class TokenizerPool {
  private readonly threads: Thread[] = [];
  private nextId = 0;
  private failure: Error | undefined;

  constructor(init: WorkerInit, count: number) {
    for (let i = 0; i < count; i++) {
      const thread: Thread = { worker: startWorker(init), busy: new Map() };
      thread.worker.on('message', (reply: WorkerReply) => {
        const id = reply.kind === 'result' ? reply.result.id : reply.id;
        const pending = thread.busy.get(id);
        thread.busy.delete(id);
        if (reply.kind === 'result') pending?.resolve(reply.result);
        else pending?.reject(new Error(`tokenizing the corpus: ${reply.message}`));
      });
      const fail = (error: Error) => {
        this.failure ??= error;
        for (const p of thread.busy.values()) p.reject(error);
        thread.busy.clear();
      };
      thread.worker.on('error', (err) => fail(new Error(`a corpus tokenizer thread failed: ${err.message}`)));
      thread.worker.on('exit', (code) => {
        if (thread.busy.size > 0) fail(new Error(`a corpus tokenizer thread exited (code ${code}) mid-job`));
      });
      this.threads.push(thread);
    }
  }

  get size(): number {
    return this.threads.length;
  }

  /** Tokenizes `texts` on the least busy thread. */
  run(texts: string[]): Promise<JobResult> {
    if (this.failure) return Promise.reject(this.failure);
    const thread = this.threads.reduce((a, b) => (b.busy.size < a.busy.size ? b : a));
    const id = this.nextId++;
    return new Promise<JobResult>((resolve, reject) => {
      thread.busy.set(id, { resolve, reject });
      thread.worker.postMessage({ id, texts });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }
}
