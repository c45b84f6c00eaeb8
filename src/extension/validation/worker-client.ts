import { Worker, type WorkerOptions } from 'node:worker_threads';
import type { ConfigFormat, Diagnostic } from '../../shared/config-validate.js';
import { Disposable, toDisposable } from '../lifecycle.js';
import type { WorkerMessage, WorkerRequest } from './worker-protocol.js';

/**
 * The extension host's side of the config validation worker (config-worker.ts): one long-lived
 * worker thread, started on the first request and again after it dies or is stopped. Requests go
 * to it one at a time, answered by id, so that a validation that runs too long is known and only
 * it is given up: past the timeout the thread is terminated (a synchronous parse can't be
 * interrupted any other way) and the request is answered with a diagnostic that says where the
 * validation was. A request replaced by a newer version of the same document before its answer is
 * dropped, and whoever waited for it gets the newer answer. No 'vscode' import: tests drive it
 * in plain Node against the real worker.
 */

/** How long one validation may run in the worker before the worker is stopped. */
export const CONFIG_WORKER_TIMEOUT_MS = 5000;

/** A config whose validation would take the worker's heap past this stops the worker, not the host. */
export const CONFIG_WORKER_OPTIONS: WorkerOptions = {
  name: 'Fine-tune config validation',
  resourceLimits: { maxOldGenerationSizeMb: 512 },
};

/** Starts the worker bundle (dist/config-worker.js in the installed extension). */
export function startConfigWorker(file: string): Worker {
  return new Worker(file, CONFIG_WORKER_OPTIONS);
}

export interface ValidationJob {
  /** What is validated (a document's uri): a newer job with the same key replaces an older one. */
  key: string;
  /** Increases with every change of the text under `key`. */
  version: number;
  text: string;
  format: ConfigFormat;
  /** The config's folder: with it, the file checks run (data files, model folder). */
  configDir?: string;
}

export interface ValidationOutcome {
  /** The job validated: the one asked for, or the newer one of its key that replaced it. */
  job: ValidationJob;
  diagnostics: Diagnostic[];
  /** Absolute paths the file checks looked at. */
  touched: string[];
}

export interface ConfigValidatorOptions {
  /** Starts a worker thread running config-worker.ts. */
  start: () => Worker;
  timeoutMs?: number;
  log?: (message: string) => void;
}

interface Waiter {
  resolve(outcome: ValidationOutcome): void;
  reject(error: Error): void;
}

interface Entry {
  job: ValidationJob;
  waiters: Waiter[];
}

interface InFlight extends Entry {
  id: number;
  /** The phase the worker last said it entered. */
  phase: string;
  timer: NodeJS.Timeout;
}

export const GAVE_UP_CODE = 'validation-gave-up';
const NOT_SHOWN = 'the problems of this file are not shown (`finetune validate` on the command line lists them).';

/** The answer to a validation the worker could not finish: at the top of the file, saying where it was. */
export function gaveUpDiagnostic(reason: string, phase: string): Diagnostic {
  const at = { line: 0, character: 0 };
  const message = `Validation gave up during ${phase}: ${reason}, so ${NOT_SHOWN}`;
  return { severity: 'warning', message, code: GAVE_UP_CODE, path: [], range: { start: at, end: at } };
}

export class ConfigValidator extends Disposable {
  private worker: Worker | undefined;
  /** Jobs not sent yet, one per key, in the order their keys were first asked for. */
  private readonly queue = new Map<string, Entry>();
  private current: InFlight | undefined;
  private nextId = 1;
  private readonly timeoutMs: number;

  constructor(private readonly options: ConfigValidatorOptions) {
    super();
    this.timeoutMs = options.timeoutMs ?? CONFIG_WORKER_TIMEOUT_MS;
    this._register(toDisposable(() => this.shutDown()));
  }

