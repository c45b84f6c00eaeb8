import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeSafetensors } from '../../src/engine/io/safetensors.js';
import { encoderClassifier } from '../../src/engine/models/encoder-classifier.js';
import { initWeights } from '../../src/engine/models/init.js';
import { evaluateAccuracy } from '../../src/engine/train/classification-loop.js';
import { RunDirectory } from '../../src/engine/train/run-dir.js';
import { collate, type Example, markerTask } from '../../src/engine/train/synthetic.js';
import { runTrainer, type TrainerSettings, type TrainerSetup } from '../../src/engine/train/trainer.js';
import type { RunEvent, RunStatus } from '../../src/shared/run-directory.js';
import { SELFTEST_MODEL } from '../../src/tools/selftest.js';

const task = { numLabels: 3, vocabSize: SELFTEST_MODEL.vocabSize, minLength: 5, maxLength: 12 };
const train = markerTask({ ...task, count: 96, seed: 1 });
const validation = markerTask({ ...task, count: 32, seed: 2 });

const settings: TrainerSettings = {
  epochs: 3,
  batchSize: 16,
  learningRate: 3e-3,
  scheduler: 'linear',
  warmupRatio: 0.1,
  gradientAccumulationSteps: 2,
  shuffle: true,
  seed: 11,
  evalEvery: 'epoch',
  bestMetric: 'accuracy',
  bestMode: 'max',
};

function setup(
  dir: string,
  overrides: Partial<TrainerSetup<Example>> = {},
  s: Partial<TrainerSettings> = {},
): TrainerSetup<Example> {
  const model = encoderClassifier({ ...SELFTEST_MODEL, dropout: 0.1 });
  return {
    run: new RunDirectory(dir, { totalSteps: 0 }),
    runner: {
      model,
      weights: initWeights(model.params, 4),
      trainable: new Set(model.params.map((p) => p.name)),
      optimizer: { kind: 'adamw', weightDecay: 0.01 },
      maxGradNorm: 1,
      gradientAccumulationSteps: s.gradientAccumulationSteps ?? settings.gradientAccumulationSteps,
      seed: 11,
      device: 'cpu',
      threads: 1,
    },
    settings: { ...settings, ...s },
    train,
    validation,
    collate,
    tokensOf: (e) => e.ids.length,
    evaluate: async (runner, examples) => evaluateAccuracy(runner, examples, collate, 16),
    exportFinal: async (_weights, metrics) => writeFileSync(join(dir, 'final.json'), JSON.stringify(metrics)),
    shouldStop: () => false,
    ...overrides,
  };
}

const events = (dir: string): RunEvent[] =>
  readFileSync(join(dir, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as RunEvent);
const stepLosses = (dir: string) => events(dir).flatMap((e) => (e.type === 'step' ? [[e.step, e.loss] as const] : []));

test('a run writes the run directory contract: status, events per optimizer step, evals, checkpoints', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'run-'));
  const outcome = await runTrainer(setup(dir));
  assert.equal(outcome, 'completed');
  const status = JSON.parse(readFileSync(join(dir, 'status.json'), 'utf8')) as RunStatus;
  // 96 examples / 16 = 6 micro-batches per epoch, accumulation 2 -> 3 steps per epoch, 3 epochs.
  assert.equal(status.state, 'completed');
  assert.equal(status.totalSteps, 9);
  assert.equal(status.step, 9);
  assert.ok(status.best && status.best.metric === 'accuracy');
  const evs = events(dir);
  assert.deepEqual(
    stepLosses(dir).map(([s]) => s),
    [1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  assert.equal(evs.filter((e) => e.type === 'eval').length, 3);
  assert.deepEqual(
    evs.filter((e) => e.type === 'status').map((e) => (e.type === 'status' ? e.state : '')),
    ['running', 'completed'],
  );
  assert.ok(existsSync(join(dir, 'checkpoints', 'step-9', 'model.safetensors')));
  assert.ok(existsSync(join(dir, 'final.json')));
  assert.ok(readFileSync(join(dir, 'engine.log'), 'utf8').includes('eval at step 3'));
});

