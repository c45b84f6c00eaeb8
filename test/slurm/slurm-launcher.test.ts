import assert from 'node:assert/strict';
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import type { SweepRecord } from '../../src/engine/sweep/state.js';
import { runCli } from '../../src/extension/runs/slurm-jobs.js';
import type { RunStatus } from '../../src/shared/run-directory.js';
import { lossByStep, readEvents } from '../engine/helpers/run-events.js';
import { TINY_RUN_STEPS_PER_EPOCH, writeTinyRun } from '../engine/helpers/tiny-run.js';
import { ROOT } from '../shared/helpers.js';
import { slurmSkipReason } from './cluster.js';

/**
 * `finetune submit` against a real single-node Slurm cluster (scripts/slurm-cluster.sh): the tiny
 * BERT run (test/engine/helpers/tiny-run.ts) submitted as a job, an sbatch refusal, a pending job
 * and a running one cancelled, a job requeued mid-training on Slurm's warning signal, and a sweep
 * as a 4-task job array. Jobs write under /tmp (the cluster is this machine, so no shared mount).
 */
const skip = slurmSkipReason();
const CLI = join(ROOT, 'src', 'engine', 'cli.ts');
/** Runs that must still train when a CLI started after their 4th step reaches them: 40 epochs of 16 steps. */
const EPOCHS = 40;
const STEPS = EPOCHS * TINY_RUN_STEPS_PER_EPOCH;
const TSX = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

/** The CLI from source, as a user runs it (the batch scripts it writes run it the same way). */
const finetune = (args: string[]) => runCli(['--import', TSX, CLI], args, ROOT);

async function ok(args: string[]): Promise<string> {
  const r = await finetune(args);
  assert.equal(r.code, 0, `finetune ${args.join(' ')} exited with ${r.code}:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** A workspace with the tiny run (`epochs` of 16 steps) and a launcher block. */
function workspace(launcher = '', epochs = 3): { dir: string; config: string } {
  const dir = mkdtempSync('/tmp/finetune-slurm-');
  const config = writeTinyRun(dir, '  seed: 7\n', epochs);
  appendFileSync(
    config,
    `output_dir: ${join(dir, 'runs')}\nlauncher:\n  type: slurm\n  partition: debug\n  cpus_per_task: 1\n  mem: 1G\n  time: "10:00"\n${launcher}`,
  );
  return { dir, config };
}

const status = (runDir: string) => JSON.parse(readFileSync(join(runDir, 'status.json'), 'utf8')) as RunStatus;

async function submitted(config: string, extra: string[] = []): Promise<{ runDir: string; jobId: string }> {
  const out = await ok(['submit', config, '--threads', '1', ...extra]);
  const m = /submitted (?:job|job array) (\d+)(?: \(\d+ trials\))?: (.+)$/m.exec(out);
  assert.ok(m, out);
  return { jobId: m[1] as string, runDir: (m[2] as string).trim() };
}

/** Syncs status.json with Slurm (`submit --status`) until `done` holds. */
async function until(runDir: string, done: (s: RunStatus) => boolean, what: string, seconds = 180): Promise<RunStatus> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    await ok(['submit', '--status', runDir]);
    const s = status(runDir);
    if (done(s)) return s;
    if (Date.now() > deadline) assert.fail(`${runDir}: no ${what} after ${seconds} s; status ${JSON.stringify(s)}`);
    await sleep(500);
  }
}

/** Waits for the engine's step event `step` (events.jsonl, as the extension reads it). */
async function stepReached(runDir: string, step: number, seconds = 60): Promise<void> {
  for (let i = 0; i < seconds * 10; i++) {
    const file = join(runDir, 'events.jsonl');
    if (existsSync(file) && readEvents(runDir).some((e) => e.type === 'step' && e.step >= step)) return;
    await sleep(100);
  }
  assert.fail(`${runDir} never reached step ${step}`);
}

/**
 * What Slurm sends the batch shell 120 s before the time limit (--signal=B:USR1@120), sent once.
 * For a task of a job array this only works once no task of the array is pending: slurmctld's
 * job_str_signal (Slurm 22.05, unchanged since) signals the running task and then answers "Job can
 * not be altered now, try again later" because the array's record of pending tasks is pending, and
 * scancel sends the signal again every 5 + i seconds, up to 10 times, to a task by then requeued,
 * resumed or ended: a second checkpoint and requeue, then "already done" (exit 229, no message) and,
 * asked again, "Invalid job id". The task's own job id does not help: scancel turns it back into
 * `<array>_<task>` (_build_jobid_str) before it asks slurmctld.
 */
function warnBatch(jobId: string): SpawnSyncReturns<string> {
  return spawnSync('scancel', ['--signal=USR1', '--batch', jobId], { encoding: 'utf8' });
}

/** How many times the batch script requeued its job on the warning signal (its log's lines). */
const requeues = (log: string) => log.match(/checkpointed on Slurm's warning signal: requeueing it/g)?.length ?? 0;

test('a tiny run submitted to Slurm completes; status.json carries the job, its logs are in the run directory', {
  skip,
}, async (t) => {
  const { dir, config } = workspace();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { runDir, jobId } = await submitted(config);
  const first = status(runDir);
  assert.equal(first.job?.id, jobId);
  assert.ok(['queued', 'running', 'completed'].includes(first.state), first.state);
  const s = await until(runDir, (x) => x.state === 'completed' && x.job?.schedulerState === 'COMPLETED', 'completion');
  assert.deepEqual(
    { ...s.job, host: undefined },
    { scheduler: 'slurm', id: jobId, host: undefined, schedulerState: 'COMPLETED', exitCode: 0 },
  );
  assert.equal(s.step, 48);
  assert.ok(existsSync(join(runDir, 'final', 'config.json')));
  assert.match(readFileSync(join(runDir, `slurm-${jobId}.out`), 'utf8'), /run completed/);
  const script = readFileSync(join(runDir, 'slurm-job.sh'), 'utf8');
  for (const option of ['--requeue', '--signal=B:USR1@120', '--partition=debug', '--mem=1G', '--time=10:00'])
    assert.ok(script.includes(`#SBATCH ${option}`), option);
});

