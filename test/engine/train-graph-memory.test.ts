import assert from 'node:assert/strict';
import { test } from 'node:test';
import { causalLmModel } from '../../src/engine/models/decoder.js';
import { HfConfigReader } from '../../src/engine/models/hf-config.js';
import { initWeights } from '../../src/engine/models/init.js';
import { decoderFamilyOf } from '../../src/engine/models/registry.js';
import { buildTrainStep } from '../../src/engine/step/step-graph.js';

// ONNX Runtime frees an activation after its last reader. A Shape or Size op in the backward pass
// that reads a forward activation keeps it alive through the whole backward pass only to measure
// it: at SmolLM2-135M's shape that held about 40% of the train step's live memory at its peak.
function tinyLlamaTrainGraph() {
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
  return buildTrainStep({ model, weights, trainable, optimizer: { kind: 'adamw', weightDecay: 0 } }).graph;
}

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
  const views = new Set(['Reshape', 'Unsqueeze', 'Squeeze', 'Flatten', 'Identity']);
  const saved = new Set(forward.map((n) => n.outputs[0] as string));
  for (const n of graph.nodes)
    if (!n.name.startsWith('grad/') && views.has(n.opType) && saved.has(n.inputs[0] as string))
      saved.add(n.outputs[0] as string);
  const readers = graph.nodes.filter((n) => n.name.startsWith('grad/') && n.inputs.some((x) => saved.has(x)));
  assert.deepEqual(
    readers.map((n) => `${n.name} (${n.opType})`),
    [],
  );
});
