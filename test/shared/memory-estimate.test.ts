import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FAMILIES } from '../../src/engine/models/registry.js';
import {
  DEFAULT_LORA_TARGETS,
  estimateTrainingMemory,
  llamaTensors,
  loraParameterCount,
  modelDims,
  parameterCount,
  RUNTIME_BYTES,
} from '../../src/shared/memory-estimate.js';
import { safetensorsShapes } from '../../src/shared/node/model-memory.js';
import { writeTinyDecoder } from '../fixtures/tiny-decoders.js';

/**
 * The training memory estimate (src/shared/memory-estimate.ts). Every expected number is worked
 * out by hand in the comments from the formula in that file's header.
 */
// h 8, I 16, 2 layers, 2 heads of 4, 1 key/value head, vocabulary 10, lm_head untied.
const TINY = {
  hidden_size: 8,
  intermediate_size: 16,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  num_key_value_heads: 1,
  vocab_size: 10,
};

test('parameters of a Llama-like config: grouped-query k/v, gated MLP, norms, untied or tied head', () => {
  const tensors = llamaTensors(TINY) ?? [];
  // embed 10·8 = 80; per layer q 8·8 = 64, k 4·8 = 32, v 32, o 64, gate 16·8 = 128, up 128,
  // down 128, two norms 16: 592; two layers 1184; final norm 8; lm_head 80. 80 + 1184 + 8 + 80 = 1352.
  assert.equal(parameterCount(tensors), 1352);
  assert.equal(parameterCount(llamaTensors({ ...TINY, tie_word_embeddings: true }) ?? []), 1352 - 80);
  assert.equal(llamaTensors({ hidden_size: 8 }), undefined);
});

test('LoRA parameters: r × (in + out) per targeted linear weight', () => {
  const tensors = llamaTensors(TINY) ?? [];
  // r 2, per layer: q 2·(8+8) = 32, k 2·(4+8) = 24, v 24, o 32, gate 2·(16+8) = 48, up 48, down 48:
  // 256; two layers 512. Embeddings and lm_head are never targets.
  assert.equal(loraParameterCount(tensors, 2, 'all-linear'), 512);
  // The family default (q_proj, v_proj): (32 + 24) · 2 = 112.
  assert.equal(loraParameterCount(tensors, 2, undefined), 112);
  assert.equal(loraParameterCount(tensors, 2, ['o_proj']), 64);
});

test('every family default LoRA target is in DEFAULT_LORA_TARGETS', () => {
  for (const family of FAMILIES)
    for (const t of family.loraTargets) assert.ok(DEFAULT_LORA_TARGETS.has(t), `${family.modelTypes ?? ''} ${t}`);
});

test('the estimate: weights, optimizer (full and LoRA), activations with the causal-LM logits', () => {
  const tensors = llamaTensors(TINY) ?? [];
  const dims = modelDims(TINY);
  assert.deepEqual(dims, { hidden: 8, intermediate: 16, layers: 2, heads: 2, vocab: 10 });
  if (!dims) return;
  const base = { tensors, dims, batchSize: 2, maxLength: 4, causalLm: true } as const;
  const full = estimateTrainingMemory({ ...base, method: 'full' });
  // weights 1352 · 4 = 5408; optimizer 6 · 1352 · 4 = 32448.
  assert.equal(full.weights, 5408);
  assert.equal(full.optimizer, 32448);
  // 2 · 4 = 8 tokens; per token and layer 21·8 + 7·16 + 1.5·2·4 = 292; · 2 layers · 8 tokens · 4 bytes
  // = 18688; logits 8 · 10 · 4 · 2 = 640: 19328.
  assert.equal(full.activations, 19328);
  assert.equal(full.runtime, RUNTIME_BYTES);
  assert.equal(full.total, 5408 + 32448 + 19328 + RUNTIME_BYTES);
  const lora = estimateTrainingMemory({
    ...base,
    method: 'lora',
    lora: { r: 2, targets: 'all-linear', dropout: 0.05 },
  });
  // 512 adapter parameters · 7 · 4 bytes = 14336.
  assert.equal(lora.optimizer, 14336);
  // The adapted layers' inputs: per layer q, k, v, o, gate, up 8 each and down 16: 64; two layers 128.
  // With dropout 3.75 + 1.25 per input: 8 tokens · (584 + 5 · 128) · 4 = 39168; logits 640.
  assert.equal(lora.activations, 39808);
  const noDropout = estimateTrainingMemory({ ...base, method: 'lora', lora: { r: 2, targets: 'all-linear' } });
  // 8 · (584 + 3.75 · 128) · 4 = 34048; logits 640.
  assert.equal(noDropout.activations, 34688);
  const encoder = estimateTrainingMemory({ ...base, method: 'full', causalLm: false });
  assert.equal(encoder.activations, 18688);
});

test('the shapes from safetensors headers agree with the count from config.json', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ft-memory-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const tied of [false, true]) {
    const config = writeTinyDecoder(dir, 'llama', { config: { tie_word_embeddings: tied } });
    const shapes = await safetensorsShapes(join(dir, 'model.safetensors'));
    assert.ok(shapes);
    // The fixture also stores the rotary inv_freq buffer older Llama checkpoints carry.
    const weights = shapes.filter(([name]) => !name.endsWith('inv_freq'));
    assert.equal(parameterCount(weights), parameterCount(llamaTensors(config) ?? []), `tied ${tied}`);
  }
});
