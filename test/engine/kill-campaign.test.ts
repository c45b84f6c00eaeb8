import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { verifyCheckpoint } from '../../src/engine/train/checkpoint-state.js';
import type { RunStatus } from '../../src/shared/run-directory.js';
import { ROOT } from '../shared/helpers.js';
import { rng } from './helpers/random.js';
import { lossByStep, readEvents } from './helpers/run-events.js';
import { writeTinyRun } from './helpers/tiny-run.js';

/**
 * The kill campaign: `finetune train` of a tiny run killed with SIGKILL at random moments (and
 * sometimes its `finetune resume` too), then resumed to the end. Every run directory must stay
 * readable after every kill, and every resumed run must log the step losses and write the final
 * weights of an uninterrupted reference run, bit for bit, kills before the first checkpoint included.
 * Replay with FINETUNE_TEST_SEED=<seed>; the moments are times, so a replay hits similar, not equal, points.
 */
const SEED = Number(process.env.FINETUNE_TEST_SEED ?? 21_2026);
const KILLS = 20;
const CLI = join(ROOT, 'src', 'engine', 'cli.ts');
const TSX = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const STATES = new Set(['queued', 'running', 'completed', 'failed', 'stopped']);

interface Engine {
  child: ChildProcess;
  spawnedAt: number;
  exited: Promise<number | null>;
  stderr: () => string;
}

