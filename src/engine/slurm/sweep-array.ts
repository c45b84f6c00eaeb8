import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RUN_FILES, type RunStatus, STOP_REQUEST_FILE } from '../../shared/run-directory.js';
import { withSweepLock } from '../sweep/folder-lock.js';
import { createSweep } from '../sweep/runner.js';
import { readSweep, type SweepRecord, trialDir, writeSweep } from '../sweep/state.js';
import { runStatus } from '../sweep/trial-process.js';
import { syncRun, writeStatus } from './job-state.js';
import { slurm } from './slurm-cli.js';
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

/**
 * Stops a submitted sweep: its running trials' stop files first (their engines checkpoint), then
 * scancel of the whole array once they have stopped or after `graceMs`; pending tasks never start.
 * The sweep ends `stopped` and its started trials `cancelled`, each resumable from its checkpoint.
 */
export async function cancelSweep(sweepDir: string, graceMs = 120_000, pollMs = 500): Promise<SweepRecord> {
  // Stopped first, under the lock: a task that starts from now on takes no trial.
  const record = await withSweepLock(sweepDir, () => {
    const r = readSweep(sweepDir);
    if (!r.job) throw new Error(`${sweepDir} was not submitted to a cluster: its sweep.json has no job`);
    if (r.state === 'running') {
      r.state = 'stopped';
      r.reason = `job array ${r.job.id} cancelled (scancel)`;
      writeSweep(sweepDir, r);
    }
    return r;
  });
  const id = (record.job as { id: string }).id;
  const running = record.trials.filter((t) => t.state === 'running').map((t) => trialDir(sweepDir, t));
  for (const dir of running)
    if (existsSync(dir)) writeFileSync(join(dir, STOP_REQUEST_FILE), `${new Date().toISOString()}\n`);
  const engineActive = (dir: string) => ['queued', 'running'].includes(runStatus(dir)?.state ?? '');
  const deadline = Date.now() + graceMs;
  while (running.some(engineActive) && Date.now() < deadline) await sleep(pollMs);
  slurm('scancel', [id]);
  while (slurm('squeue', ['-h', '-j', id, '-o', '%i']).stdout.trim() !== '') await sleep(pollMs);
  for (const dir of running) {
    // Honoured: left in place it would stop the trial's resume at its first step.
    rmSync(join(dir, STOP_REQUEST_FILE), { force: true });
    if (!existsSync(join(dir, RUN_FILES.status))) continue;
    const s = syncRun(dir);
    if (s.state !== 'cancelled' && s.state !== 'completed' && s.state !== 'failed')
      writeStatus(dir, {
        ...s,
        state: 'cancelled',
        reason: `job ${s.job?.id ?? id} cancelled (scancel); checkpoint at step ${s.step}`,
        updatedAt: new Date().toISOString(),
      });
  }
  return readSweep(sweepDir);
}
