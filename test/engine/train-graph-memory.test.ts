import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Backend, SessionOptions } from '../../src/engine/backend.js';
import { decodeModel, encodeModel } from '../../src/engine/graph/onnx-codec.js';
import { VIEW_OPS } from '../../src/engine/graph/ops.js';
import { causalLmModel } from '../../src/engine/models/decoder.js';
import { HfConfigReader } from '../../src/engine/models/hf-config.js';
import { initWeights } from '../../src/engine/models/init.js';
import { decoderFamilyOf } from '../../src/engine/models/registry.js';
import { ortBackend } from '../../src/engine/runtime.js';
import { buildTrainStep } from '../../src/engine/step/step-graph.js';
import { StepRunner } from '../../src/engine/train/step-runner.js';

// ONNX Runtime frees an activation after its last reader. A Shape or Size op in the backward pass
// that reads a forward activation keeps it alive through the whole backward pass only to measure
// it: at SmolLM2-135M's shape that held about 40% of the train step's live memory at its peak.
function tinyLlama() {
  const config = new HfConfigReader(
    {
      model_type: 'llama',
      vocab_size: 64,
      hidden_size: 16,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      intermediate_size: 24,
      max_position_embeddings: 64,
      rms_norm_eps: 1e-5,
      tie_word_embeddings: true,
    },
    'test:llama/config.json',
  );
  const model = causalLmModel(decoderFamilyOf(config), { config });
  const weights = initWeights(model.params, 0);
  const trainable = new Set(model.params.map((p) => p.name));
  return { model, weights, trainable, optimizer: { kind: 'adamw', weightDecay: 0 } } as const;
}
const tinyLlamaTrainGraph = () => buildTrainStep(tinyLlama()).graph;

test('train step: no Shape or Size op reads an activation (shapes come from the inputs)', () => {
  const graph = tinyLlamaTrainGraph();
  // The forward's own Shape ops run where their activation is made; the gradient's (named grad/…) run late.
  const measured = graph.nodes.filter((n) => n.opType === 'Shape' || n.opType === 'Size');
  assert.ok(measured.length > 0, 'the graph takes its shapes from somewhere');
  const backward = measured.filter((n) => n.name.startsWith('grad/'));
  const activations = backward.filter((n) => {
    const producer = graph.producer.get(n.inputs[0] as string);
    return producer !== undefined && !producer.name.startsWith('grad/');
  });
  assert.deepEqual(
    activations.map((n) => `${n.name} reads ${n.inputs[0]}`),
    [],
  );
});

// SiLU (QuickGelu) and RMSNorm (SimplifiedLayerNormalization) outputs are recomputed in the backward
// pass where a gradient reads them (autodiff.ts): the forward outputs die with the forward, which
// at SmolLM2-135M's shape cut the train step's static peak live set from 2147 to 1514 MiB
// (`node dist/bench.js --case smollm2-full --liveness`).
test('train step: no gradient reads a forward SiLU or RMSNorm output, even through a view', () => {
  const graph = tinyLlamaTrainGraph();
  const fused = graph.nodes.filter((n) => n.opType === 'QuickGelu' || n.opType === 'SimplifiedLayerNormalization');
  const forward = fused.filter((n) => !n.name.startsWith('grad/'));
  assert.equal(forward.filter((n) => n.opType === 'QuickGelu').length, 2, 'one SiLU per layer');
  assert.equal(
    forward.filter((n) => n.opType === 'SimplifiedLayerNormalization').length,
    5,
    'two norms per layer and the final one',
  );
  assert.ok(fused.length > forward.length, 'the backward pass has its own copies');
  const saved = new Set(forward.map((n) => n.outputs[0] as string));
  for (const n of graph.nodes)
    if (!n.name.startsWith('grad/') && VIEW_OPS.has(n.opType) && saved.has(n.inputs[0] as string))
      saved.add(n.outputs[0] as string);
  const readers = graph.nodes.filter((n) => n.name.startsWith('grad/') && n.inputs.some((x) => saved.has(x)));
  assert.deepEqual(
    readers.map((n) => `${n.name} (${n.opType})`),
    [],
  );
});

// The copies only help if ONNX Runtime keeps them: its common-subexpression elimination merges a
// node into another with the same op, inputs and attributes. StepRunner asks for the gradient
// graphs' duplicates to be kept (SessionOptions.keepDuplicateNodes); the optimised models show it.
test('ORT keeps the recomputed copies in the gradient graphs StepRunner runs, and would merge them otherwise', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ft-recompute-'));
  try {
    const count = (path: string, op: string) =>
      decodeModel(readFileSync(path)).graph.nodes.filter((n) => n.opType === op).length;
    const graph = tinyLlamaTrainGraph();
    const norms = graph.nodes.filter((n) => n.opType === 'SimplifiedLayerNormalization').length;
    const optimise = async (path: string, keep: boolean) =>
      (
        await ortBackend.createSession(encodeModel(graph), {
          device: 'cpu',
          threads: 1,
          keepDuplicateNodes: keep,
          optimizedModelPath: path,
        })
      ).dispose();
    await optimise(join(dir, 'merged.onnx'), false);
    await optimise(join(dir, 'kept.onnx'), true);
    assert.ok(count(join(dir, 'merged.onnx'), 'SimplifiedLayerNormalization') < norms, 'ORT merges copies by default');
    assert.equal(count(join(dir, 'kept.onnx'), 'SimplifiedLayerNormalization'), norms);

    const asked: Record<string, SessionOptions> = {};
    const recording: Backend = {
      ...ortBackend,
      createSession: (bytes, opts) => {
        asked[decodeModel(bytes).graph.name] = opts;
        return ortBackend.createSession(bytes, opts);
      },
    };
    const runner = await StepRunner.create({
      ...tinyLlama(),
      gradientAccumulationSteps: 2,
      device: 'cpu',
      threads: 1,
      backend: recording,
    });
    await runner.dispose();
    assert.deepEqual(
      Object.fromEntries(Object.entries(asked).map(([name, o]) => [name, o.keepDuplicateNodes === true])),
      { train_step: true, forward: false, accumulate_step: true },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
