import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeModel } from '../../src/engine/graph/onnx-codec.js';
import { type TensorData, tensorNumbers, tensorOf } from '../../src/engine/graph/types.js';
import { type EncoderConfig, encoderClassifier } from '../../src/engine/models/encoder-classifier.js';
import { initWeights } from '../../src/engine/models/init.js';
import { createSession } from '../../src/engine/runtime.js';
import { buildTrainStep } from '../../src/engine/step/step-graph.js';
import { StepRunner, type StepRunnerOptions } from '../../src/engine/train/step-runner.js';
import { collate, markerTask } from '../../src/engine/train/synthetic.js';
import { SELFTEST_MODEL, selftest } from '../../src/tools/selftest.js';
import { testSeed } from './helpers/random.js';

const quiet = { write: () => true, isTTY: false };
const task = { numLabels: 3, vocabSize: SELFTEST_MODEL.vocabSize, minLength: 5, maxLength: 12 };

function setup(overrides: Partial<EncoderConfig> = {}, runner: Partial<StepRunnerOptions> = {}): StepRunnerOptions {
  const model = encoderClassifier({ ...SELFTEST_MODEL, ...overrides });
  return {
    model,
    weights: initWeights(model.params, 7),
    trainable: new Set(model.params.map((p) => p.name)),
    optimizer: { kind: 'adamw', weightDecay: 0.01 },
    maxGradNorm: 1,
    device: 'cpu',
    threads: 1,
    ...runner,
  };
}

test('a 2-layer encoder learns the synthetic classification task to >= 95% validation accuracy', async () => {
  const seed = testSeed();
  const reports = await selftest({ epochs: 6, device: 'cpu', threads: 2, seed, out: quiet });
  const last = reports[reports.length - 1];
  assert.ok(last, 'no epoch ran');
  assert.ok(reports[0] && last.trainLoss < reports[0].trainLoss, `training loss did not fall (seed ${seed})`);
  assert.ok(last.valAccuracy >= 0.95, `validation accuracy ${last.valAccuracy} < 0.95 (seed ${seed})`);
});

test('the same training steps with the same seed give bit-identical losses', async () => {
  const batches = [0, 1, 2].map((i) => collate(markerTask({ ...task, count: 8, seed: 100 + i })));
  const losses: number[][] = [];
  for (let run = 0; run < 2; run++) {
    const runner = await StepRunner.create(setup());
    const seen: number[] = [];
    for (const b of batches) seen.push((await runner.step(b, 1e-3)).loss);
    losses.push(seen);
    await runner.dispose();
  }
  assert.deepEqual(losses[0], losses[1]);
});

test('the exported inference graph reloads in a fresh session and gives the eval graph logits', async () => {
  const runner = await StepRunner.create(setup());
  const batch = collate(markerTask({ ...task, count: 6, seed: 3 }));
  await runner.step(batch, 1e-2); // export trained weights, not the initial ones
  const { logits } = await runner.evaluate(batch);
  const session = await createSession(runner.exportInference(), { device: 'cpu' });
  const { labels: _labels, ...inputs } = batch;
  const out = await session.run(inputs);
  await session.dispose();
  await runner.dispose();
  const exported = tensorNumbers(out.logits as never);
  assert.deepEqual(out.logits?.dims, logits.dims);
  tensorNumbers(logits).forEach((v, i) => {
    assert.ok(Math.abs(v - (exported[i] as number)) < 1e-5, `logit ${i}: ${v} vs ${exported[i]}`);
  });
});

test('gradient accumulation over two halves equals one step on the whole batch', async () => {
  // SGD: its update is linear in the gradient, so the comparison is well conditioned (AdamW's first
  // step is lr * sign(g) and turns float noise in near-zero gradients into full-size differences).
  const sgd = { optimizer: { kind: 'sgd', weightDecay: 0 } } as const;
  const examples = markerTask({ ...task, minLength: 8, maxLength: 8, count: 8, seed: 11 });
  const whole = await StepRunner.create(setup({ dropout: 0 }, sgd));
  await whole.step(collate(examples), 1e-2);
  const halves = await StepRunner.create(setup({ dropout: 0 }, { ...sgd, gradientAccumulationSteps: 2 }));
  const first = await halves.step(collate(examples.slice(0, 4)), 1e-2);
  const second = await halves.step(collate(examples.slice(4)), 1e-2);
  assert.equal(first.updated, false);
  assert.equal(second.updated, true);
  assert.equal(halves.steps, 1);
  const a = whole.weights();
  const b = halves.weights();
  let maxDiff = 0;
  for (const [name, t] of a) {
    const u = tensorNumbers(t);
    const v = tensorNumbers(b.get(name) as never);
    u.forEach((x, i) => {
      maxDiff = Math.max(maxDiff, Math.abs(x - (v[i] as number)));
    });
  }
  await whole.dispose();
  await halves.dispose();
  assert.ok(maxDiff < 1e-6, `weights differ by ${maxDiff}`);
});

test('frozen weights stay as loaded while trained ones move', async () => {
  const opts = setup();
  const trainable = new Set([...opts.trainable].filter((n) => n.startsWith('classifier.') || n.startsWith('pooler.')));
  const loaded = new Map(opts.weights);
  const runner = await StepRunner.create({ ...opts, trainable });
  await runner.step(collate(markerTask({ ...task, count: 4, seed: 5 })), 1e-2);
  const after = runner.weights();
  await runner.dispose();
  for (const [name, t] of loaded) {
    const moved = tensorNumbers(after.get(name) as never).some((v, i) => v !== tensorNumbers(t)[i]);
    assert.equal(moved, trainable.has(name), `${name}: moved=${moved}`);
    // The runner took the trained entries over: the caller's map holds the live buffers, not a stale copy.
    assert.equal(opts.weights.get(name), trainable.has(name) ? after.get(name) : t, name);
  }
});

