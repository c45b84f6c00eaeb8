import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TensorData } from '../../src/engine/graph/types.js';
import { verifyCheckpoint, writeCheckpointFiles } from '../../src/engine/train/checkpoint-state.js';
import { resumeRun, trainFromConfig } from '../../src/engine/train/finetune.js';
import { RunDirectory } from '../../src/engine/train/run-dir.js';
import { prepareResume, removeStaleTemporaries, repairEventsTail } from '../../src/engine/train/run-recovery.js';
import { SavePolicy } from '../../src/engine/train/save-policy.js';
import { lossByStep, readEvents } from './helpers/run-events.js';
import { cutToCheckpoint, writeTinyRun } from './helpers/tiny-run.js';

const tensor = (values: number[]): TensorData => ({
  dtype: 'float32',
  dims: [values.length],
  data: new Float32Array(values),
});

/** A run directory with small checkpoints at `steps` (as the trainer writes them). */
function runWithCheckpoints(steps: number[]): RunDirectory {
  const run = new RunDirectory(mkdtempSync(join(tmpdir(), 'recovery-')), { totalSteps: 10 });
  for (const step of steps) {
    const progress = { optimizerSteps: step, microSteps: step, pendingMicroSteps: 0, epoch: 1, batchInEpoch: step };
    run.writeCheckpoint(step, (dir) =>
      writeCheckpointFiles(
        dir,
        new Map([['w', tensor([step, 2, 3])]]),
        {
          tensors: new Map([['w.m', tensor([0, 0, 0])]]),
          optimizerSteps: step,
          microSteps: step,
          pendingMicroSteps: 0,
        },
        { ...progress, evalsWithoutImprovement: 0, seed: 1, pendingLosses: [] },
      ),
    );
  }
  return run;
}

/** Flips the file's last byte (a weight's, in a safetensors file). */
const flipByte = (file: string) => {
  const bytes = readFileSync(file);
  bytes[bytes.length - 1] = (bytes.at(-1) as number) ^ 0xff;
  writeFileSync(file, bytes);
};

test("trainer_state.json records its files' sha256; a flipped byte or a missing file is named", () => {
  const run = runWithCheckpoints([2]);
  const dir = run.checkpointPath(2);
  const state = JSON.parse(readFileSync(join(dir, 'trainer_state.json'), 'utf8')) as { files: Record<string, string> };
  assert.deepEqual(Object.keys(state.files).sort(), ['model.safetensors', 'optimizer.safetensors']);
  assert.match(state.files['model.safetensors'] ?? '', /^[0-9a-f]{64}$/);
  assert.equal(verifyCheckpoint(dir), undefined);
  flipByte(join(dir, 'optimizer.safetensors'));
  assert.equal(verifyCheckpoint(dir)?.file, 'optimizer.safetensors');
  rmSync(join(dir, 'model.safetensors'));
  assert.deepEqual(verifyCheckpoint(dir), { file: 'model.safetensors', problem: 'is missing' });
  writeFileSync(join(dir, 'trainer_state.json'), '{"optimizerSteps": 2, "fil');
  assert.equal(verifyCheckpoint(dir)?.file, 'trainer_state.json');
});

test('prepareResume: the newest sound checkpoint, a warning naming each damaged file, else step 0', () => {
  const run = runWithCheckpoints([2, 4, 6]);
  flipByte(join(run.checkpointPath(6), 'model.safetensors'));
  writeFileSync(join(run.checkpointPath(4), 'trainer_state.json'), '');
  assert.equal(prepareResume(run), run.checkpointPath(2));
  const log = readFileSync(run.file('engine.log'), 'utf8');
  assert.match(
    log,
    /WARN .*checkpoints\/step-6\/model\.safetensors has sha256 .*falling back to the previous checkpoint, step 4/,
  );
  assert.match(log, /WARN .*checkpoints\/step-4\/trainer_state\.json is not valid JSON.*step 2/);
  rmSync(join(run.checkpointPath(2), 'optimizer.safetensors'));
  assert.equal(prepareResume(run), undefined);
  assert.match(
    readFileSync(run.file('engine.log'), 'utf8'),
    /no sound checkpoint to resume from: resuming from step 0/,
  );
  const empty = runWithCheckpoints([]);
  assert.equal(prepareResume(empty), undefined);
  assert.match(readFileSync(empty.file('engine.log'), 'utf8'), /before its first one\): resuming from step 0/);
});