test("sbatch's refusal is shown verbatim with the launcher line that caused it", { skip }, async (t) => {
  const { dir, config } = workspace();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(config, readFileSync(config, 'utf8').replace('partition: debug', 'partition: nosuch'));
  const line =
    readFileSync(config, 'utf8')
      .split('\n')
      .findIndex((l) => l.includes('partition: nosuch')) + 1;
  const r = await finetune(['submit', config]);
  assert.equal(r.code, 1, r.stderr);
  // Slurm 22.05's words for an unknown partition.
  assert.match(r.stderr, /sbatch: error: invalid partition specified: nosuch/);
  assert.ok(r.stderr.includes(`${config}:${line}:3: launcher.partition: partition: nosuch`), r.stderr);
});

test('a pending job is queued with its reason; cancelled while pending it is cancelled', { skip }, async (t) => {
  const { dir, config } = workspace('  extra_args: [--begin=now+3600]\n');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { runDir, jobId } = await submitted(config);
  const s = await until(runDir, (x) => x.reason === 'pending: BeginTime', 'pending reason');
  assert.equal(s.state, 'queued');
  assert.equal(s.job?.schedulerState, 'PENDING');
  const out = await ok(['submit', '--cancel', runDir]);
  assert.match(out, new RegExp(`job ${jobId} cancelled`));
  assert.equal(status(runDir).state, 'cancelled');
  assert.equal(status(runDir).job?.schedulerState, 'CANCELLED');
});

test('a running job cancelled: stop file first, the checkpoint written is loadable (the run resumes to the end)', {
  skip,
}, async (t) => {
  // 40 epochs: the run still trains when the cancel (a CLI that takes seconds to start) reaches it.
  const { dir, config } = workspace('', EPOCHS);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { runDir } = await submitted(config);
  await stepReached(runDir, 4);
  await ok(['submit', '--cancel', runDir, '--grace', '60']);
  const s = status(runDir);
  assert.equal(s.state, 'cancelled');
  assert.ok(s.step > 0 && s.step < STEPS, `cancelled mid-run, at step ${s.step}`);
  // The engine honoured the stop file: a checkpoint at the step it stopped at.
  assert.ok(existsSync(join(runDir, 'checkpoints', `step-${s.step}`)), readdirSync(join(runDir, 'checkpoints')).join());
  await ok(['resume', runDir, '--threads', '1']);
  assert.equal(status(runDir).state, 'completed');
  assert.equal(status(runDir).step, STEPS);
});

test("requeued mid-training on Slurm's warning signal, the run resumes from its checkpoint with an uninterrupted run's losses", {
  skip,
}, async (t) => {
  const epochs = 8;
  const { dir, config } = workspace('', epochs);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { runDir, jobId } = await submitted(config);
  await stepReached(runDir, 4);
  const sig = warnBatch(jobId);
  assert.equal(sig.status, 0, sig.stderr);
  const s = await until(runDir, (x) => x.state === 'completed', 'completion after the requeue', 300);
  assert.equal(s.step, epochs * TINY_RUN_STEPS_PER_EPOCH);
  const out = readFileSync(join(runDir, `slurm-${jobId}.out`), 'utf8');
  assert.equal(requeues(out), 1, out);
  const resumed = /resumed from .*step-(\d+) at step (\d+)/.exec(out);
  assert.ok(resumed, out);
  const at = Number(resumed[2]);
  assert.ok(at > 0 && at < epochs * TINY_RUN_STEPS_PER_EPOCH, `requeued mid-training (resumed at step ${at})`);
  const reference = join(dir, 'reference');
  await ok(['train', config, '--run-dir', reference, '--threads', '1']);
  assert.deepEqual([...lossByStep(readEvents(runDir))], [...lossByStep(readEvents(reference))]);
});

