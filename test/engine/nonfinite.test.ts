import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Backend } from '../../src/engine/backend.js';
import type { TensorData } from '../../src/engine/graph/types.js';
import { initWeights } from '../../src/engine/models/init.js';
import type { TrainableModel } from '../../src/engine/models/model.js';
import { ortBackend } from '../../src/engine/runtime.js';
import type { Batch } from '../../src/engine/step/batch.js';
import { readCheckpointFiles } from '../../src/engine/train/checkpoint-state.js';
import { trainFromConfig } from '../../src/engine/train/finetune.js';
import { MAX_SKIPPED_IN_A_ROW, NonFiniteError } from '../../src/engine/train/nonfinite.js';
import { RunDirectory } from '../../src/engine/train/run-dir.js';
import { StepRunner, type StepRunnerOptions } from '../../src/engine/train/step-runner.js';
import { runTrainer, type TrainerSettings, type TrainerSetup } from '../../src/engine/train/trainer.js';
import type { NonFinitePolicy } from '../../src/shared/config.js';
import type { RunEvent, RunStatus } from '../../src/shared/run-directory.js';
import { FIXTURE_SENTENCES, sentimentRows, toJsonl } from '../fixtures/datasets.js';
import { writeTinyModel } from '../fixtures/tiny-models.js';

/**
 * training.on_nonfinite on a model small enough to run in milliseconds, with a float input, so a
 * NaN can be put into exactly the batch a test wants: y = x·W + b, mean squared error. W has 12
 * floats (a multiple of 4: HostAdamW updates it), b has 3 (the step graph updates it), so both
 * optimizer placements are covered; `allInGraph` moves W into the graph too.
 */
const model: TrainableModel = {
  params: [
    { name: 'w', shape: [4, 3], init: { kind: 'normal', std: 0.5 } },
    { name: 'b', shape: [3], init: { kind: 'normal', std: 0.5 } },
  ],
  batchInputs: [
    { name: 'x', dtype: 'float32', shape: ['batch', 4] },
    { name: 't', dtype: 'float32', shape: ['batch', 3] },
  ],
  inferenceInputs: ['x'],
  forward(g, param, inputs) {
    const y = g.add(g.matmul(inputs.x as never, param('w')), param('b'));
    const d = g.sub(y, inputs.t as never);
    return { loss: g.reduceMean(g.mul(d, d), undefined, false), logits: y };
  },
};

const allInGraph: Backend = { ...ortBackend, placeOptimizer: (params) => params.map(() => 'graph') };
const PLACEMENTS = { 'host + graph': ortBackend, 'graph only': allInGraph } as const;

test('the model covers both optimizer placements: W on the host, b in the graph', () => {
  const params = model.params.map((p) => ({ name: p.name, dims: p.shape, kind: 'dense' as const }));
  assert.deepEqual(ortBackend.placeOptimizer(params, { kind: 'adamw', weightDecay: 0 }), ['host', 'graph']);
});

interface Example {
  x: number[];
  t: number[];
}

/** 16 examples; `bad` ones get a NaN in x. */
function examples(bad: ReadonlySet<number> = new Set()): Example[] {
  return Array.from({ length: 16 }, (_, i) => ({
    x: [Math.sin(i), Math.cos(i), (i % 5) / 5, 1].map((v, j) => (j === 0 && bad.has(i) ? Number.NaN : v)),
    t: [i % 2, (i % 3) / 3, Math.sin(i * 0.7)],
  }));
}

const f32 = (rows: number[][]): TensorData => ({
  dtype: 'float32',
  dims: [rows.length, (rows[0] as number[]).length],
  data: Float32Array.from(rows.flat()),
});
const collate = (ex: readonly Example[]): Batch => ({ x: f32(ex.map((e) => e.x)), t: f32(ex.map((e) => e.t)) });

function runnerOptions(backend: Backend, k = 1, skipNonFinite = false): StepRunnerOptions {
  return {
    model,
    weights: initWeights(model.params, 3),
    trainable: new Set(['w', 'b']),
    optimizer: { kind: 'adamw', weightDecay: 0.01 },
    maxGradNorm: 1,
    gradientAccumulationSteps: k,
    device: 'cpu',
    threads: 1,
    backend,
    skipNonFinite,
  };
}

/** Every carried tensor of a runner (parameters, moments, gradient sums), copied. */
const snapshot = (r: StepRunner) =>
  new Map([...r.exportState().tensors].map(([n, t]) => [n, Float32Array.from(t.data as Float32Array)]));