test("removeStaleTemporaries: the engine's interrupted writes of dead processes go, the rest stays", () => {
  const run = runWithCheckpoints([2]);
  const dead = spawnSync(process.execPath, ['-e', '']).pid as number;
  const made = [
    `checkpoints/step-4.tmp-${dead}`,
    `checkpoints/step-8.deleted.tmp-${dead}`,
    `checkpoints/.model.safetensors.${dead}-0a1b2c3d.tmp`,
    `final.tmp-${dead}`,
    `checkpoints/step-6.tmp-${process.pid}`, // this process may be writing it
    `checkpoints/step-10.tmp-${process.ppid}`, // so may another one that runs
  ];
  for (const p of made) mkdirSync(run.file(p), { recursive: true });
  writeFileSync(run.file(`.status.json.${dead}-deadbeef.tmp`), '{"sta');
  writeFileSync(run.file(`status.json.tmp-${dead}`), '{"sta'); // the extension's, for a queued run
  const removed = removeStaleTemporaries(run.path);
  assert.deepEqual(removed.sort(), [
    `.status.json.${dead}-deadbeef.tmp`,
    `checkpoints/.model.safetensors.${dead}-0a1b2c3d.tmp`,
    `checkpoints/step-4.tmp-${dead}`,
    `checkpoints/step-8.deleted.tmp-${dead}`,
    `final.tmp-${dead}`,
  ]);
  assert.deepEqual(readdirSync(run.file('checkpoints')).sort(), [
    `step-10.tmp-${process.ppid}`,
    'step-2',
    `step-6.tmp-${process.pid}`,
  ]);
  assert.ok(existsSync(run.file(`status.json.tmp-${dead}`)));
});

test('repairEventsTail: a partial last line is cut, whole lines are kept', () => {
  const dir = mkdtempSync(join(tmpdir(), 'events-'));
  const file = join(dir, 'events.jsonl');
  const long = `${'{"type":"log","level":"info","message":"x"}\n'.repeat(3000)}`; // beyond one 64 KiB chunk
  writeFileSync(file, `${long}{"type":"st`);
  assert.equal(repairEventsTail(dir), 11);
  assert.equal(readFileSync(file, 'utf8'), long);
  assert.equal(repairEventsTail(dir), 0);
  writeFileSync(file, '{"type":"st');
  assert.equal(repairEventsTail(dir), 11);
  assert.equal(readFileSync(file, 'utf8'), '');
});

test('SavePolicy: every N steps, and after N minutes without any checkpoint', () => {
  let now = 0;
  const policy = new SavePolicy({ steps: 5, minutes: 2 }, () => now);
  assert.deepEqual(
    [1, 4, 5].map((s) => policy.due(s)),
    [false, false, true],
  );
  policy.saved(5);
  assert.equal(policy.due(5), false, 'not twice at one step');
  now = 119_999;
  assert.equal(policy.due(6), false);
  now = 120_000;
  assert.equal(policy.due(6), true);
  policy.saved(6); // an evaluation's checkpoint restarts the clock too
  now = 200_000;
  assert.equal(policy.due(7), false);
  assert.equal(new SavePolicy({ minutes: 0 }, () => now).due(1), false, '0 minutes: never');
});

test('finetune resume: past a damaged checkpoint, and from step 0 without one, as if never interrupted', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'resume-'));
  const config = writeTinyRun(dir);
  const reference = join(dir, 'reference');
  await trainFromConfig(config, reference, { threads: 1 });
  const finalBytes = (runDir: string) => readFileSync(join(runDir, 'final', 'model.safetensors'));
  // As after a kill at step 15: the checkpoints up to step 14 on disk, then 14's weights damaged.
  const damaged = join(dir, 'damaged');
  // Every checkpoint kept (save_total_limit changes nothing else), to pick those of step 14.
  const keepAll = join(dir, 'keep-all.finetune.yaml');
  writeFileSync(keepAll, readFileSync(config, 'utf8').replace('  save_total_limit: 2\n', ''));
  await trainFromConfig(keepAll, damaged, { threads: 1 });
  const run = cutToCheckpoint(damaged, 14);
  flipByte(join(run.checkpointPath(14), 'model.safetensors'));
  assert.equal(await resumeRun(damaged, { threads: 1 }), 'completed');
  assert.match(readFileSync(run.file('engine.log'), 'utf8'), /step-14\/model\.safetensors has sha256/);
  assert.deepEqual(lossByStep(readEvents(damaged)), lossByStep(readEvents(reference)));
  assert.ok(finalBytes(damaged).equals(finalBytes(reference)));
  // As after a kill before the first checkpoint: nothing but the config and a start.
  const early = join(dir, 'early');
  await trainFromConfig(config, early, { threads: 1 });
  for (const name of readdirSync(early)) if (name !== 'config.yaml') rmSync(join(early, name), { recursive: true });
  assert.equal(await resumeRun(early, { threads: 1 }), 'completed');
  assert.match(readFileSync(join(early, 'engine.log'), 'utf8'), /resuming from step 0/);
  assert.deepEqual(lossByStep(readEvents(early)), lossByStep(readEvents(reference)));
  assert.ok(finalBytes(early).equals(finalBytes(reference)));
});
