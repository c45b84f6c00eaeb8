import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { resumeRun, trainFromConfig } from '../../src/engine/train/finetune.js';
import type { RunStatus } from '../../src/shared/run-directory.js';
import { FIXTURE_SENTENCES, sentimentRows, toJsonl } from '../fixtures/datasets.js';
import { writeTinyModel } from '../fixtures/tiny-models.js';
import { fillDisk, smallDisk } from './helpers/small-disk.js';

/**
 * `finetune train` with its run directory on a 2 MB tmpfs that the test fills up at a chosen step:
 * the run ends `failed` with the file it could not write, the last complete checkpoint stays and
 * resumes once space is freed, and nothing half written is left. A tiny BERT: 64 rows, batch 16,
 * 4 steps an epoch, 3 epochs, a checkpoint at each epoch's end (about 370 KB: weights and moments).
 */
function workspace(): { config: string } {
  const dir = mkdtempSync(join(tmpdir(), 'disk-full-'));
  mkdirSync(join(dir, 'model'));
  writeTinyModel(join(dir, 'model'), 'bert', FIXTURE_SENTENCES);
  writeFileSync(join(dir, 'train.jsonl'), toJsonl(sentimentRows(64, 1)));
  const config = join(dir, 'c.finetune.yaml');
  writeFileSync(
    config,
    `model: ./model
task: text-classification
data: { train: train.jsonl, max_length: 32 }
training: { epochs: 3, batch_size: 16, learning_rate: 1.0e-3 }
device: cpu
`,
  );
  return { config };
}

/** Trains into `runDir`, calling `atStep` once at the end of step `step`; returns the error it failed with. */
async function trainFailing(config: string, runDir: string, step: number, atStep: () => void): Promise<Error> {
  let done = false;
  const progress = (line: string) => {
    if (!done && line.includes(` step ${step}/`)) {
      done = true;
      atStep();
    }
  };
  const error = await trainFromConfig(config, runDir, { threads: 1, progress }).then(
    () => assert.fail('the run should have failed'),
    (err: Error) => err,
  );
  assert.ok(done, `the run never reached step ${step}`);
  return error;
}

const status = (runDir: string) => JSON.parse(readFileSync(join(runDir, 'status.json'), 'utf8')) as RunStatus;

/** Every path under `dir` (relative). */
function walk(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? [`${prefix}${e.name}/`, ...walk(join(dir, e.name), `${prefix}${e.name}/`)]
      : [`${prefix}${e.name}`],
  );
}

const sizeOf = (dir: string) => walk(dir).reduce((n, p) => n + (p.endsWith('/') ? 0 : statSync(join(dir, p)).size), 0);

/** The run directory holds no temporary or half-written file, and every event line parses. */
function assertClean(runDir: string): void {
  const leftovers = walk(runDir).filter((p) => /\.tmp|\.old-/.test(p));
  assert.deepEqual(leftovers, [], 'temporary files left behind');
  const lines = readFileSync(join(runDir, 'events.jsonl'), 'utf8').split('\n');
  assert.equal(lines.at(-1), '', 'events.jsonl ends with a whole line');
  for (const line of lines.slice(0, -1)) JSON.parse(line);
}

async function resumesToCompletion(runDir: string, free: () => void): Promise<void> {
  free();
  assert.equal(await resumeRun(runDir, { threads: 1 }), 'completed');
  assert.equal(status(runDir).state, 'completed');
  assert.ok(readdirSync(join(runDir, 'final')).includes('model.onnx'));
  assertClean(runDir);
}

function disk(t: TestContext): string | undefined {
  return smallDisk(t, '2m');
}

test('disk full while writing a checkpoint: failed with the file named, the previous checkpoint intact and resumable', async (t) => {
  const mount = disk(t);
  if (!mount) return;
  const { config } = workspace();
  const runDir = join(mount, 'run');
  let free = () => {};
  // After step 5 (checkpoint step-4 on disk): room for the status and events, not for step-8's checkpoint.
  const error = await trainFailing(config, runDir, 5, () => {
    free = fillDisk(mount, 64 * 1024);
  });
  const reason =
    /^disk full while writing checkpoints\/step-8\/(model|optimizer)\.safetensors \(ENOSPC\)\. The last complete checkpoint is checkpoints\/step-4: free some space, then `finetune resume .*` continues from it\.$/;
  assert.match(error.message, reason);
  const s = status(runDir);
  assert.equal(s.state, 'failed');
  assert.match(s.reason ?? '', reason);
  assert.match(readFileSync(join(runDir, 'engine.log'), 'utf8'), /ERROR disk full while writing checkpoints\/step-8\//);
  assert.deepEqual(readdirSync(join(runDir, 'checkpoints')), ['step-4']);
  assert.deepEqual(readdirSync(join(runDir, 'checkpoints', 'step-4')).sort(), [
    'model.safetensors',
    'optimizer.safetensors',
    'trainer_state.json',
  ]);
  assertClean(runDir);
  await resumesToCompletion(runDir, free);
});

test('disk full while writing the final model: failed, no final/ folder, the last checkpoint resumes to a complete export', async (t) => {
  const mount = disk(t);
  if (!mount) return;
  const { config } = workspace();
  const runDir = join(mount, 'run');
  let free = () => {};
  // At the last step: room for step-12's checkpoint (as big as step-4's) and a little, not for final/.
  const error = await trainFailing(config, runDir, 12, () => {
    const checkpoint = sizeOf(join(runDir, 'checkpoints', 'step-4'));
    free = fillDisk(mount, checkpoint + 96 * 1024);
  });
  assert.match(
    error.message,
    /^disk full while writing final\/\S+ \(ENOSPC\)\. The last complete checkpoint is checkpoints\/step-12/,
  );
  assert.equal(status(runDir).state, 'failed');
  assert.ok(!readdirSync(runDir).includes('final'), 'no half-written final/');
  assertClean(runDir);
  await resumesToCompletion(runDir, free);
});

test('a disk with no byte left: the failure and its reason still reach status.json', async (t) => {
  const mount = disk(t);
  if (!mount) return;
  const { config } = workspace();
  const runDir = join(mount, 'run');
  let free = () => {};
  const error = await trainFailing(config, runDir, 5, () => {
    free = fillDisk(mount, 0);
  });
  // Whichever write finds the disk full first: the status.json replacement, or an append that
  // crosses into a new block.
  const reason =
    /^disk full while writing (status\.json|events\.jsonl|engine\.log) \(ENOSPC\)\. The last complete checkpoint is checkpoints\/step-4/;
  assert.match(error.message, reason);
  const s = status(runDir);
  assert.equal(s.state, 'failed');
  assert.match(s.reason ?? '', reason);
  assertClean(runDir);
  await resumesToCompletion(runDir, free);
});