for (const [placement, backend] of Object.entries(PLACEMENTS)) {
  for (const k of [1, 2]) {
    test(`skip_step (${placement}, accumulation ${k}): a NaN step changes no parameter or optimizer state, and the next step is as if it never happened`, async () => {
      const good = examples();
      const bad = examples(new Set([0, 1, 2, 3]));
      const batch = (from: Example[], i: number) => collate(from.slice(4 * i, 4 * i + 4));
      const skipping = await StepRunner.create(runnerOptions(backend, k, true));
      const reference = await StepRunner.create(runnerOptions(backend, k));
      try {
        // One good optimizer step on both.
        for (let i = 0; i < k; i++) {
          await skipping.step(batch(good, i), 0.05);
          await reference.step(batch(good, i), 0.05);
        }
        const before = snapshot(skipping);
        // A NaN in the first micro-batch of the next step (its gradient sum turns NaN with accumulation).
        let result = await skipping.step(batch(bad, 0), 0.05);
        for (let i = 1; i < k; i++) result = await skipping.step(batch(good, 2), 0.05);
        assert.equal(result.updated, true);
        assert.equal(result.skipped, true);
        assert.ok(Number.isNaN(result.gradNorm), `gradient norm ${result.gradNorm}`);
        assert.equal(skipping.steps, 2, 'a skipped step still counts as a step');
        const after = snapshot(skipping);
        for (const [name, data] of before) {
          // Gradient sums are cleared after every optimizer step, skipped or not.
          const expected = name.endsWith('.grad_sum') ? new Float32Array(data.length) : data;
          assert.deepEqual(after.get(name), expected, `${name} changed on a skipped step`);
        }
        // The next good step: bit for bit the reference's second step (AdamW's bias correction
        // counts the steps applied, not the step number).
        for (let i = 0; i < k; i++) {
          const s = await skipping.step(batch(good, 3 - i), 0.05);
          await reference.step(batch(good, 3 - i), 0.05);
          if (i === k - 1) assert.equal(s.skipped, undefined);
        }
        const ours = snapshot(skipping);
        for (const [name, data] of snapshot(reference)) assert.deepEqual(ours.get(name), data, name);
      } finally {
        await skipping.dispose();
        await reference.dispose();
      }
    });
  }
}

const settings: TrainerSettings = {
  epochs: 2,
  batchSize: 4,
  learningRate: 0.05,
  scheduler: 'constant',
  gradientAccumulationSteps: 1,
  shuffle: false,
  seed: 5,
  bestMetric: 'loss',
  bestMode: 'min',
};

/** A trainer over the 16 examples (4 steps an epoch, a checkpoint at each epoch's end). */
function trainer(
  dir: string,
  backend: Backend,
  policy: NonFinitePolicy,
  o: { nanSteps?: ReadonlySet<number>; data?: Example[]; s?: Partial<TrainerSettings> } = {},
): TrainerSetup<Example> {
  let batches = 0;
  return {
    run: new RunDirectory(dir, { totalSteps: 0 }),
    runner: runnerOptions(backend),
    settings: { ...settings, onNonFinite: policy, ...o.s },
    train: o.data ?? examples(),
    // NaN put into the batch of the given (1-based) steps.
    collate: (ex) => {
      batches++;
      return collate(ex.map((e) => (o.nanSteps?.has(batches) ? { ...e, x: [Number.NaN, ...e.x.slice(1)] } : e)));
    },
    tokensOf: () => 1,
    evaluate: async () => ({}),
    exportFinal: async (weights) => writeFileSync(join(dir, 'final.json'), JSON.stringify([...weights.keys()])),
    shouldStop: () => false,
  };
}

