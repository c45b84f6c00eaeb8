import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { resumeRun, trainFromConfig } from '../../src/engine/train/finetune.js';
import { acquireRunLock, hostLockDeps } from '../../src/engine/train/run-lock.js';
import type { RunEvent } from '../../src/shared/run-directory.js';
import { LOCKED_EXIT_CODE } from '../../src/shared/run-lock.js';
import { deadPid } from '../extension/helpers.js';
import { FIXTURE_SENTENCES, sentimentRows, toJsonl } from '../fixtures/datasets.js';
import { writeTinyModel } from '../fixtures/tiny-models.js';
import { trainUntilStopped } from './helpers/tiny-run.js';

/**
 * One job, one engine, with real training on a tiny BERT: two `finetune resume` processes of one
 * run (one trains, the other is refused naming it), a stale lock taken over with a line in
 * engine.log, the lock gone however a run ends, and runs of different configs started in the
 * same second into one runs folder in folders of their own.
 */
const ROOT = resolve(__dirname, '..', '..');
const TSX = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const CLI = join(ROOT, 'src', 'engine', 'cli.ts');
let dir = '';

function writeConfig(folder: string, epochs: number, extra = ''): string {
  mkdirSync(folder, { recursive: true });
  const file = join(folder, 'demo.finetune.yaml');
  writeFileSync(
    file,
    `model: ${join(dir, 'model')}
task: text-classification
data:
  train: ${join(dir, 'train.jsonl')}
  max_length: 16
training:
  epochs: ${epochs}
  batch_size: 8
  learning_rate: 1.0e-3
output_dir: ${join(dir, 'runs')}
device: cpu
${extra}`,
  );
  return file;
}

const events = (runDir: string) =>
  readFileSync(join(runDir, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as RunEvent);

/** Trains until step `stopAt`, then stops: a run to resume, with a checkpoint. */
async function stoppedRun(name: string, epochs: number, stopAt: number): Promise<string> {
  const runDir = join(dir, name);
  await trainUntilStopped(writeConfig(join(dir, `cfg-${name}`), epochs), runDir, stopAt);
  assert.equal(existsSync(join(runDir, 'lock')), false, 'a stopped run leaves no lock');
  return runDir;
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ft-run-lock-'));
  mkdirSync(join(dir, 'model'));
  writeTinyModel(join(dir, 'model'), 'bert', FIXTURE_SENTENCES);
  writeFileSync(join(dir, 'train.jsonl'), toJsonl(sentimentRows(64, 1)));
});

after(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[]): Promise<{ pid: number; code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', TSX, CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((res) => child.on('exit', (code) => res({ pid: child.pid ?? 0, code, stdout, stderr })));
}

test('two `finetune resume` of one run at once: exactly one trains, the other is refused naming its pid', async () => {
  // 8 steps per epoch; enough epochs that the first resume still trains when the second starts.
  const runDir = await stoppedRun('twice', 100, 3);
  const before = events(runDir).length;
  const [a, b] = await Promise.all([
    cli(['resume', runDir, '--threads', '1']),
    cli(['resume', runDir, '--threads', '1']),
  ]);
  const results = [a, b].sort((x, y) => (x.code ?? -1) - (y.code ?? -1));
  const [won, refused] = results as [typeof a, typeof a];
  assert.equal(won.code, 0, won.stderr);
  assert.equal(refused.code, LOCKED_EXIT_CODE, refused.stderr);
  assert.match(
    refused.stderr,
    new RegExp(`is in use by engine pid ${won.pid} on host .*: engine pid ${won.pid} is running`),
  );
  // One engine's events only: each step once, one status sequence, every line the winner's.
  const resumed = events(runDir).slice(before);
  const steps = resumed.flatMap((e) => (e.type === 'step' ? [e.step] : []));
  assert.deepEqual(
    steps,
    [...new Set(steps)].sort((x, y) => x - y),
  );
  assert.equal(steps.length, 100 * 8 - 3);
  assert.deepEqual(
    resumed.flatMap((e) => (e.type === 'status' ? [e.state] : [])),
    ['queued', 'running', 'completed'],
  );
  const status = JSON.parse(readFileSync(join(runDir, 'status.json'), 'utf8')) as { pid: number; state: string };
  assert.deepEqual([status.pid, status.state], [won.pid, 'completed']);
  assert.equal(existsSync(join(runDir, 'lock')), false);
});

test('a stale lock (engine killed: dead pid, this host) is taken over, with a line in engine.log', async () => {
  const runDir = await stoppedRun('stale', 2, 3);
  const pid = deadPid();
  acquireRunLock(runDir, 'resume', { ...hostLockDeps(), pid });
  assert.equal(await resumeRun(runDir, { threads: 1 }), 'completed');
  const log = readFileSync(join(runDir, 'engine.log'), 'utf8');
  assert.match(log, new RegExp(`WARN  took over a stale lock of engine pid ${pid} on host .*no longer running`));
  assert.equal(existsSync(join(runDir, 'lock')), false);
});

test('a run that fails leaves no lock, and a failed resume attempt leaves none either', async () => {
  const config = writeConfig(join(dir, 'cfg-bad'), 1);
  writeFileSync(config, readFileSync(config, 'utf8').replace(join(dir, 'train.jsonl'), join(dir, 'missing.jsonl')));
  const runDir = join(dir, 'bad');
  await assert.rejects(trainFromConfig(config, runDir, { threads: 1 }));
  assert.equal(JSON.parse(readFileSync(join(runDir, 'status.json'), 'utf8')).state, 'failed');
  assert.equal(existsSync(join(runDir, 'lock')), false);
  // No checkpoint: the resume starts over from step 0 (run-recovery.ts) and fails on the data again.
  await assert.rejects(resumeRun(runDir, { threads: 1 }), /cannot read .*missing\.jsonl/);
  assert.equal(existsSync(join(runDir, 'lock')), false);
});

test('different configs started in the same second into one runs folder get their own directories', async () => {
  // Same file name in two folders: the same run id for the same second.
  const [a, b] = await Promise.all([
    trainFromConfig(writeConfig(join(dir, 'ws-a'), 1), undefined, { threads: 1 }),
    trainFromConfig(writeConfig(join(dir, 'ws-b'), 1), undefined, { threads: 1 }),
  ]);
  assert.notEqual(a.runDir, b.runDir);
  assert.deepEqual([a.outcome, b.outcome], ['completed', 'completed']);
  for (const { runDir } of [a, b]) {
    assert.equal(events(runDir).filter((e) => e.type === 'status' && e.state === 'completed').length, 1);
    assert.match(readFileSync(join(runDir, 'config.yaml'), 'utf8'), /# resolved from .*ws-[ab]/);
  }
  const sources = [a, b].map((r) => /ws-([ab])/.exec(readFileSync(join(r.runDir, 'config.yaml'), 'utf8'))?.[1]);
  assert.deepEqual(sources.sort(), ['a', 'b']);
});
