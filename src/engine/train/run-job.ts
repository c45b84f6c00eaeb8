import { hostname } from 'node:os';
import type { RunJob } from '../../shared/run-directory.js';

/**
 * The cluster job an engine runs in, for status.json's `job`: the batch script that `finetune
 * submit` writes exports FINETUNE_JOB=slurm:<job id> (`<array job>_<task>` for a sweep's trial),
 * so the engine does not guess from the scheduler's environment (a run started by hand inside an
 * interactive allocation is not the submitted job).
 */
export const JOB_ENV = 'FINETUNE_JOB';

/** status.json's reason for a run that checkpointed on the cluster's warning signal. */
export const PREEMPTED_REASON =
  'checkpointed on SIGUSR1 (time limit or preemption): the job is requeued and resumes here';

export function jobFromEnvironment(env: NodeJS.ProcessEnv = process.env): RunJob | undefined {
  const value = env[JOB_ENV];
  if (!value) return undefined;
  const match = /^slurm:(\d+(?:_\d+)?)$/.exec(value);
  if (!match)
    throw new Error(`${JOB_ENV}=${value}: expected slurm:<job id> (set by the batch script of 'finetune submit')`);
  return { scheduler: 'slurm', id: match[1] as string, host: hostname(), schedulerState: 'RUNNING' };
}

/**
 * The engine's exit code after it checkpointed on the warning: the batch script then has the job
 * requeued (EX_TEMPFAIL: try again later). Any other exit is the job's end.
 */
export const REQUEUE_EXIT_CODE = 75;

let warned = false;

/**
 * Slurm's warning signal (sbatch --signal=B:USR1@120, forwarded by the batch script). Installed when
 * the CLI starts, before any model or data is read: without a handler Node would take SIGUSR1 as
 * "start the inspector" and train on, to be killed at the time limit.
 */
export function installWarningHandler(): void {
  process.on('SIGUSR1', () => {
    warned = true;
  });
}

export function warningReceived(): boolean {
  return warned;
}