test('a runner restored from exported state continues with bit-identical losses (dropout on)', async () => {
  const batches = [0, 1, 2, 3].map((i) => collate(markerTask({ ...task, count: 8, seed: 200 + i })));
  const straight = await StepRunner.create(setup({ dropout: 0.2 }, { seed: 5 }));
  const expected: number[] = [];
  for (const b of batches) expected.push((await straight.step(b, 1e-3)).loss);
  await straight.dispose();

  const first = await StepRunner.create(setup({ dropout: 0.2 }, { seed: 5 }));
  for (const b of batches.slice(0, 2)) await first.step(b, 1e-3);
  const saved = first.exportState();
  await first.dispose();
  const resumed = await StepRunner.create(setup({ dropout: 0.2 }, { seed: 5 }), saved);
  const got: number[] = [];
  for (const b of batches.slice(2)) got.push((await resumed.step(b, 1e-3)).loss);
  await resumed.dispose();
  assert.deepEqual(got, expected.slice(2));
});

test('seeded dropout keeps about 1 - p of the elements, and a new seed draws a new mask', async () => {
  const { GraphBuilder } = await import('../../src/engine/graph/builder.js');
  const { encodeModel } = await import('../../src/engine/graph/onnx-codec.js');
  const g = new GraphBuilder();
  const x = g.input('x', 'float32', [64, 256]);
  const seed = g.input('seed', 'int64', []);
  g.output(g.seededDropout(x, 0.3, seed, 1));
  const session = await createSession(encodeModel(g.graph), { device: 'cpu' });
  const ones = { dtype: 'float32' as const, dims: [64, 256], data: new Float32Array(64 * 256).fill(1) };
  const run = async (s: number) => {
    const out = await session.run({
      x: ones,
      seed: { dtype: 'int64', dims: [], data: new BigInt64Array([BigInt(s)]) },
    });
    return tensorNumbers(Object.values(out)[0] as never);
  };
  const [a, b, a2] = [await run(1), await run(2), await run(1)];
  await session.dispose();
  const kept = a.filter((v) => v !== 0).length / a.length;
  assert.ok(Math.abs(kept - 0.7) < 0.02, `kept fraction ${kept}`);
  assert.ok(
    a.every((v) => v === 0 || Math.abs(v - 1 / 0.7) < 1e-6),
    'kept values are scaled by 1/(1-p)',
  );
  assert.deepEqual(a2, a, 'same seed, same mask');
  const agree = a.filter((v, i) => (v === 0) === (b[i] === 0)).length / a.length;
  assert.ok(agree < 0.65, `masks of different seeds agree on ${agree} of elements (independent: 0.58)`);
});

test('updates written in place equal updates into fresh buffers, with and without clipping, AdamW and SGD', async () => {
  const batches = [0, 1, 2].map((i) => collate(markerTask({ ...task, count: 8, seed: 200 + i })));
  for (const optimizer of [
    { kind: 'adamw', weightDecay: 0.01 },
    { kind: 'sgd', weightDecay: 0.01, momentum: 0.9 },
  ] as const) {
    for (const maxGradNorm of [1, 0]) {
      const opts = setup({ dropout: 0 }, { optimizer, maxGradNorm, threads: 2 });
      const loaded = new Map(opts.weights);
      const runner = await StepRunner.create(opts);
      const inPlace: number[] = [];
      for (const b of batches) inPlace.push((await runner.step(b, 1e-2)).loss);
      await runner.dispose();
      // The reference: the same graph, every output in a buffer of its own, the state fed back.
      // (No placeOptimizer: the embedding table's update is then in the graph too, bit-identical.)
      const spec = buildTrainStep({ ...opts, weights: loaded });
      const session = await createSession(encodeModel(spec.graph), { device: 'cpu', threads: 2 });
      const state = new Map(
        spec.state.map((s) => {
          const w = loaded.get(s.param) as TensorData;
          return [s.input, s.init === 'param' ? w : { ...w, data: new Float32Array(w.data.length) }];
        }),
      );
      const fresh: number[] = [];
      for (const [i, b] of batches.entries()) {
        const feeds: Record<string, TensorData> = { ...b, lr: tensorOf('float32', [], [1e-2]) };
        feeds.step = tensorOf('float32', [], [i + 1]);
        for (const [name, t] of state) feeds[name] = t;
        const out = await session.run(feeds);
        fresh.push(tensorNumbers(out[spec.loss] as TensorData)[0] as number);
        for (const s of spec.state) state.set(s.input, out[s.output] as TensorData);
      }
      await session.dispose();
      assert.deepEqual(inPlace, fresh, `${optimizer.kind}, max_grad_norm ${maxGradNorm}`);
    }
  }
});

test('evaluateLoss gives the loss of evaluate without fetching the logits', async () => {
  const runner = await StepRunner.create(setup());
  const batch = collate(markerTask({ ...task, count: 8, seed: 300 }));
  await runner.step(batch, 1e-2);
  assert.equal(await runner.evaluateLoss(batch), (await runner.evaluate(batch)).loss);
  await runner.dispose();
});