function startEngine(args: string[]): Engine {
  const child = spawn(process.execPath, ['--import', TSX, CLI, ...args, '--threads', '1', '--device', 'cpu'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, spawnedAt: Date.now(), exited, stderr: () => stderr };
}

/** Resolves once the engine has written status.json (its run has started), or it has exited. */
async function runStarted(engine: Engine, runDir: string): Promise<boolean> {
  const status = join(runDir, 'status.json');
  let done = false;
  void engine.exited.then(() => {
    done = true;
  });
  while (!done) {
    if (existsSync(status) && statSync(status).mtimeMs >= engine.spawnedAt) return true;
    await sleep(2);
  }
  return false;
}

/** Runs the engine and kills it `delay` ms after its run started; false when it ended first. */
async function killAfter(args: string[], runDir: string, delay: number): Promise<boolean> {
  const engine = startEngine(args);
  if (!(await runStarted(engine, runDir))) return false;
  const ended = await Promise.race([engine.exited.then(() => true), sleep(delay).then(() => false)]);
  if (ended) return false;
  engine.child.kill('SIGKILL');
  await engine.exited;
  return true;
}

async function runToEnd(args: string[]): Promise<void> {
  const engine = startEngine(args);
  const code = await engine.exited;
  assert.equal(code, 0, `finetune ${args.join(' ')} exited with ${code}:\n${engine.stderr()}`);
}

/** What a reader of the run directory would trip on: a list of problems, empty when none. */
function unreadable(runDir: string): string[] {
  const problems: string[] = [];
  let status: RunStatus;
  try {
    status = JSON.parse(readFileSync(join(runDir, 'status.json'), 'utf8')) as RunStatus;
    if (!STATES.has(status.state)) problems.push(`status.json: state ${status.state}`);
  } catch (err) {
    return [`status.json: ${(err as Error).message}`];
  }
  // The first status event follows the first status.json write: a kill in between leaves no events yet.
  if (existsSync(join(runDir, 'events.jsonl'))) {
    try {
      readEvents(runDir);
    } catch (err) {
      problems.push(`events.jsonl: ${(err as Error).message}`);
    }
  } else if (status.state !== 'queued') problems.push('events.jsonl is missing');
  for (const name of readdirSync(join(runDir, 'checkpoints'))) {
    if (!/^step-\d+$/.test(name)) continue;
    const damage = verifyCheckpoint(join(runDir, 'checkpoints', name));
    if (damage) problems.push(`checkpoints/${name}/${damage.file} ${damage.problem}`);
  }
  if (existsSync(join(runDir, 'final'))) {
    for (const f of ['model.safetensors', 'config.json', 'model.onnx', 'metrics.json']) {
      if (!existsSync(join(runDir, 'final', f))) problems.push(`final/${f} is missing`);
    }
  }
  return problems;
}

const checkpointsOf = (runDir: string) =>
  existsSync(join(runDir, 'checkpoints'))
    ? readdirSync(join(runDir, 'checkpoints')).filter((n) => /^step-\d+$/.test(n))
    : [];
const temporariesOf = (runDir: string) =>
  [...readdirSync(runDir), ...readdirSync(join(runDir, 'checkpoints'))].filter((n) => /\.tmp(-\d+)?$/.test(n));
const finalFile = (runDir: string, f: string) => readFileSync(join(runDir, 'final', f));

test(`kill campaign: ${KILLS} SIGKILLs of train (and some resumes), every resume exact`, {
  timeout: 600_000,
}, async (t) => {
  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'kill-campaign-'));
  const config = writeTinyRun(dir);
  const rand = rng(SEED);
  t.diagnostic(`seed ${SEED} (FINETUNE_TEST_SEED replays the same moments)`);

  const reference = join(dir, 'reference');
  const engine = startEngine(['train', config, '--run-dir', reference]);
  assert.ok(await runStarted(engine, reference), 'the reference run ended before it started');
  const runStart = Date.now();
  assert.equal(await engine.exited, 0, engine.stderr());
  const window = (Date.now() - runStart) * 0.9;
  const referenceEvents = readEvents(reference);
  const referenceLosses = lossByStep(referenceEvents);
  assert.equal(referenceLosses.size, 48);
  // Kill moments, from status.json on: a third in the start-up (data, graphs, sessions: as long as
  // the training itself on this tiny run), the rest over training and export, up to 90% of the way
  // to the reference's exit.
  const firstStep = referenceEvents.find((e) => e.type === 'step')?.t ?? runStart;
  const startup = Math.min(firstStep - runStart, window);
  const moment = () => (rand() < 1 / 3 ? rand() * startup : startup + rand() * (window - startup));

  const counts = { kills: 0, beforeFirstCheckpoint: 0, resumes: 0, resumeKills: 0, retries: 0, mismatches: 0 };
  const problems: string[] = [];
  for (let i = 0; i < KILLS; i++) {
    const runDir = join(dir, `run-${i}`);
    let delay = moment();
    const killResume = rand() < 0.35;
    const resumeDelay = moment();
    // A run faster than the reference may end before its moment: again from scratch, earlier.
    while (!(await killAfter(['train', config, '--run-dir', runDir], runDir, delay))) {
      counts.retries++;
      rmSync(runDir, { recursive: true, force: true });
      delay /= 2;
    }
    counts.kills++;
    const saved = checkpointsOf(runDir);
    if (saved.length === 0) counts.beforeFirstCheckpoint++;
    const note = `kill ${i + 1} at ${delay.toFixed(0)} ms: ${saved.length} checkpoint(s) on disk`;
    t.diagnostic(note);
    problems.push(...unreadable(runDir).map((p) => `${note}: ${p}`));
    if (killResume) {
      counts.resumes++;
      if (await killAfter(['resume', runDir], runDir, resumeDelay)) {
        counts.resumeKills++;
        problems.push(
          ...unreadable(runDir).map((p) => `${note}, its resume killed at ${resumeDelay.toFixed(0)} ms: ${p}`),
        );
      }
    }
    const state = (JSON.parse(readFileSync(join(runDir, 'status.json'), 'utf8')) as RunStatus).state;
    if (state !== 'completed') {
      counts.resumes++;
      await runToEnd(['resume', runDir]);
    }
    problems.push(...unreadable(runDir).map((p) => `${note}, after the resume: ${p}`));
    const log = readFileSync(join(runDir, 'engine.log'), 'utf8');
    if (saved.length === 0 && !log.includes('resuming from step 0'))
      problems.push(`${note}: no log line says the resume starts from step 0`);
    const leftovers = temporariesOf(runDir);
    if (leftovers.length > 0) problems.push(`${note}: temporaries left after completion: ${leftovers.join(', ')}`);
    const same =
      JSON.stringify([...lossByStep(readEvents(runDir))]) === JSON.stringify([...referenceLosses]) &&
      ['model.safetensors', 'model.onnx'].every((f) => finalFile(runDir, f).equals(finalFile(reference, f)));
    if (!same) {
      counts.mismatches++;
      problems.push(`${note}: the resumed run differs from the reference (losses or final weights)`);
    }
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  t.diagnostic(
    `kills ${counts.kills} (before the first checkpoint ${counts.beforeFirstCheckpoint}), resumes ${counts.resumes} ` +
      `(killed ${counts.resumeKills}), mismatches ${counts.mismatches}, retried moments ${counts.retries}, ${seconds} s`,
  );
  assert.deepEqual(problems, []);
  assert.equal(counts.kills, KILLS);
  assert.ok(
    counts.beforeFirstCheckpoint > 0,
    'no kill landed before the first checkpoint: the campaign misses that case',
  );
  assert.ok(counts.beforeFirstCheckpoint < KILLS, 'every kill landed before the first checkpoint');
  rmSync(dir, { recursive: true, force: true });
});
