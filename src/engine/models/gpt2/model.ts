import type { Value } from '../../graph/types.js';
import {
  appendPast,
  causalMask,
  checkPast,
  type Decoder,
  type DecoderArch,
  type DecoderInputs,
  type DecoderOutput,
  decoderContext,
  type KeyValue,
  lmHeadProjection,
  positionsFromMask,
} from '../decoder.js';
import { hiddenAct } from '../family.js';
import type { HfConfigReader } from '../hf-config.js';
import {
  type Activation,
  type AdapterHook,
  activation,
  type BlockContext,
  conv1d,
  dropout,
  layerNorm,
} from '../layers.js';
import type { ParamSpec } from '../model.js';

/**
 * GPT-2 (`model_type: gpt2`) as transformers' GPT2LMHeadModel computes it:
 *
 * - weights in Hugging Face's layout and names under the base prefix `transformer`: Conv1D
 *   weights are [in, out] (`attn.c_attn` [H, 3H] holds q, k and v side by side; `attn.c_proj`,
 *   `mlp.c_fc`, `mlp.c_proj`), learned positions `wpe`, pre-LayerNorm blocks (`ln_1` before
 *   attention, `ln_2` before the MLP) and a final `ln_f`, all with `layer_norm_epsilon`;
 * - `activation_function` (default `gelu_new`, the tanh approximation);
 * - causal self-attention scaled by 1/sqrt(head_dim) (`scale_attn_weights`, and 1/(layer+1) with
 *   `scale_attn_by_inverse_layer_idx`), the causal mask combined with the padding mask into one
 *   additive mask (0 where attended, float32 min elsewhere: a row with no visible key, a left pad,
 *   becomes uniform rather than NaN);
 * - dropouts `embd_pdrop` (embeddings), `attn_pdrop` (attention probabilities), `resid_pdrop` (after
 *   each c_proj), all replaced by training.dropout when it is set; only in train mode;
 * - the LM head tied to `transformer.wte.weight` (`tie_word_embeddings`, default true): the same
 *   parameter value is read twice, so autodiff sums the embedding's and the head's gradients, and
 *   no `lm_head.weight` exists to load or save. With `tie_word_embeddings: false` the head is its
 *   own parameter `lm_head.weight`.
 *
 * Position ids. The training and evaluation graphs compute them from the attention mask:
 * cumsum(mask) - 1, clipped at 0 (what transformers' `generate` passes for a left-padded batch).
 * For right padding, the only padding the collators here make, that equals arange(T) on every real
 * token, which is what GPT2Model uses when given no position_ids; pads get position 0 and are
 * masked. The cached inference graph (generation) takes `position_ids` as an input instead, so the
 * caller gives each new token its absolute position.
 */
export interface Gpt2Arch extends DecoderArch {
  /** MLP width (n_inner, or 4 n_embd when null). */
  inner: number;
  eps: number;
  act: Activation;
  embdDropout: number;
  attnDropout: number;
  residDropout: number;
  initializerRange: number;
  scaleAttnWeights: boolean;
  scaleByInverseLayerIdx: boolean;
  tied: boolean;
}

export const GPT2_BASE_PREFIX = 'transformer';
/** The tied output embedding: the head reads the token embedding. */
export const GPT2_WTE = `${GPT2_BASE_PREFIX}.wte.weight`;
export const GPT2_LM_HEAD = 'lm_head.weight';

const optionalInt = (cfg: HfConfigReader, key: string): number | null => (cfg.has(key) ? cfg.int(key) : null);

