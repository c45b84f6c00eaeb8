import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import type { SlurmLauncherConfig } from '../../shared/config.js';
import { createRunDirectory } from '../../shared/node/run-claims.js';
import { RUN_FILES, type RunStatus, STOP_REQUEST_FILE } from '../../shared/run-directory.js';
import { writeTextAtomic } from '../io/atomic.js';
import { absolutePaths, loadConfig } from '../train/finetune.js';
import { BATCH_SCRIPT_FILE, type BatchScript, batchScript } from './batch-script.js';
import { queryJob, readStatus, syncRun, writeStatus } from './job-state.js';
import { blameLauncherLine, SbatchError } from './sbatch-errors.js';
import { slurm, slurmOk } from './slurm-cli.js';

/**
 * `finetune submit`: a run on a Slurm cluster. The run directory is created here (on the shared
 * filesystem the job sees) with the config as run, the batch script and status.json `queued` with
 * the job id; the job is submitted held and released only once status.json names it, so the
 * engine's first write can never be overwritten by the submitter's.
 */
export interface SubmitOptions {
  runDir?: string;
  /** Passed on to the engine (`--device cpu`, `--threads 1`). */
  engineArgs?: readonly string[];
  /** The engine CLI as an argv (default: this Node and bin/finetune.js of this install). */
  cli?: readonly string[];
}

export function defaultCli(): string[] {
  // dist/cli.js is the bundle bin/finetune.js loads; under tests the engine runs from source.
  const script = process.argv[1] as string;
  return [process.execPath, ...process.execArgv, resolve(script)];
}

export function slurmLauncher(configPath: string): SlurmLauncherConfig {
  const config = loadConfig(configPath);
  if (!config.launcher) throw new Error(`${configPath} has no launcher: block (see 'finetune submit --help')`);
  return config.launcher;
}

/** Submits the batch script held, then `prepare(jobId)`, then releases it. */
export function sbatchHeld(b: BatchScript, configPath: string, prepare: (jobId: string) => void): string {
  const script = join(b.dir, BATCH_SCRIPT_FILE);
  writeTextAtomic(script, batchScript(b));
  const r = slurm('sbatch', ['--parsable', '--hold', script]);
  if (r.code !== 0) {
    const message = (r.stderr || r.stdout).trim();
    throw new SbatchError(message, blameLauncherLine(configPath, message));
  }
  const jobId = (r.stdout.trim().split(';')[0] ?? '').trim();
  if (!/^\d+$/.test(jobId)) throw new Error(`sbatch printed no job id: ${r.stdout.trim()}`);
  try {
    prepare(jobId);
  } catch (err) {
    slurm('scancel', [jobId]);
    throw err;
  }
  slurmOk('scontrol', ['release', jobId]);
  return jobId;
}

export function submitRun(configPath: string, o: SubmitOptions = {}): { runDir: string; jobId: string } {
  const launcher = slurmLauncher(configPath);
  const config = absolutePaths(loadConfig(configPath), dirname(resolve(configPath)));
  const runDir = o.runDir ? resolve(o.runDir) : createRunDirectory(resolve(config.output_dir), configPath);
  mkdirSync(runDir, { recursive: true });
  if (existsSync(join(runDir, RUN_FILES.events))) throw new Error(`${runDir} already has a run: resume it instead`);
  const runConfig = join(runDir, RUN_FILES.config);
  writeTextAtomic(runConfig, `# resolved from ${resolve(configPath)}\n${stringify(config)}`);
  const jobId = sbatchHeld(
    {
      dir: runDir,
      jobName: basename(runDir),
      launcher,
      cli: o.cli ?? defaultCli(),
      run: { kind: 'run', config: runConfig },
      engineArgs: o.engineArgs ?? [],
    },
    configPath,
    (id) => writeStatus(runDir, queuedStatus(id)),
  );
  return { runDir, jobId };
}

export function queuedStatus(jobId: string): RunStatus {
  const now = new Date().toISOString();
  return {
    state: 'queued',
    pid: process.pid,
    startedAt: now,
    updatedAt: now,
    step: 0,
    totalSteps: 0,
    epoch: 0,
    reason: 'submitted',
    job: { scheduler: 'slurm', id: jobId, host: hostname(), schedulerState: 'PENDING' },
  };
}

/**
 * Stop on the cluster: the stop file first, so a running engine checkpoints at its next step and
 * ends (the job then ends by itself); scancel once it has, or after `graceMs`, or at once for a
 * job that is not running. The run ends `cancelled`, its last checkpoint loadable.
 */
export async function cancelRun(runDir: string, graceMs = 120_000, pollMs = 500): Promise<RunStatus> {
  const dir = resolve(runDir);
  const before = readStatus(dir);
  if (!before.job) throw new Error(`${dir} was not submitted to a cluster: its status.json has no job`);
  const id = before.job.id;
  writeFileSync(join(dir, STOP_REQUEST_FILE), `${new Date().toISOString()}\n`);
  const deadline = Date.now() + graceMs;
  for (;;) {
    const job = queryJob(id);
    const engine = readStatus(dir).state;
    if (job?.state !== 'RUNNING' || (engine !== 'running' && engine !== 'queued') || Date.now() > deadline) break;
    await sleep(pollMs);
  }
  const r = slurm('scancel', [id]);
  if (r.code !== 0 && !/already completing or completed|Invalid job id/i.test(r.stderr))
    throw new Error(`scancel ${id} failed: ${r.stderr.trim()}`);
  // The job leaves RUNNING (KillWait lets a late engine finish its checkpoint).
  while (['RUNNING', 'COMPLETING', 'PENDING'].includes(queryJob(id)?.state ?? '')) await sleep(pollMs);
  // Honoured: left in place it would stop a later `finetune resume` at its first step.
  rmSync(join(dir, STOP_REQUEST_FILE), { force: true });
  const status = syncRun(dir);
  if (status.state === 'cancelled' || status.state === 'completed') return status;
  // The engine stopped on the stop file before scancel reached it: the user cancelled all the same.
  const at = status.step > 0 ? `; checkpoint at step ${status.step}` : '';
  const cancelled: RunStatus = {
    ...status,
    state: 'cancelled',
    reason: `job ${id} cancelled (scancel)${at}`,
    updatedAt: new Date().toISOString(),
  };
  writeStatus(dir, cancelled);
  return cancelled;
}
