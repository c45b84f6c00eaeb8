import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { jobFromEnvironment, REQUEUE_EXIT_CODE } from '../train/run-job.js';
import { withSweepLock } from './folder-lock.js';
import { readRawConfig, trialArgs } from './runner.js';
import { suggest } from './samplers.js';
import {
  readSweep,
  SWEEP_CONFIG_FILE,
  type SweepRecord,
  TRIALS_FOLDER,
  type TrialRecord,
  trialDir,
  writeSweep,
} from './state.js';
import { recordEvaluations, trialOutcome } from './trial-outcome.js';
import { cliLauncher, runStatus, type TrialLauncher, watchExit } from './trial-process.js';

/**
 * `finetune sweep-task <sweep dir>`: one task of a sweep's Slurm job array (`finetune submit`). There
 * is no sweep process: each task asks the sweep state for its trial under the sweep folder's lock.
 * A task that already has a trial (it was requeued) gets that trial back and resumes it; a new task
 * takes the next trial number and the sampler's values for it given every trial recorded so far,
 * exactly as `finetune sweep` draws trial n (TPE sees the trials completed by then, like Optuna's
 * workers sharing one storage). Array task ids only bound how many trials run: the trial number is
 * the order in which tasks asked, so sweep.json's trials stay dense whatever order Slurm starts
 * tasks in. The task then runs the trial's engine, records its evaluations and the pruner's
 * decisions in sweep.json (under the lock each time), and its outcome; the last task to finish
 * marks the sweep completed.
 */
export interface ArrayTaskOptions {
  engineArgs?: readonly string[];
  launch?: TrialLauncher;
  pollMs?: number;
  echo?: (line: string) => void;
}

/** The process exit code: REQUEUE_EXIT_CODE when the trial checkpointed on Slurm's warning. */
export async function runArrayTask(sweepDir: string, o: ArrayTaskOptions = {}): Promise<number> {
  const job = jobFromEnvironment();
  if (!job)
    throw new Error("sweep-task runs as a task of a sweep's job array ('finetune submit'): FINETUNE_JOB is not set");
  const echo = o.echo ?? (() => {});
  const raw = readRawConfig(join(sweepDir, SWEEP_CONFIG_FILE));
  const locked = <T>(body: (record: SweepRecord) => T) => withSweepLock(sweepDir, () => body(readSweep(sweepDir)));

  const claimed = await locked((record) => {
    if (record.state !== 'running') return undefined; // stopped (submit --cancel): nothing more runs
    const mine = record.trials.find((t) => t.job === job.id);
    if (mine)
      return mine.state === 'running'
        ? { trial: mine, started: runStatus(trialDir(sweepDir, mine)) !== undefined }
        : undefined;
    const s = record.settings;
    if (record.trials.length >= s.max_trials) return undefined;
    const n = record.trials.length;
    const t: TrialRecord = {
      number: n,
      state: 'running',
      params: suggest(s, n, record.trials),
      dir: `${TRIALS_FOLDER}/${n}`,
      intermediate: [],
      rungs: [],
      startedAt: new Date().toISOString(),
      job: job.id,
    };
    record.trials.push(t);
    writeSweep(sweepDir, record);
    return { trial: t, started: false };
  });
  if (!claimed) {
    echo(`task ${job.id}: no trial to run (all taken, or the sweep was stopped)`);
    return 0;
  }
  const n = claimed.trial.number;
  echo(
    `task ${job.id}: trial ${n} (${Object.entries(claimed.trial.params)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')})`,
  );
  const child = (o.launch ?? cliLauncher)([
    ...trialArgs(sweepDir, raw, claimed.trial, claimed.started),
    ...(o.engineArgs ?? []),
  ]);
  // Slurm's warning and scancel's SIGTERM reach this task's process: the engine must get them.
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  const onUsr1 = forward('SIGUSR1');
  const onTerm = forward('SIGTERM');
  process.on('SIGUSR1', onUsr1);
  process.on('SIGTERM', onTerm);
  const exit = watchExit(child);
  let ended: Awaited<typeof exit> | undefined;
  void exit.then((e) => {
    ended = e;
  });
  const read = () =>
    locked((record) => {
      const t = record.trials[n] as TrialRecord;
      if (recordEvaluations(sweepDir, record, t, () => writeSweep(sweepDir, record), echo))
        writeSweep(sweepDir, record);
      return record;
    });
  try {
    while (!ended) {
      await Promise.race([exit, sleep(o.pollMs ?? 500)]);
      await read();
    }
  } finally {
    process.off('SIGUSR1', onUsr1);
    process.off('SIGTERM', onTerm);
  }
  const end = ended as Awaited<typeof exit>;
  if (end.code === REQUEUE_EXIT_CODE) return REQUEUE_EXIT_CODE;
  await locked((record) => {
    const t = record.trials[n] as TrialRecord;
    recordEvaluations(sweepDir, record, t, () => writeSweep(sweepDir, record), echo);
    if (t.state === 'running') trialOutcome(record, t, runStatus(trialDir(sweepDir, t)), end, echo);
    const done =
      record.trials.length >= record.settings.max_trials && record.trials.every((x) => x.state !== 'running');
    if (done) record.state = 'completed';
    writeSweep(sweepDir, record);
  });
  return end.code === 0 ? 0 : 1;
}