for (const groupByLength of [false, true]) {
  test(`a run stopped mid-epoch and resumed gives the same per-step losses as an uninterrupted one (group_by_length ${groupByLength})`, async () => {
    const straight = mkdtempSync(join(tmpdir(), 'run-'));
    const padded: number[] = [];
    const counting = (examples: readonly Example[]) => {
      padded.push(examples.length * Math.max(...examples.map((e) => e.ids.length)));
      return collate(examples);
    };
    await runTrainer(setup(straight, { collate: counting }, { groupByLength }));
    const interrupted = mkdtempSync(join(tmpdir(), 'run-'));
    let steps = 0;
    const first = setup(
      interrupted,
      { shouldStop: () => steps++ >= 7 }, // after 7 micro-batches: mid-accumulation, mid-epoch 2
      { groupByLength },
    );
    assert.equal(await runTrainer(first), 'stopped');
    const status = JSON.parse(readFileSync(join(interrupted, 'status.json'), 'utf8')) as RunStatus;
    assert.equal(status.state, 'stopped');
    const latest = first.run.checkpointSteps().at(-1) as number;
    await runTrainer(
      setup(
        interrupted,
        { run: new RunDirectory(interrupted, { totalSteps: 0 }), resumeFrom: first.run.checkpointPath(latest) },
        { groupByLength },
      ),
    );
    const byStep = new Map(stepLosses(interrupted));
    assert.deepEqual([...byStep.entries()], stepLosses(straight));
    // Lengths 5..12 uniformly: grouped batches of 16 pad far less than random ones (about 12 per example).
    const trainPositions = padded.slice(0, 18).reduce((a, b) => a + b, 0); // 3 epochs x 6 micro-batches
    if (groupByLength) assert.ok(trainPositions < 18 * 16 * 11, `${trainPositions} padded positions`);
    else assert.ok(trainPositions > 18 * 16 * 11, `${trainPositions} padded positions`);
  });
}

test('a run resumed from an end-of-epoch checkpoint goes on with the next epoch, without evaluating again', async () => {
  const straight = mkdtempSync(join(tmpdir(), 'run-'));
  await runTrainer(setup(straight));
  // As after a crash in epoch 2: the newest checkpoint is the one epoch 1's evaluation wrote.
  const resumed = mkdtempSync(join(tmpdir(), 'run-'));
  await runTrainer(setup(resumed, { resumeFrom: join(straight, 'checkpoints', 'step-3') }));
  const evalSteps = (dir: string) => events(dir).flatMap((e) => (e.type === 'eval' ? [e.step] : []));
  assert.deepEqual(evalSteps(straight), [3, 6, 9]);
  assert.deepEqual(evalSteps(resumed), [6, 9]);
  assert.deepEqual(stepLosses(resumed), stepLosses(straight).slice(3));
});

test('early stopping ends the run when the metric stops improving, keeping the best checkpoint', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'run-'));
  // Learning rate 0: accuracy never improves after the first evaluation.
  const outcome = await runTrainer(
    setup(dir, {}, { learningRate: 0, epochs: 10, earlyStoppingPatience: 2, saveTotalLimit: 1 }),
  );
  assert.equal(outcome, 'early-stopped');
  const evals = events(dir).filter((e) => e.type === 'eval');
  assert.equal(evals.length, 3);
  const run = new RunDirectory(dir, { totalSteps: 0 });
  assert.deepEqual(run.checkpointSteps(), [3, 9], 'the best (step 3) and the newest are kept');
});

test('save_steps checkpoints between evaluations; a resume from a mid-epoch one gives the same losses and weights', async () => {
  const keepFinal = (dir: string): Partial<TrainerSetup<Example>> => ({
    exportFinal: async (weights) => writeSafetensors(join(dir, 'final.safetensors'), weights),
  });
  const straight = mkdtempSync(join(tmpdir(), 'run-'));
  await runTrainer(setup(straight, keepFinal(straight), { saveSteps: 2 }));
  const saved = events(straight).flatMap((e) => (e.type === 'checkpoint' ? [e.step] : []));
  // 3 steps per epoch: 2, 4 and 8 by save_steps, 3, 6 and 9 by the epochs' evaluations (6 only once).
  assert.deepEqual(saved, [2, 3, 4, 6, 8, 9]);
  // As after a kill at step 5: the run directory holds the checkpoints up to step 4 (epoch 2, mid-way).
  const resumed = mkdtempSync(join(tmpdir(), 'run-'));
  cpSync(join(straight, 'checkpoints'), join(resumed, 'checkpoints'), {
    recursive: true,
    filter: (src) => !/step-[689]$/.test(src),
  });
  const from = join(resumed, 'checkpoints', 'step-4');
  await runTrainer(setup(resumed, { ...keepFinal(resumed), resumeFrom: from }, { saveSteps: 2 }));
  assert.deepEqual(stepLosses(resumed), stepLosses(straight).slice(4));
  assert.ok(readFileSync(join(resumed, 'final.safetensors')).equals(readFileSync(join(straight, 'final.safetensors'))));
});

test('save_total_limit prunes step checkpoints too, never the best one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'run-'));
  // Learning rate 0: the first evaluation (step 3) stays the best.
  await runTrainer(setup(dir, {}, { learningRate: 0, saveSteps: 1, saveTotalLimit: 2 }));
  assert.equal(events(dir).filter((e) => e.type === 'checkpoint').length, 9);
  assert.deepEqual(new RunDirectory(dir, { totalSteps: 0 }).checkpointSteps(), [3, 8, 9]);
});
