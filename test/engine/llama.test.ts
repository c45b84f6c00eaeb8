import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { encodeModel } from '../../src/engine/graph/onnx-codec.js';
import { type TensorData, tensorNumbers } from '../../src/engine/graph/types.js';
import { type LoadedCausalLm, loadCausalLm } from '../../src/engine/inference/causal-lm-model.js';
import type { LlamaArch } from '../../src/engine/models/llama/arch.js';
import { createSession } from '../../src/engine/runtime.js';
import type { Batch } from '../../src/engine/step/batch.js';
import { buildForward } from '../../src/engine/step/step-graph.js';
import { LLAMA_LIKE_TYPES, type LlamaLikeType, referenceBatch, writeTinyDecoder } from '../fixtures/tiny-decoders.js';
import { batchOf } from './helpers/decoder-batch.js';
import { referenceNll } from './helpers/gpt2-reference.js';
import { referenceLlamaLogits } from './helpers/llama-reference.js';

/** One loaded tiny folder per family (bfloat16 weights), shared by the tests below. */
const models = new Map<LlamaLikeType, LoadedCausalLm>();

before(async () => {
  for (const type of LLAMA_LIKE_TYPES) {
    const dir = mkdtempSync(join(tmpdir(), `${type}-`));
    writeTinyDecoder(dir, type, { seed: 7 });
    models.set(type, await loadCausalLm(dir, { threads: 1 }));
  }
});

after(async () => {
  for (const lm of models.values()) await lm.dispose();
});

const lmOf = (type: LlamaLikeType) => models.get(type) as LoadedCausalLm;

/** Loss and logits of the training model's forward graph (eval mode) on a batch. */
async function forwardOf(lm: LoadedCausalLm, batch: Batch): Promise<{ loss: number; logits: TensorData }> {
  const spec = buildForward({
    model: lm.model,
    weights: lm.weights,
    trainable: new Set(),
    optimizer: { kind: 'adamw', weightDecay: 0 },
  });
  const session = await createSession(encodeModel(spec.graph), { device: 'cpu', threads: 1 });
  try {
    const out = await session.run(batch);
    return {
      loss: tensorNumbers(out[spec.loss] as TensorData)[0] as number,
      logits: out[spec.logits as string] as TensorData,
    };
  } finally {
    await session.dispose();
  }
}

for (const type of LLAMA_LIKE_TYPES) {
  test(`${type}: the graph matches a plain-loop float64 model on every real token of a padded batch`, async () => {
    const lm = lmOf(type);
    const arch = lm.model.decoder.arch as LlamaArch;
    const ref = referenceBatch(arch.vocabSize);
    const { loss, logits } = await forwardOf(lm, batchOf(ref));
    const v = tensorNumbers(logits);
    const [, T, V] = logits.dims as [number, number, number];
    let nll = 0;
    let tokens = 0;
    ref.input_ids.forEach((row, b) => {
      const real = row.slice(0, (ref.attention_mask[b] as number[]).filter((m) => m === 1).length);
      const expected = referenceLlamaLogits(arch, lm.weights, real);
      real.forEach((_, t) => {
        for (let k = 0; k < V; k++) {
          const got = v[(b * T + t) * V + k] as number;
          const want = expected[t]?.[k] as number;
          assert.ok(Math.abs(got - want) <= 1e-4 * Math.max(1, Math.abs(want)), `b${b} t${t} k${k}: ${got} vs ${want}`);
        }
      });
      nll += referenceNll(expected, real);
      tokens += real.length - 1;
    });
    assert.ok(Math.abs(loss - nll / tokens) < 1e-5, `loss ${loss} vs ${nll / tokens}`);
  });
}
