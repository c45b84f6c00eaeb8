import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RUN_FILES, type RunStatus } from '../../shared/run-directory.js';
import { writeTextAtomic } from '../io/atomic.js';
import { JOB_EXIT_FILE } from './batch-script.js';
import { slurm } from './slurm-cli.js';

/**
 * A job's state as Slurm reports it, and its mapping onto the run's status.json. Accounting
 * (sacct) may not exist on a cluster (the test cluster has none): squeue answers for queued and
 * running jobs, `scontrol show job` for those that ended within MinJobAge, and the batch script's
 * own `job-exit` file after that.
 */
export interface JobState {
  /** Slurm's state word: PENDING, RUNNING, COMPLETED, CANCELLED, FAILED, TIMEOUT, ... */
  state: string;
  /** The pending (or end) reason: Priority, Resources, BeginTime, ... ('None' when there is none). */
  reason?: string;
  exitCode?: number;
}

export function parseScontrolJob(text: string): JobState | undefined {
  const field = (name: string) => new RegExp(`(?:^|\\s)${name}=(\\S+)`).exec(text)?.[1];
  const state = field('JobState');
  if (!state) return undefined;
  const exit = field('ExitCode');
  const reason = field('Reason');
  return {
    state,
    ...(reason ? { reason } : {}),
    ...(exit ? { exitCode: Number(exit.split(':')[0]) } : {}),
  };
}

/** The job's state now, or undefined when Slurm no longer knows it. */
export function queryJob(id: string): JobState | undefined {
  const q = slurm('squeue', ['-h', '-j', id, '-o', '%T|%r']);
  const line = q.code === 0 ? q.stdout.trim().split('\n')[0] : undefined;
  if (line) {
    const [state, reason] = line.split('|');
    return { state: state as string, ...(reason && reason !== 'None' ? { reason } : {}) };
  }
  const s = slurm('scontrol', ['show', 'job', id]);
  return s.code === 0 ? parseScontrolJob(s.stdout) : undefined;
}

const PENDING = new Set(['PENDING', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'CONFIGURING', 'SUSPENDED']);
const RUNNING = new Set(['RUNNING', 'COMPLETING', 'SIGNALING', 'STAGE_OUT', 'RESIZING']);

/**
 * status.json for a run whose job is in `job`, from the status the engine last wrote. While the job
 * runs, the engine's own status is the truth (undefined: nothing to write). A pending job is
 * `queued` with Slurm's reason; an ended one keeps the engine's final state when it wrote one and
 * the job agrees, else `failed` with the job's state and exit code, or `cancelled`.
 */
export function mapJobState(
  status: RunStatus,
  job: JobState | undefined,
  recordedExit?: number,
): RunStatus | undefined {
  const current = status.job;
  if (!current) return undefined;
  const now = new Date().toISOString();
  const withJob = (s: Partial<RunStatus>, slurmState: string, exitCode?: number): RunStatus => {
    const { reason: _reason, ...rest } = status;
    return {
      ...rest,
      ...s,
      updatedAt: now,
      job: { ...current, schedulerState: slurmState, ...(exitCode === undefined ? {} : { exitCode }) },
    };
  };
  const state = job?.state ?? (recordedExit === undefined ? undefined : recordedExit === 0 ? 'COMPLETED' : 'FAILED');
  if (!state) {
    if (status.state === 'queued' || status.state === 'running')
      return withJob(
        { state: 'failed', reason: `Slurm no longer knows job ${current.id} and it recorded no exit` },
        'UNKNOWN',
      );
    return undefined;
  }
  const exitCode = job?.exitCode ?? recordedExit;
  if (PENDING.has(state)) {
    if (status.state === 'queued' && status.reason === pendingReason(job) && current.schedulerState === state)
      return undefined;
    return withJob({ state: 'queued', reason: pendingReason(job) }, state);
  }
  if (RUNNING.has(state)) return undefined;
  if (state === 'CANCELLED') {
    if (status.state === 'cancelled') return undefined;
    const at = status.step > 0 ? `; last step ${status.step}` : '';
    return withJob({ state: 'cancelled', reason: `job ${current.id} cancelled (scancel)${at}` }, state, exitCode);
  }
  if (
    state === 'COMPLETED' &&
    (status.state === 'completed' || status.state === 'stopped' || status.state === 'failed')
  ) {
    if (current.schedulerState === state) return undefined;
    return { ...status, updatedAt: now, job: { ...current, schedulerState: state, exitCode: exitCode ?? 0 } };
  }
  if (status.state === 'failed' && current.schedulerState === state) return undefined;
  const engineSaid = status.state === 'failed' && status.reason ? `: ${status.reason}` : '';
  const code = exitCode === undefined ? '' : `, exit code ${exitCode}`;
  return withJob({ state: 'failed', reason: `job ${current.id} ${state}${code}${engineSaid}` }, state, exitCode);
}

function pendingReason(job: JobState | undefined): string {
  return `pending: ${job?.reason ?? 'None'}`;
}

export function readStatus(runDir: string): RunStatus {
  const file = join(runDir, RUN_FILES.status);
  if (!existsSync(file)) throw new Error(`${runDir} has no ${RUN_FILES.status}: not a run directory`);
  return JSON.parse(readFileSync(file, 'utf8')) as RunStatus;
}

export function writeStatus(runDir: string, status: RunStatus): void {
  writeTextAtomic(join(runDir, RUN_FILES.status), `${JSON.stringify(status, null, 2)}\n`);
}

function recordedExit(runDir: string, jobId: string): number | undefined {
  const file = join(runDir, JOB_EXIT_FILE);
  if (!existsSync(file)) return undefined;
  const r = JSON.parse(readFileSync(file, 'utf8')) as { job: string; exitCode: number };
  return r.job === jobId ? r.exitCode : undefined;
}

/** Reads the run's job from Slurm and writes the mapped status.json; returns the status now. */
export function syncRun(runDir: string): RunStatus {
  const status = readStatus(runDir);
  if (!status.job) throw new Error(`${runDir} was not submitted to a cluster: its status.json has no job`);
  const next = mapJobState(status, queryJob(status.job.id), recordedExit(runDir, status.job.id));
  if (!next) return status;
  writeStatus(runDir, next);
  return next;
}