test('a sweep submitted as a 4-task job array: one trial per task, one requeued mid-training with identical losses', {
  skip,
}, async (t) => {
  // 40 epochs (640 steps, tens of seconds a trial): the warning lands while the trial trains.
  const { dir, config } = workspace('', EPOCHS);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  appendFileSync(
    config,
    `sweep:
  strategy: random
  seed: 3
  max_trials: 4
  parallel: 2
  parameters:
    - {key: training.learning_rate, type: loguniform, low: 1.0e-4, high: 1.0e-2}
`,
  );
  const { runDir: sweepDir, jobId } = await submitted(config);
  const script = readFileSync(join(sweepDir, 'slurm-job.sh'), 'utf8');
  assert.ok(script.includes('#SBATCH --array=0-3%2'), script);
  const read = () => JSON.parse(readFileSync(join(sweepDir, 'sweep.json'), 'utf8')) as SweepRecord;
  assert.deepEqual(read().job, { scheduler: 'slurm', id: jobId });
  // The last trial's task gets Slurm's warning mid-training: it checkpoints, is requeued, and (no
  // sweep process to ask) takes its own trial back from sweep.json and resumes it. The last one,
  // because a task started last leaves no task of the array pending (see warnBatch).
  const last = join(sweepDir, 'trials', '3');
  await stepReached(last, 4, 300);
  const pending = spawnSync('squeue', ['-h', '-r', '-j', jobId, '-t', 'PENDING', '-o', '%i'], { encoding: 'utf8' });
  assert.equal(pending.stdout.trim(), '', 'no task of the array is pending once the fourth trial trains');
  const task = read().trials[3]?.job as string;
  const sig = warnBatch(task);
  assert.equal(sig.status, 0, sig.stderr);
  for (let i = 0; read().state !== 'completed'; i++) {
    if (i > 600) assert.fail(`the sweep did not complete: ${JSON.stringify(read().trials.map((x) => x.state))}`);
    await sleep(500);
  }
  const record = read();
  assert.equal(record.trials.length, 4);
  const tasks = record.trials.map((x) => x.job).sort();
  assert.deepEqual(
    tasks,
    [0, 1, 2, 3].map((k) => `${jobId}_${k}`),
  );
  for (const trial of record.trials) {
    assert.equal(trial.state, 'completed', `trial ${trial.number}: ${trial.reason}`);
    const trialStatus = status(join(sweepDir, trial.dir));
    assert.equal(trialStatus.job?.id, trial.job);
    assert.equal(trialStatus.step, STEPS);
    assert.match(
      readFileSync(join(sweepDir, trial.dir, 'config.yaml'), 'utf8'),
      new RegExp(`learning_rate: ${trial.params['training.learning_rate']}\\b`),
    );
  }
  assert.ok(record.best);
  const taskLog = readFileSync(join(sweepDir, 'logs', `slurm-${task}.out`), 'utf8');
  assert.equal(requeues(taskLog), 1, taskLog);
  const resumed = /resumed from .*step-(\d+) at step (\d+)/.exec(readFileSync(join(last, 'engine.log'), 'utf8'));
  assert.ok(
    resumed && Number(resumed[2]) > 0 && Number(resumed[2]) < STEPS,
    `trial 3 resumed mid-training: ${resumed?.[0]}`,
  );
  const reference = join(dir, 'reference');
  await ok(['train', join(last, 'config.yaml'), '--run-dir', reference, '--threads', '1']);
  assert.deepEqual([...lossByStep(readEvents(last))], [...lossByStep(readEvents(reference))]);
  const synced = await ok(['submit', '--status', sweepDir]);
  assert.equal(synced.trim().split('\n').length, 4, synced);
});

test('a sweep cancelled: the running trial checkpoints and is cancelled, no other trial starts, the sweep is stopped', {
  skip,
}, async (t) => {
  // 40 epochs: trial 0 still trains when the cancel (a CLI that starts in seconds) reaches it.
  const { dir, config } = workspace('', EPOCHS);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  appendFileSync(
    config,
    `sweep:
  strategy: random
  max_trials: 4
  parallel: 1
  parameters:
    - {key: training.learning_rate, type: loguniform, low: 1.0e-4, high: 1.0e-2}
`,
  );
  const { runDir: sweepDir, jobId } = await submitted(config);
  const trial0 = join(sweepDir, 'trials', '0');
  await stepReached(trial0, 4);
  const out = await ok(['submit', '--cancel', sweepDir, '--grace', '60']);
  assert.match(out, new RegExp(`sweep stopped \\(job array ${jobId} cancelled \\(scancel\\)\\)`));
  const record = JSON.parse(readFileSync(join(sweepDir, 'sweep.json'), 'utf8')) as SweepRecord;
  assert.equal(record.state, 'stopped');
  assert.equal(record.trials.length, 1, 'no trial started after the cancel');
  const s = status(trial0);
  assert.equal(s.state, 'cancelled');
  assert.ok(s.step > 0 && s.step < STEPS, `cancelled mid-run at step ${s.step}`);
  assert.ok(existsSync(join(trial0, 'checkpoints', `step-${s.step}`)));
  assert.ok(!existsSync(join(trial0, 'stop-requested')), 'the honoured stop request is removed');
  assert.equal(spawnSync('squeue', ['-h', '-j', jobId], { encoding: 'utf8' }).stdout.trim(), '');
});
