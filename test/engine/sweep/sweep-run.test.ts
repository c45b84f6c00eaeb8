import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import type { SweepRecord } from '../../../src/engine/sweep/state.js';
import { listSweepDirs, listTrialDirs, readSweepInfo } from '../../../src/extension/runs/sweep-reader.js';
import { ROOT } from '../../shared/helpers.js';
import { readEvents } from '../helpers/run-events.js';
import { writeTinyRun } from '../helpers/tiny-run.js';

/**
 * Whole sweeps of the tiny BERT run (test/engine/helpers/tiny-run.ts), through the CLI as a user
 * runs them: every trial an ordinary run directory, sweep.json naming the best trial, and a sweep
 * killed with SIGKILL (its trials' engines too) resuming to the same trials and objectives as an
 * uninterrupted one, with sweep.json whole after every kill, and one stopped by its stop file doing
 * the same when resumed.
 */
const CLI = join(ROOT, 'src', 'engine', 'cli.ts');
const TSX = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

function start(args: string[]): { child: ChildProcess; exited: Promise<number | null>; stderr: () => string } {
  // Its own process group, so a test can kill the sweep and its trials' engines at once.
  const child = spawn(process.execPath, ['--import', TSX, CLI, ...args, '--threads', '1', '--device', 'cpu'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, stderr: () => stderr };
}

async function runToEnd(args: string[]): Promise<void> {
  const p = start(args);
  const code = await p.exited;
  assert.equal(code, 0, `finetune ${args.join(' ')} exited with ${code}:\n${p.stderr()}`);
}

const read = (dir: string) => JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8')) as SweepRecord;

/** The tiny run (`epochs` of 16 steps) with a sweep block. */
function tinySweep(dir: string, sweep: string, epochs = 3): string {
  const config = writeTinyRun(dir, '', epochs);
  appendFileSync(config, `sweep:\n${sweep}`);
  return config;
}

/**
 * A random sweep over the learning rate in a fresh folder, and its uninterrupted run (`reference`)
 * that an interrupted and resumed one must match.
 */
async function randomSweepWithReference(t: TestContext, prefix: string, trials: number, seed: number, epochs = 3) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = tinySweep(
    dir,
    `  strategy: random
  max_trials: ${trials}
  seed: ${seed}
  parameters:
    - {key: training.learning_rate, type: loguniform, low: 1.0e-4, high: 1.0e-2}
`,
    epochs,
  );
  const reference = join(dir, 'reference');
  await runToEnd(['sweep', config, '--sweep-dir', reference]);
  return { dir, config, reference };
}

/** The resumed sweep completed with the reference's trials (values, states, objectives) and best. */
function assertSameSweep(resumed: string, reference: string): void {
  const a = read(reference);
  const b = read(resumed);
  assert.equal(b.state, 'completed');
  const summary = (r: SweepRecord) => r.trials.map((x) => ({ params: x.params, state: x.state, value: x.value }));
  assert.deepEqual(summary(b), summary(a));
  assert.deepEqual(b.best, a.best);
}

test('a tiny TPE sweep with median pruning: trials are run directories, sweep.json names the best', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sweep-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = tinySweep(
    dir,
    `  max_trials: 3
  seed: 5
  pruner: median
  median: {n_startup_trials: 1}
  parameters:
    - {key: training.learning_rate, type: loguniform, low: 1.0e-5, high: 1.0e-2}
    - {key: training.warmup_ratio, type: choice, values: [0, 0.1]}
`,
  );
  const sweepDir = join(dir, 'sweep');
  await runToEnd(['sweep', config, '--sweep-dir', sweepDir]);
  const record = read(sweepDir);
  assert.equal(record.state, 'completed');
  assert.equal(record.trials.length, 3);
  for (const trial of record.trials) {
    assert.ok(
      trial.state === 'completed' || trial.state === 'pruned',
      `trial ${trial.number}: ${trial.state} ${trial.reason}`,
    );
    const runDir = join(sweepDir, trial.dir);
    const runConfig = readFileSync(join(runDir, 'config.yaml'), 'utf8');
    assert.match(runConfig, new RegExp(`learning_rate: ${trial.params['training.learning_rate']}\\b`));
    assert.doesNotMatch(runConfig, /^sweep:/m, 'a trial runs the config without its sweep block');
    // The recorded evaluations are the run's own accuracy evaluations.
    const evals = readEvents(runDir).flatMap((e) => (e.type === 'eval' ? [[e.step, e.metrics.accuracy]] : []));
    const recorded = trial.intermediate.map((iv) => [iv.step, iv.value]);
    assert.deepEqual(recorded, evals.slice(0, recorded.length));
    if (trial.state === 'completed') {
      assert.equal(trial.value, Math.max(...recorded.map(([, v]) => v as number)));
      assert.equal(JSON.parse(readFileSync(join(runDir, 'status.json'), 'utf8')).state, 'completed');
    }
  }
  const completed = record.trials.filter((x) => x.state === 'completed');
  const best = completed.reduce((a, b) => ((b.value as number) > (a.value as number) ? b : a));
  assert.equal(record.best?.trial, best.number);
  assert.equal(record.best?.value, best.value);
  // What the Runs view and the panel read of it (src/extension/runs/sweep-reader.ts).
  const info = await readSweepInfo(sweepDir, () => false);
  assert.deepEqual(info.record, record);
  assert.equal(info.state, 'completed');
  assert.equal(info.sourceFile, config, 'Apply best edits the config the sweep was started from');
  assert.deepEqual(await listSweepDirs(dir), [sweepDir]);
  assert.deepEqual((await listTrialDirs(sweepDir)).sort(), record.trials.map((x) => join(sweepDir, x.dir)).sort());
});

