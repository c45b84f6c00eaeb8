import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadCausalLm } from '../../src/engine/inference/causal-lm-model.js';
import type { LlamaArch } from '../../src/engine/models/llama/arch.js';
import { StepRunner } from '../../src/engine/train/step-runner.js';
import { REFERENCE_FIXTURES, referenceBatch, writeTinyDecoder } from '../fixtures/tiny-decoders.js';
import { batchOf } from './helpers/decoder-batch.js';

/**
 * The Llama-like families against PyTorch. Every number below was computed by
 * bench/torch/llama_reference.py (pure PyTorch 1.13, the transformers modeling_*.py math written
 * out, no transformers) on the folders bench/torch/write-decoder-fixtures.ts writes, which are
 * these tests' REFERENCE_FIXTURES: the eval loss of the fixed batch, the rotary inverse
 * frequencies (modeling_rope_utils, llama3 scaling included), and six steps of full fine-tuning
 * (AdamW lr 1e-2, weight decay 0.01 except biases and norms, clip 1.0), each loss taken before its
 * update.
 */
const TORCH: Record<string, { evalLoss: number; invFreq: number[]; trajectory: number[] }> = {
  llama: {
    evalLoss: 6.65634298324585,
    invFreq: [1.0, 0.10000000149011612, 0.009999999776482582, 0.0010000000474974513],
    trajectory: [
      6.65634298324585, 4.870302200317383, 3.543009042739868, 2.600290298461914, 1.9217331409454346, 1.3893471956253052,
    ],
  },
  'llama-tied': {
    evalLoss: 6.384576797485352,
    invFreq: [1.0, 0.10000000149011612, 0.009999999776482582, 0.0010000000474974513],
    trajectory: [
      6.384576797485352, 4.561557769775391, 3.340280055999756, 2.502747058868408, 1.861074447631836, 1.4559745788574219,
    ],
  },
  'llama3-rope': {
    evalLoss: 6.60768985748291,
    invFreq: [0.5760563611984253, 0.004700753837823868, 0.00017677668074611574, 6.647869668086059e-6],
    trajectory: [
      6.60768985748291, 4.880752086639404, 3.7552742958068848, 2.8545773029327393, 2.1039836406707764,
      1.5308438539505005,
    ],
  },
  mistral: {
    evalLoss: 6.65634298324585,
    invFreq: [1.0, 0.10000000149011612, 0.009999999776482582, 0.0010000000474974513],
    trajectory: [
      6.65634298324585, 4.870302200317383, 3.543009042739868, 2.600290298461914, 1.9217331409454346, 1.3893471956253052,
    ],
  },
  phi3: {
    evalLoss: 6.826817035675049,
    invFreq: [1.0, 0.009999999776482582],
    trajectory: [
      6.826817035675049, 4.593255043029785, 3.4303479194641113, 2.5486350059509277, 1.89589262008667,
      1.3361210823059082,
    ],
  },
  qwen2: {
    evalLoss: 6.627167701721191,
    invFreq: [1.0, 0.10000000149011612, 0.009999999776482582, 0.0010000000474974513],
    trajectory: [
      6.627167701721191, 4.736799716949463, 3.4738941192626953, 2.543048143386841, 1.910857915878296,
      1.3885188102722168,
    ],
  },
  qwen3: {
    evalLoss: 6.133111476898193,
    invFreq: [
      1.0, 0.3162277638912201, 0.10000000149011612, 0.03162277862429619, 0.009999999776482582, 0.003162277862429619,
      0.0010000000474974513, 0.0003162277862429619,
    ],
    trajectory: [
      6.133111476898193, 4.5101189613342285, 3.219064712524414, 2.4347314834594727, 1.764472246170044,
      1.2670422792434692,
    ],
  },
};

/** Each of `got` within `tolerance(want)` of PyTorch's `want`, in order. */
function assertNear(
  what: string,
  got: readonly number[] | Float32Array,
  want: readonly number[],
  tolerance: (want: number) => number,
): void {
  assert.equal(got.length, want.length, `${what}: ${got.length} values, PyTorch has ${want.length}`);
  want.forEach((w, i) => {
    const g = got[i] as number;
    assert.ok(Math.abs(g - w) <= tolerance(w), `${what}[${i}] ${g} vs ${w}`);
  });
}

for (const [name, fixture] of Object.entries(REFERENCE_FIXTURES)) {
  test(`${name}: eval loss, rotary frequencies and a full fine-tune's losses match PyTorch`, async () => {
    const expected = TORCH[name];
    assert.ok(expected, `no PyTorch numbers for ${name}`);
    const dir = mkdtempSync(join(tmpdir(), `${name}-`));
    const config = writeTinyDecoder(dir, fixture.type, fixture.options);
    const lm = await loadCausalLm(dir, { threads: 1 });
    const batch = batchOf(referenceBatch(config.vocab_size as number));
    const arch = lm.model.decoder.arch as LlamaArch;
    assertNear('inv_freq', arch.rope.invFreq, expected.invFreq, (want) => 1e-7 * want);
    const runner = await StepRunner.create({
      model: lm.model,
      weights: lm.weights,
      trainable: new Set(lm.model.params.map((p) => p.name)),
      optimizer: { kind: 'adamw', weightDecay: 0.01 },
      maxGradNorm: 1,
      device: 'cpu',
      threads: 1,
    });
    try {
      assertNear('eval loss', [(await runner.evaluate(batch)).loss], [expected.evalLoss], () => 1e-4);
      const losses: number[] = [];
      for (const _ of expected.trajectory) losses.push((await runner.step(batch, 1e-2)).loss);
      assertNear('step loss', losses, expected.trajectory, () => 1e-3);
    } finally {
      await runner.dispose();
      await lm.dispose();
    }
  });
}
