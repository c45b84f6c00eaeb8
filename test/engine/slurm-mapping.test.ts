import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { batchScript, launcherOptions } from '../../src/engine/slurm/batch-script.js';
import { mapJobState, parseScontrolJob } from '../../src/engine/slurm/job-state.js';
import { blameLauncherLine } from '../../src/engine/slurm/sbatch-errors.js';
import type { RunStatus } from '../../src/shared/run-directory.js';

/** The Slurm launcher's pure parts, without a cluster (test/slurm runs them against a real one). */

const base: RunStatus = {
  state: 'queued',
  pid: 1,
  startedAt: 't',
  updatedAt: 't',
  step: 0,
  totalSteps: 0,
  epoch: 0,
  reason: 'submitted',
  job: { scheduler: 'slurm', id: '42', schedulerState: 'PENDING' },
};

test('launcher keys become sbatch options, extra_args last and as written', () => {
  assert.deepEqual(
    launcherOptions({
      type: 'slurm',
      partition: 'gpu',
      time: '1-00:00:00',
      cpus_per_task: 4,
      mem: '16G',
      gpus: 'a100:1',
      account: 'lab',
      qos: 'high',
      extra_args: ['--exclusive'],
    }),
    [
      '--partition=gpu',
      '--time=1-00:00:00',
      '--cpus-per-task=4',
      '--mem=16G',
      '--gpus=a100:1',
      '--account=lab',
      '--qos=high',
      '--exclusive',
    ],
  );
});

test('the batch script is valid bash, requeues on the engine exit code 75, arrays run sweep-task', () => {
  const run = batchScript({
    dir: '/runs/a b',
    jobName: 'a',
    launcher: { type: 'slurm' },
    cli: ['/usr/bin/node', '/opt/finetune/bin/finetune.js'],
    run: { kind: 'run', config: '/runs/a b/config.yaml' },
    engineArgs: ['--threads', '1'],
  });
  const array = batchScript({
    dir: '/sweeps/s',
    jobName: 's',
    launcher: { type: 'slurm', partition: 'debug' },
    cli: ['/usr/bin/node', '/opt/finetune/bin/finetune.js'],
    run: { kind: 'sweep-task' },
    engineArgs: [],
    array: '0-5%2',
  });
  for (const script of [run, array]) {
    const dir = mkdtempSync(join(tmpdir(), 'batch-'));
    writeFileSync(join(dir, 'job.sh'), script);
    const r = spawnSync('bash', ['-n', join(dir, 'job.sh')], { encoding: 'utf8' });
    rmSync(dir, { recursive: true });
    assert.equal(r.status, 0, r.stderr);
    assert.match(script, /^#SBATCH --requeue$/m);
    assert.match(script, /^#SBATCH --signal=B:USR1@120$/m);
    assert.match(script, /if \[ "\$code" = 75 \]; then/);
  }
  assert.match(run, /train '\/runs\/a b\/config.yaml' --run-dir "\$DIR" --threads 1 &/);
  assert.match(run, /resume "\$DIR"/);
  assert.match(array, /^#SBATCH --array=0-5%2$/m);
  assert.match(array, /^#SBATCH --output=\/sweeps\/s\/logs\/slurm-%A_%a.out$/m);
  assert.match(array, /sweep-task "\$DIR" {2}&/);
  assert.match(array, /^JOB="\$SLURM_ARRAY_JOB_ID"_"\$SLURM_ARRAY_TASK_ID"$/m);
});

test("scontrol show job's fields: state, reason, exit code (the part before the signal)", () => {
  const text =
    'JobId=42 JobName=x\n   JobState=FAILED Reason=NonZeroExitCode Dependency=(null)\n   Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=3:0\n';
  assert.deepEqual(parseScontrolJob(text), { state: 'FAILED', reason: 'NonZeroExitCode', exitCode: 3 });
  assert.equal(parseScontrolJob('slurm_load_jobs error: Invalid job id specified'), undefined);
});

test("Slurm's states mapped onto status.json", () => {
  const pending = mapJobState(base, { state: 'PENDING', reason: 'Priority' });
  assert.equal(pending?.state, 'queued');
  assert.equal(pending?.reason, 'pending: Priority');
  assert.equal(
    mapJobState({ ...base, reason: 'pending: Priority' }, { state: 'PENDING', reason: 'Priority' }),
    undefined,
  );
  // While the job runs, the engine's own status.json is the truth.
  assert.equal(mapJobState({ ...base, state: 'running' }, { state: 'RUNNING' }), undefined);
  const failed = mapJobState({ ...base, state: 'running', step: 7 }, { state: 'FAILED', exitCode: 1 });
  assert.equal(failed?.state, 'failed');
  assert.equal(failed?.reason, 'job 42 FAILED, exit code 1');
  assert.equal(failed?.job?.exitCode, 1);
  const engineFailed = mapJobState(
    { ...base, state: 'failed', reason: 'out of memory' },
    { state: 'FAILED', exitCode: 1 },
  );
  assert.equal(engineFailed?.reason, 'job 42 FAILED, exit code 1: out of memory');
  const cancelled = mapJobState({ ...base, state: 'stopped', step: 12 }, { state: 'CANCELLED', exitCode: 0 });
  assert.equal(cancelled?.state, 'cancelled');
  assert.equal(cancelled?.reason, 'job 42 cancelled (scancel); last step 12');
  const done = mapJobState({ ...base, state: 'completed' }, { state: 'COMPLETED', exitCode: 0 });
  assert.deepEqual([done?.state, done?.job?.schedulerState, done?.job?.exitCode], ['completed', 'COMPLETED', 0]);
  // The time limit without a checkpoint in time: the engine never wrote a final state.
  const timeout = mapJobState({ ...base, state: 'running' }, { state: 'TIMEOUT', exitCode: 0 });
  assert.equal(timeout?.state, 'failed');
  // Forgotten by Slurm (no accounting): the batch script's recorded exit decides.
  assert.equal(mapJobState({ ...base, state: 'running' }, undefined, 2)?.reason, 'job 42 FAILED, exit code 2');
  assert.equal(mapJobState({ ...base, state: 'running' }, undefined)?.state, 'failed');
  assert.equal(mapJobState({ ...base, job: undefined }, { state: 'PENDING' }), undefined);
});

test("sbatch's message is blamed on the launcher key it names, with file:line:col and the line", () => {
  const dir = mkdtempSync(join(tmpdir(), 'blame-'));
  const config = join(dir, 'a.finetune.yaml');
  writeFileSync(config, 'model: m\nlauncher:\n  type: slurm\n  partition: gpu\n  account: nobody\n');
  assert.equal(
    blameLauncherLine(config, 'sbatch: error: invalid partition specified: gpu'),
    `${config}:4:3: launcher.partition: partition: gpu`,
  );
  assert.equal(
    blameLauncherLine(
      config,
      'sbatch: error: Batch job submission failed: Invalid account or account/partition combination specified',
    ),
    `${config}:5:3: launcher.account: account: nobody`,
  );
  assert.equal(blameLauncherLine(config, 'sbatch: error: something else'), `${config}:2:1: launcher: launcher:`);
  rmSync(dir, { recursive: true });
});