  /** Validates in the worker; the outcome may be of a newer version of the same key. */
  validate(job: ValidationJob): Promise<ValidationOutcome> {
    if (this.isDisposed) return Promise.reject(new Error('The config validator is disposed.'));
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject };
      const queued = this.queue.get(job.key);
      if (queued) {
        // Not sent yet: only the newest text is validated, and every caller gets that answer.
        if (job.version > queued.job.version) queued.job = job;
        queued.waiters.push(waiter);
        return;
      }
      const entry: Entry = { job, waiters: [waiter] };
      const current = this.current;
      if (current?.job.key === job.key) {
        if (job.version <= current.job.version) {
          current.waiters.push(waiter);
          return;
        }
        // The text in the worker is out of date: its answer will be dropped, and those waiting
        // for it get this one's.
        entry.waiters.unshift(...current.waiters.splice(0));
      }
      this.queue.set(job.key, entry);
      this.pump();
    });
  }

  /** Sends the next job when the worker is free. */
  private pump(): void {
    if (this.current || this.isDisposed) return;
    const next = this.queue.values().next();
    if (next.done) return;
    const { job, waiters } = next.value;
    this.queue.delete(job.key);
    const worker = this.worker ?? this.spawn();
    const id = this.nextId++;
    const seconds = this.timeoutMs / 1000;
    const current: InFlight = {
      job,
      waiters,
      id,
      phase: 'the start of the validator',
      timer: setTimeout(() => this.giveUp(current, `it took more than ${seconds} s and was stopped`), this.timeoutMs),
    };
    this.current = current;
    const request: WorkerRequest = { id, text: job.text, format: job.format };
    if (job.configDir !== undefined) request.configDir = job.configDir;
    worker.postMessage(request);
  }

  private spawn(): Worker {
    const worker = this.options.start();
    this.worker = worker;
    // Events of a worker already replaced (stopped for time) are not about the current request.
    worker.on('message', (message: WorkerMessage) => {
      if (this.worker === worker) this.receive(message);
    });
    worker.on('error', (err) => {
      if (this.worker === worker) this.lost(`the validator failed (${err.message})`);
    });
    worker.on('exit', (code) => {
      if (this.worker === worker) this.lost(`the validator exited with code ${code}`);
    });
    return worker;
  }

  private receive(message: WorkerMessage): void {
    const current = this.current;
    if (!current || message.id !== current.id) return;
    if ('phase' in message) {
      current.phase = message.phase;
      return;
    }
    const waiters = this.settle(current);
    if ('error' in message) {
      const error = new Error(`Validating the config failed: ${message.error}`);
      for (const w of waiters) w.reject(error);
    } else {
      const outcome = { job: current.job, diagnostics: message.diagnostics, touched: message.touched };
      for (const w of waiters) w.resolve(outcome);
    }
    this.pump();
  }

  /** Stops the worker running `current` (a new one starts for the next job) and answers it. */
  private giveUp(current: InFlight, reason: string): void {
    if (this.current !== current) return;
    const worker = this.worker;
    this.worker = undefined;
    void worker?.terminate();
    this.answerGaveUp(current, reason);
  }

  /** The worker died by itself (an exception, the heap limit): the job it ran can't be answered. */
  private lost(reason: string): void {
    this.worker = undefined;
    const current = this.current;
    if (current) this.answerGaveUp(current, reason);
    else this.options.log?.(`Config validation: ${reason}; a new worker starts with the next validation.`);
  }

  private answerGaveUp(current: InFlight, reason: string): void {
    this.options.log?.(`Config validation of ${current.job.key} gave up during ${current.phase}: ${reason}.`);
    const outcome = { job: current.job, diagnostics: [gaveUpDiagnostic(reason, current.phase)], touched: [] };
    for (const w of this.settle(current)) w.resolve(outcome);
    this.pump();
  }

  private settle(current: InFlight): Waiter[] {
    clearTimeout(current.timer);
    this.current = undefined;
    return current.waiters;
  }

  private shutDown(): void {
    const worker = this.worker;
    this.worker = undefined;
    void worker?.terminate();
    const error = new Error('The config validator is disposed.');
    const entries = [
      ...(this.current ? [this.settle(this.current)] : []),
      ...[...this.queue.values()].map((e) => e.waiters),
    ];
    this.queue.clear();
    for (const waiters of entries) for (const w of waiters) w.reject(error);
  }
}