export function gpt2Arch(cfg: HfConfigReader, dropoutOverride?: number): Gpt2Arch {
  const hidden = cfg.int('n_embd');
  const heads = cfg.int('n_head');
  if (hidden % heads !== 0) throw new Error(`${cfg.source}: n_embd ${hidden} is not a multiple of n_head ${heads}`);
  // reorder_and_upcast_attn only changes the precision of PyTorch's scores; ours are float32 already.
  return {
    vocabSize: cfg.int('vocab_size'),
    hidden,
    layers: cfg.int('n_layer'),
    heads,
    kvHeads: heads,
    headDim: hidden / heads,
    inner: cfg.has('n_inner') ? cfg.int('n_inner') : 4 * hidden,
    maxPositions: cfg.has('n_positions') ? cfg.int('n_positions') : cfg.int('n_ctx', 1024),
    eps: cfg.num('layer_norm_epsilon', 1e-5),
    act: hiddenAct(cfg, 'activation_function', 'gelu_new'),
    embdDropout: dropoutOverride ?? cfg.num('embd_pdrop', 0.1),
    attnDropout: dropoutOverride ?? cfg.num('attn_pdrop', 0.1),
    residDropout: dropoutOverride ?? cfg.num('resid_pdrop', 0.1),
    initializerRange: cfg.num('initializer_range', 0.02),
    scaleAttnWeights: cfg.bool('scale_attn_weights', true),
    scaleByInverseLayerIdx: cfg.bool('scale_attn_by_inverse_layer_idx', false),
    tied: cfg.bool('tie_word_embeddings', true),
    eosTokenId: optionalInt(cfg, 'eos_token_id'),
    bosTokenId: optionalInt(cfg, 'bos_token_id'),
  };
}

const base = (name: string) => `${GPT2_BASE_PREFIX}.${name}`;
export const gpt2LayerPrefix = (i: number): string => base(`h.${i}`);

/**
 * Parameters of GPT2LMHeadModel in Hugging Face's names and layouts. transformers' `_init_weights`:
 * normal(initializer_range) for weights and embeddings, the residual projections (`c_proj`)
 * scaled by 1/sqrt(2 n_layer), zero biases, LayerNorm at 1 and 0.
 */
export function gpt2Specs(arch: Gpt2Arch): ParamSpec[] {
  const std = arch.initializerRange;
  const normal = { kind: 'normal', std } as const;
  const residual = { kind: 'normal', std: std / Math.sqrt(2 * arch.layers) } as const;
  const H = arch.hidden;
  const conv = (name: string, inp: number, out: number, init: ParamSpec['init'] = normal): ParamSpec[] => [
    { name: `${name}.weight`, shape: [inp, out], init },
    { name: `${name}.bias`, shape: [out], init: { kind: 'zeros' } },
  ];
  const norm = (name: string): ParamSpec[] => [
    { name: `${name}.weight`, shape: [H], init: { kind: 'ones' } },
    { name: `${name}.bias`, shape: [H], init: { kind: 'zeros' } },
  ];
  const specs: ParamSpec[] = [
    { name: GPT2_WTE, shape: [arch.vocabSize, H], init: normal },
    { name: base('wpe.weight'), shape: [arch.maxPositions, H], init: normal },
  ];
  for (let i = 0; i < arch.layers; i++) {
    const p = gpt2LayerPrefix(i);
    specs.push(
      ...norm(`${p}.ln_1`),
      ...conv(`${p}.attn.c_attn`, H, 3 * H),
      ...conv(`${p}.attn.c_proj`, H, H, residual),
      ...norm(`${p}.ln_2`),
      ...conv(`${p}.mlp.c_fc`, H, arch.inner),
      ...conv(`${p}.mlp.c_proj`, arch.inner, H, residual),
    );
  }
  specs.push(...norm(base('ln_f')));
  if (!arch.tied) specs.push({ name: GPT2_LM_HEAD, shape: [arch.vocabSize, H], init: normal });
  return specs;
}

/**
 * Checkpoint tensors GPT2LMHeadModel ignores on load, as transformers does: the causal-mask
 * buffers `attn.bias` / `attn.masked_bias` older checkpoints carry, and a stored `lm_head.weight`
 * of a tied model (a copy of wte).
 */
export function isIgnoredGpt2Tensor(name: string, arch: Gpt2Arch): boolean {
  return /(^|\.)attn\.(masked_)?bias$/.test(name) || (arch.tied && name === GPT2_LM_HEAD);
}

