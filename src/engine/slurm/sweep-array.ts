import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { RUN_FILES, type RunStatus } from '../../shared/run-directory.js';
import { createSweep } from '../sweep/runner.js';
import { readSweep, writeSweep } from '../sweep/state.js';
import { syncRun } from './job-state.js';
import { defaultCli, type SubmitOptions, sbatchHeld, slurmLauncher } from './submit.js';

/**
 * A sweep on Slurm: one job array, `--array=0-<max_trials-1>%<parallel>`, each task running one
 * trial through `finetune sweep-task` (sweep/array-task.ts says how a task gets its trial).
 * sweep.json records the array's job id; the trials' run directories carry their task's job.
 */
export function submitSweep(
  configPath: string,
  o: SubmitOptions = {},
): { sweepDir: string; jobId: string; tasks: number } {
  const launcher = slurmLauncher(configPath);
  const { sweepDir, record } = createSweep(configPath, o.runDir);
  mkdirSync(join(sweepDir, 'logs'), { recursive: true });
  const s = record.settings;
  const jobId = sbatchHeld(
    {
      dir: sweepDir,
      jobName: basename(sweepDir),
      launcher,
      cli: o.cli ?? defaultCli(),
      run: { kind: 'sweep-task' },
      engineArgs: o.engineArgs ?? [],
      array: `0-${s.max_trials - 1}%${s.parallel}`,
    },
    configPath,
    (id) => {
      record.job = { scheduler: 'slurm', id };
      writeSweep(sweepDir, record);
    },
  );
  return { sweepDir, jobId, tasks: s.max_trials };
}

/** Syncs every started trial of a submitted sweep with Slurm; the trials' directories and statuses. */
export function syncSweep(sweepDir: string): [string, RunStatus][] {
  const record = readSweep(sweepDir);
  if (!record.job) throw new Error(`${sweepDir} was not submitted to a cluster: its sweep.json has no job`);
  const trials = join(sweepDir, 'trials');
  if (!existsSync(trials)) return [];
  return readdirSync(trials)
    .map((name) => join(trials, name))
    .filter((dir) => existsSync(join(dir, RUN_FILES.status)))
    .map((dir) => [dir, syncRun(dir)]);
}