test('a sweep killed with SIGKILL resumes to the trials and objectives of an uninterrupted one; sweep.json stays whole', async (t) => {
  const { dir, config, reference } = await randomSweepWithReference(t, 'sweep-kill-', 3, 11);
  const killed = join(dir, 'killed');
  let kills = 0;
  // Kills timed from the sweep's first sweep.json: in the first trial, later, and in a resumed sweep.
  for (const delay of [800, 3000, 2500]) {
    const args = existsSync(join(killed, 'sweep.json')) ? ['resume', killed] : ['sweep', config, '--sweep-dir', killed];
    const p = start(args);
    let exited = false;
    void p.exited.then(() => {
      exited = true;
    });
    while (!exited && !existsSync(join(killed, 'sweep.json'))) await sleep(5);
    const ended = exited || (await Promise.race([p.exited.then(() => true), sleep(delay).then(() => false)]));
    if (ended) break;
    process.kill(-(p.child.pid as number), 'SIGKILL');
    await p.exited;
    await sleep(200); // the group's engines go down with the sweep
    kills++;
    assert.doesNotThrow(() => read(killed), `sweep.json after kill ${kills}`);
  }
  assert.ok(kills > 0, 'the sweep was killed at least once');
  await runToEnd(['sweep', '--resume', killed]);
  assertSameSweep(killed, reference);
});

test('a sweep stopped by its stop file resumes (its stop files do not stop it again) to the trials and objectives of an uninterrupted one', async (t) => {
  // 8 epochs (128 steps): trial 0 still trains when the stop request reaches it.
  const { dir, config, reference } = await randomSweepWithReference(t, 'sweep-stop-', 2, 13, 8);
  const stopped = join(dir, 'stopped');
  const trial0 = join(stopped, 'trials', '0');
  const p = start(['sweep', config, '--sweep-dir', stopped]);
  let exited = false;
  void p.exited.then(() => {
    exited = true;
  });
  const trains = () => existsSync(join(trial0, 'events.jsonl')) && readEvents(trial0).some((e) => e.type === 'step');
  while (!exited && !trains()) await sleep(20);
  assert.ok(!exited, `the sweep ended before its first trial trained:\n${p.stderr()}`);
  // What Stop does to a sweep (src/extension/runs/engine-process.ts requestStop).
  writeFileSync(join(stopped, 'stop-requested'), `${new Date().toISOString()}\n`);
  assert.equal(await p.exited, 0, p.stderr());
  const before = read(stopped);
  assert.equal(before.state, 'stopped');
  assert.equal(before.trials[0]?.state, 'running', 'the stopped trial is the one the sweep resumes');
  const status0 = JSON.parse(readFileSync(join(trial0, 'status.json'), 'utf8')) as { state: string; step: number };
  assert.equal(status0.state, 'stopped');
  assert.ok(status0.step > 0 && status0.step < 128, `stopped mid-training, at step ${status0.step}`);
  // The requests the stop left behind: the sweep's and the one it wrote for its trial.
  assert.ok(existsSync(join(stopped, 'stop-requested')) && existsSync(join(trial0, 'stop-requested')));
  await runToEnd(['resume', stopped]);
  assertSameSweep(stopped, reference);
  const resumed = /resumed from .*step-(\d+) at step (\d+)/.exec(readFileSync(join(trial0, 'engine.log'), 'utf8'));
  assert.equal(Number(resumed?.[2]), status0.step, 'trial 0 resumed from the checkpoint of its stop');
  assert.ok(!existsSync(join(stopped, 'stop-requested')) && !existsSync(join(trial0, 'stop-requested')));
});