function attention(
  ctx: BlockContext,
  arch: Gpt2Arch,
  x: Value,
  mask: Value,
  p: string,
  layer: number,
  past: KeyValue | undefined,
): { out: Value; present: KeyValue } {
  const { g } = ctx;
  const H = arch.hidden;
  const headDim = H / arch.heads;
  const qkv = conv1d(ctx, x, `${p}.attn.c_attn`); // [B, T, 3H]
  const [q, k, v] = g.split(qkv, [H, H, H], -1) as [Value, Value, Value];
  const heads = (t: Value) => g.transpose(g.reshape(t, [0, 0, arch.heads, headDim]), [0, 2, 1, 3]); // [B, nh, T, hd]
  const { key, value } = appendPast(g, past, { key: heads(k), value: heads(v) }); // [B, nh, P + T, hd]
  let scale = arch.scaleAttnWeights ? 1 / Math.sqrt(headDim) : 1;
  if (arch.scaleByInverseLayerIdx) scale /= layer + 1;
  let scores = g.matmul(heads(q), g.transpose(key, [0, 1, 3, 2])); // [B, nh, T, P + T]
  if (scale !== 1) scores = g.mul(scores, scale);
  const probs = dropout(ctx, g.softmax(g.add(scores, mask), -1), arch.attnDropout);
  const context = g.reshape(g.transpose(g.matmul(probs, value), [0, 2, 1, 3]), [0, 0, H]); // [B, T, H]
  const out = dropout(ctx, conv1d(ctx, context, `${p}.attn.c_proj`), arch.residDropout);
  return { out, present: { key, value } };
}

/** GPT2Model: embeddings, the pre-LayerNorm blocks and ln_f. */
export function gpt2Forward(ctx: BlockContext, arch: Gpt2Arch, inputs: DecoderInputs): DecoderOutput {
  const { g, param } = ctx;
  const ids = inputs.inputIds;
  const withPast = checkPast(arch, inputs, 'gpt2');
  let h = g.scope('embeddings', () => {
    const positions = inputs.positionIds ?? positionsFromMask(g, inputs.attentionMask);
    const e = g.add(g.gather(param(GPT2_WTE), ids), g.gather(param(base('wpe.weight')), positions)); // [B, T, H]
    return dropout(ctx, e, arch.embdDropout);
  });
  const mask = g.scope('mask', () => causalMask(g, ids, inputs.attentionMask, withPast));
  const present: KeyValue[] = [];
  for (let i = 0; i < arch.layers; i++) {
    const p = gpt2LayerPrefix(i);
    h = g.scope(`h.${i}`, () => {
      const attended = attention(ctx, arch, layerNorm(ctx, h, `${p}.ln_1`, arch.eps), mask, p, i, inputs.past?.[i]);
      present.push(attended.present);
      const r = g.add(h, attended.out);
      const inner = activation(
        g,
        conv1d(ctx, layerNorm(ctx, r, `${p}.ln_2`, arch.eps), `${p}.mlp.c_fc`),
        arch.act,
        ctx.mode,
      );
      return g.add(r, dropout(ctx, conv1d(ctx, inner, `${p}.mlp.c_proj`), arch.residDropout));
    });
  }
  return { hidden: layerNorm(ctx, h, base('ln_f'), arch.eps), present };
}

/** The LM head: hidden states times the (tied) token embedding, no bias. // [B, T, H] -> [B, T, V] */
export function lmHead(ctx: BlockContext, arch: Gpt2Arch, hidden: Value): Value {
  return lmHeadProjection(ctx.g, hidden, ctx.param(arch.tied ? GPT2_WTE : GPT2_LM_HEAD));
}

/** GPT-2's `Decoder`: what the causal-LM task and the generation graphs build on. */
export function gpt2Decoder(cfg: HfConfigReader, o: { dropout?: number; adapters?: AdapterHook } = {}): Decoder {
  const arch = gpt2Arch(cfg, o.dropout);
  return {
    arch,
    params: gpt2Specs(arch),
    context: (g, param, mode) => decoderContext(g, param, mode, arch, o.adapters),
    forward: (ctx, inputs) => gpt2Forward(ctx, arch, inputs),
    lmHead: (ctx, hidden) => lmHead(ctx, arch, hidden),
    isIgnoredTensor: (name) => isIgnoredGpt2Tensor(name, arch),
  };
}