const events = (dir: string): RunEvent[] =>
  readFileSync(join(dir, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as RunEvent);
const stepEvents = (dir: string) => events(dir).flatMap((e) => (e.type === 'step' ? [[e.step, e.loss] as const] : []));

for (const [placement, backend] of Object.entries(PLACEMENTS)) {
  test(`on_nonfinite stop (${placement}): the run fails at the NaN step, naming it, the last good checkpoint and the causes`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nonfinite-'));
    const setup = trainer(dir, backend, 'stop', { nanSteps: new Set([6]) });
    await assert.rejects(runTrainer(setup), (err: Error) => {
      assert.ok(err instanceof NonFiniteError, String(err));
      assert.match(err.message, /training step 6 has a non-finite loss NaN, gradient norm NaN/);
      assert.match(err.message, /last good checkpoint is checkpoints\/step-4/);
      assert.match(err.message, /learning rate too high \(training\.learning_rate is 0\.05/);
      assert.match(err.message, /fp16/);
      assert.match(err.message, /bad rows/);
      return true;
    });
    assert.deepEqual(
      stepEvents(dir).map(([s]) => s),
      [1, 2, 3, 4, 5],
    );
    // The checkpoint it names holds finite weights.
    const ckpt = readCheckpointFiles(setup.run.checkpointPath(4), new Set(['w', 'b']));
    for (const [name, t] of ckpt.weights) assert.ok((t.data as Float32Array).every(Number.isFinite), name);
  });

  test(`on_nonfinite skip_step (${placement}): NaN steps are skipped and logged, the run completes with finite weights`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nonfinite-'));
    const setup = trainer(dir, backend, 'skip_step', { nanSteps: new Set([2, 6, 7]) });
    assert.equal(await runTrainer(setup), 'completed');
    assert.deepEqual(
      stepEvents(dir).map(([s]) => s),
      [1, 3, 4, 5, 8],
    );
    const log = readFileSync(join(dir, 'engine.log'), 'utf8');
    assert.match(
      log,
      /step 2: loss NaN, gradient norm NaN: update skipped \(training\.on_nonfinite: skip_step\), 1 in a row/,
    );
    assert.match(log, /step 7: .* 2 in a row/);
    const status = JSON.parse(readFileSync(join(dir, 'status.json'), 'utf8'));
    assert.equal(status.step, 8);
    const ckpt = readCheckpointFiles(setup.run.checkpointPath(8), new Set(['w', 'b']));
    assert.equal(ckpt.progress.skippedSteps, 3);
    for (const [name, t] of ckpt.weights) assert.ok((t.data as Float32Array).every(Number.isFinite), name);
  });

  test(`on_nonfinite skip_step (${placement}): ${MAX_SKIPPED_IN_A_ROW} skipped steps in a row fail the run, ${MAX_SKIPPED_IN_A_ROW - 1} do not`, async () => {
    const range = (from: number, count: number) => new Set(Array.from({ length: count }, (_, i) => from + i));
    const s = { epochs: 4 };
    const ok = mkdtempSync(join(tmpdir(), 'nonfinite-'));
    const nine = trainer(ok, backend, 'skip_step', { nanSteps: range(3, MAX_SKIPPED_IN_A_ROW - 1), s });
    assert.equal(await runTrainer(nine), 'completed');
    const dir = mkdtempSync(join(tmpdir(), 'nonfinite-'));
    const ten = trainer(dir, backend, 'skip_step', { nanSteps: range(3, MAX_SKIPPED_IN_A_ROW), s });
    await assert.rejects(runTrainer(ten), (err: Error) => {
      assert.ok(err instanceof NonFiniteError, String(err));
      assert.match(err.message, /10 training steps in a row \(steps 3 to 12\) had a non-finite loss or gradient norm/);
      assert.match(err.message, /last good checkpoint is checkpoints\/step-8/);
      assert.doesNotMatch(err.message, /skip_step skips/);
      return true;
    });
  });
}

test('skip_step: a run stopped after a skipped step and resumed gives the losses of an uninterrupted one', async () => {
  // Example 5 has a NaN: the second step of every epoch is skipped.
  const data = examples(new Set([5]));
  const straight = mkdtempSync(join(tmpdir(), 'nonfinite-'));
  await runTrainer(trainer(straight, ortBackend, 'skip_step', { data, s: { epochs: 3 } }));
  const interrupted = mkdtempSync(join(tmpdir(), 'nonfinite-'));
  let micro = 0;
  const first = trainer(interrupted, ortBackend, 'skip_step', { data, s: { epochs: 3 } });
  assert.equal(await runTrainer({ ...first, shouldStop: () => micro++ >= 7 }), 'stopped');
  const resumed = trainer(interrupted, ortBackend, 'skip_step', { data, s: { epochs: 3 } });
  await runTrainer({ ...resumed, resumeFrom: first.run.checkpointPath(first.run.checkpointSteps().at(-1) as number) });
  assert.deepEqual(
    stepEvents(straight).map(([s]) => s),
    [1, 3, 4, 5, 7, 8, 9, 11, 12],
  );
  assert.deepEqual([...new Map(stepEvents(interrupted))], stepEvents(straight));
});

for (const policy of ['stop', 'skip_step'] as const) {
  test(`finetune train with a learning rate of 1e30 and on_nonfinite ${policy}: the run ends failed, the reason in status.json`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nonfinite-ft-'));
    mkdirSync(join(dir, 'model'));
    writeTinyModel(join(dir, 'model'), 'bert', FIXTURE_SENTENCES);
    writeFileSync(join(dir, 'train.jsonl'), toJsonl(sentimentRows(64, 1)));
    // Step 1's AdamW update moves every weight by about 1e30: from step 2 on the loss is NaN.
    const config = `model: ./model
task: text-classification
data: { train: train.jsonl, max_length: 32 }
training: { epochs: 4, batch_size: 16, learning_rate: 1.0e+30, on_nonfinite: ${policy} }
device: cpu
`;
    writeFileSync(join(dir, 'c.finetune.yaml'), config);
    const runDir = join(dir, 'run');
    await assert.rejects(trainFromConfig(join(dir, 'c.finetune.yaml'), runDir, { threads: 1 }), NonFiniteError);
    const status = JSON.parse(readFileSync(join(runDir, 'status.json'), 'utf8')) as RunStatus;
    assert.equal(status.state, 'failed');
    const expected =
      policy === 'stop'
        ? /^training step 2 has a non-finite loss NaN, gradient norm NaN\. No checkpoint was saved/
        : /^10 training steps in a row \(steps 2 to 11\)/;
    assert.match(status.reason ?? '', expected);
    assert.match(status.reason ?? '', /training\.learning_rate is 1e\+30/);
    assert.match(readFileSync(join(runDir, 'engine.log'), 'utf8'), new RegExp(` ERROR ${expected.source.slice(1)}`));
  });
}
