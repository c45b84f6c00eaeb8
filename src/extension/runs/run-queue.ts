import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RUN_FILES, type RunState, type RunStatus } from '../../shared/run-directory.js';
import { parseStatus } from './run-reader.js';

/**
 * Runs waiting for a free slot (setting `finetune.maxConcurrentRuns`). The queue is the window's,
 * persisted in workspace state so it survives a reload; each waiting run also has a status.json
 * in state `queued` whose pid is the extension host's, so the folder tells the truth to every
 * reader, and a queue whose window is gone for good reads as failed rather than waiting forever.
 * No 'vscode' import.
 */
export interface QueuedJob {
  kind: 'train' | 'resume';
  runDir: string;
  /** The config file, for `train`. */
  configPath?: string;
  /** The engine's working directory (the workspace folder). */
  cwd: string;
}

export interface QueueStore {
  load(): readonly QueuedJob[];
  save(jobs: readonly QueuedJob[]): void;
}

export class RunQueue {
  private jobs: QueuedJob[];

  constructor(private readonly store: QueueStore) {
    this.jobs = [...store.load()];
  }

  get size(): number {
    return this.jobs.length;
  }

  list(): readonly QueuedJob[] {
    return this.jobs;
  }

  has(runDir: string): boolean {
    return this.jobs.some((j) => j.runDir === runDir);
  }

  add(job: QueuedJob): void {
    this.jobs = [...this.jobs.filter((j) => j.runDir !== job.runDir), job];
    this.store.save(this.jobs);
  }

  remove(runDir: string): QueuedJob | undefined {
    const job = this.jobs.find((j) => j.runDir === runDir);
    if (job) {
      this.jobs = this.jobs.filter((j) => j !== job);
      this.store.save(this.jobs);
    }
    return job;
  }

  /** Takes the oldest job out of the queue. */
  shift(): QueuedJob | undefined {
    const job = this.jobs[0];
    if (job) this.remove(job.runDir);
    return job;
  }
}

async function readStatus(runDir: string): Promise<RunStatus | undefined> {
  try {
    const parsed = parseStatus(await readFile(join(runDir, RUN_FILES.status), 'utf8'));
    return typeof parsed === 'string' ? undefined : parsed;
  } catch {
    return undefined;
  }
}

/** Writes status.json the way the engine does: a temporary file renamed into place. */
export async function writeStatus(runDir: string, status: RunStatus): Promise<void> {
  const path = join(runDir, RUN_FILES.status);
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify(status, null, 2)}\n`);
  await rename(tmp, path);
}

/**
 * Sets the state of a run no engine is working on (queued by this window, or taken out of the
 * queue), keeping step, totals and best of an earlier attempt. `pid` is the process answering for
 * the run: the extension host for a queued run.
 */
export async function setExtensionState(runDir: string, state: RunState, pid: number, reason?: string): Promise<void> {
  const now = new Date().toISOString();
  const previous = await readStatus(runDir);
  const status: RunStatus = {
    state,
    pid,
    startedAt: previous?.startedAt || now,
    updatedAt: now,
    step: previous?.step ?? 0,
    totalSteps: previous?.totalSteps ?? 0,
    epoch: previous?.epoch ?? 0,
  };
  if (previous?.best) status.best = previous.best;
  if (reason !== undefined) status.reason = reason;
  await writeStatus(runDir, status);
}
