import type { Value } from '../../graph/types.js';
import { causalMask, type KeyValue, lmHeadProjection } from '../decoder.js';
import type { HfConfigReader } from '../hf-config.js';
import {
  type AdapterHook,
  activation,
  additiveMask,
  type BlockContext,
  blockContext,
  dropout,
  linear,
  rmsNorm,
} from '../layers.js';
import type { ParamSpec } from '../model.js';
import {
  type CachedDecoderInputs,
  cachedDecoderStep,
  type DecoderStepInputs,
  type EncoderInputs,
  type Seq2Seq,
} from '../seq2seq.js';
import { type T5Arch, t5Arch } from './arch.js';
import { positionsOf, relativePositionBias } from './buckets.js';

/**
 * T5ForConditionalGeneration (T5 v1.0, v1.1, flan-T5, mT5) as transformers' modeling_t5.py
 * computes it:
 *
 * - `shared` embeds the source and the decoder inputs (no position embeddings, no scaling);
 * - every sub-layer is pre-norm with a residual: h += dropout(sublayer(T5LayerNorm(h))), where
 *   T5LayerNorm is an RMSNorm (no mean, no bias, `layer_norm_epsilon`);
 * - attention without bias and without the 1/sqrt(d) scaling, over `num_heads` heads of `d_kv`;
 *   the scores get a relative position bias computed by the first block of each stack from its
 *   `relative_attention_bias` (buckets.ts: bidirectional in the encoder, causal in the decoder) and
 *   shared by every block of that stack, plus the padding mask (encoder, cross-attention) or the
 *   causal mask (decoder self-attention); cross-attention has no position bias;
 * - the feed-forward is DenseReluDense: wo(act(wi x)), or gated wo(act(wi_0 x) · wi_1 x), with
 *   `dropout_rate` after the activation;
 * - each stack ends with `final_layer_norm` and dropout;
 * - the LM head: tied (`tie_word_embeddings`, T5 v1.0) it is `shared` applied to the decoder output
 *   scaled by d_model^-0.5; untied (v1.1, flan-T5, mT5) it is `lm_head.weight`, unscaled.
 *
 * Dropout is `dropout_rate` everywhere (embeddings, attention probabilities, residual branches,
 * after each stack), replaced by training.dropout when set.
 */

export const T5_SHARED = 'shared.weight';
export const T5_LM_HEAD = 'lm_head.weight';
const REL_BIAS = 'relative_attention_bias.weight';

type Stack = 'encoder' | 'decoder';
const blockPrefix = (stack: Stack, i: number) => `${stack}.block.${i}`;
/** The sub-layers of a block: the encoder's are self-attention and FF, the decoder's add cross-attention. */
const ffIndex = (stack: Stack) => (stack === 'encoder' ? 1 : 2);

/** transformers' T5PreTrainedModel._init_weights (initializer_factor f). */
export function t5Specs(arch: T5Arch): ParamSpec[] {
  const f = arch.initializerFactor;
  const { hidden: H, headDim: d, heads, dFf } = arch;
  const inner = heads * d;
  const normal = (std: number) => ({ kind: 'normal', std: f * std }) as const;
  const weight = (name: string, shape: number[], std: number): ParamSpec => ({
    name: `${name}.weight`,
    shape,
    init: normal(std),
  });
  const norm = (name: string): ParamSpec => ({ name: `${name}.weight`, shape: [H], init: { kind: 'ones' } });
  const attention = (p: string): ParamSpec[] => [
    weight(`${p}.q`, [inner, H], (H * d) ** -0.5),
    weight(`${p}.k`, [inner, H], H ** -0.5),
    weight(`${p}.v`, [inner, H], H ** -0.5),
    weight(`${p}.o`, [H, inner], inner ** -0.5),
  ];
  const ff = (p: string): ParamSpec[] => [
    ...(arch.gated
      ? [weight(`${p}.wi_0`, [dFf, H], H ** -0.5), weight(`${p}.wi_1`, [dFf, H], H ** -0.5)]
      : [weight(`${p}.wi`, [dFf, H], H ** -0.5)]),
    weight(`${p}.wo`, [H, dFf], dFf ** -0.5),
  ];
  const specs: ParamSpec[] = [weight('shared', [arch.vocabSize, H], 1)];
  for (const stack of ['encoder', 'decoder'] as const) {
    const layers = stack === 'encoder' ? arch.encoderLayers : arch.decoderLayers;
    for (let i = 0; i < layers; i++) {
      const p = blockPrefix(stack, i);
      specs.push(...attention(`${p}.layer.0.SelfAttention`));
      if (i === 0)
        specs.push(weight(`${p}.layer.0.SelfAttention.relative_attention_bias`, [arch.buckets, heads], H ** -0.5));
      specs.push(norm(`${p}.layer.0.layer_norm`));
      if (stack === 'decoder')
        specs.push(...attention(`${p}.layer.1.EncDecAttention`), norm(`${p}.layer.1.layer_norm`));
      const k = ffIndex(stack);
      specs.push(...ff(`${p}.layer.${k}.DenseReluDense`), norm(`${p}.layer.${k}.layer_norm`));
    }
    specs.push(norm(`${stack}.final_layer_norm`));
  }
  if (!arch.tied) specs.push(weight('lm_head', [arch.vocabSize, H], 1));
  return specs;
}

/**
 * Checkpoint tensors T5ForConditionalGeneration ignores on load: the stacks' `embed_tokens` (tied to
 * `shared`), the cross-attention bias old checkpoints carry (`_keys_to_ignore_on_load_unexpected`),
 * and a stored `lm_head.weight` of a tied model.
 */
export function isIgnoredT5Tensor(name: string, arch: T5Arch): boolean {
  return (
    name === 'encoder.embed_tokens.weight' ||
    name === 'decoder.embed_tokens.weight' ||
    name === `decoder.block.0.layer.1.EncDecAttention.${REL_BIAS}` ||
    (arch.tied && name === T5_LM_HEAD)
  );
}

/** The tied copies `shared` may be stored as: the stacks' `embed_tokens` and, tied, `lm_head`. */
export function tiedT5Names(name: string, arch: T5Arch): string[] {
  if (name !== T5_SHARED) return [];
  const copies = ['encoder.embed_tokens.weight', 'decoder.embed_tokens.weight'];
  return arch.tied ? [...copies, T5_LM_HEAD] : copies;
}

/** A T5Attention's keys and values of `source`, split into heads. // [B, heads, Tk, d] each */
function keyValue(ctx: BlockContext, arch: T5Arch, source: Value, p: string): KeyValue {
  return {
    key: splitHeads(ctx, arch, linear(ctx, source, `${p}.k`, { bias: false })),
    value: splitHeads(ctx, arch, linear(ctx, source, `${p}.v`, { bias: false })),
  };
}

const splitHeads = (ctx: BlockContext, arch: T5Arch, t: Value) =>
  ctx.g.transpose(ctx.g.reshape(t, [0, 0, arch.heads, arch.headDim]), [0, 2, 1, 3]); // [B, heads, T, d]

/** T5Attention: no biases, no score scaling; `bias` holds the position bias and the mask. // [B, Tq, H] */
function attention(ctx: BlockContext, arch: T5Arch, x: Value, kv: KeyValue, bias: Value, p: string): Value {
  const { g } = ctx;
  const q = splitHeads(ctx, arch, linear(ctx, x, `${p}.q`, { bias: false }));
  const scores = g.add(g.matmul(q, g.transpose(kv.key, [0, 1, 3, 2])), bias); // [B, heads, Tq, Tk]
  const probs = dropout(ctx, g.softmax(scores, -1), ctx.attentionDropout);
  const context = g.reshape(g.transpose(g.matmul(probs, kv.value), [0, 2, 1, 3]), [0, 0, arch.heads * arch.headDim]);
  return linear(ctx, context, `${p}.o`, { bias: false });
}

/** T5LayerFF's DenseReluDense (or DenseGatedActDense). // [B, T, H] */
function feedForward(ctx: BlockContext, arch: T5Arch, x: Value, p: string): Value {
  const { g } = ctx;
  const inner = arch.gated
    ? g.mul(
        activation(g, linear(ctx, x, `${p}.wi_0`, { bias: false }), arch.act, ctx.mode),
        linear(ctx, x, `${p}.wi_1`, { bias: false }),
      )
    : activation(g, linear(ctx, x, `${p}.wi`, { bias: false }), arch.act, ctx.mode);
  return linear(ctx, dropout(ctx, inner), `${p}.wo`, { bias: false });
}

/** h + dropout(sublayer(T5LayerNorm(h))): one of a block's pre-norm sub-layers. */
function residual(ctx: BlockContext, arch: T5Arch, h: Value, norm: string, sublayer: (x: Value) => Value): Value {
  return ctx.g.add(h, dropout(ctx, sublayer(rmsNorm(ctx, h, `${norm}.weight`, arch.eps))));
}

/** The position bias of a stack's first block for ids [B, T] against themselves. // [1, heads, T, T] */
function stackBias(ctx: BlockContext, arch: T5Arch, stack: Stack, ids: Value): Value {
  const positions = positionsOf(ctx.g, ids);
  const weight = ctx.param(`${blockPrefix(stack, 0)}.layer.0.SelfAttention.${REL_BIAS}`);
  return relativePositionBias(ctx.g, weight, positions, positions, {
    bidirectional: stack === 'encoder',
    buckets: arch.buckets,
    maxDistance: arch.maxDistance,
  });
}

/** T5Stack without a decoder: the encoder. // [B, S, H] */
export function t5Encode(ctx: BlockContext, arch: T5Arch, inputs: EncoderInputs): Value {
  const { g, param } = ctx;
  let h = dropout(
    ctx,
    g.scope('embed', () => g.gather(param(T5_SHARED), inputs.inputIds)),
  );
  const bias = g.scope('bias', () =>
    g.add(stackBias(ctx, arch, 'encoder', inputs.inputIds), additiveMask(g, inputs.attentionMask)),
  ); // [B, heads, S, S]
  for (let i = 0; i < arch.encoderLayers; i++) {
    const p = blockPrefix('encoder', i);
    h = g.scope(`block.${i}`, () => {
      const attended = residual(ctx, arch, h, `${p}.layer.0.layer_norm`, (x) =>
        attention(
          ctx,
          arch,
          x,
          keyValue(ctx, arch, x, `${p}.layer.0.SelfAttention`),
          bias,
          `${p}.layer.0.SelfAttention`,
        ),
      );
      return residual(ctx, arch, attended, `${p}.layer.1.layer_norm`, (x) =>
        feedForward(ctx, arch, x, `${p}.layer.1.DenseReluDense`),
      );
    });
  }
  return dropout(ctx, rmsNorm(ctx, h, 'encoder.final_layer_norm.weight', arch.eps));
}

/** T5Stack as the decoder: causal self-attention, cross-attention to the encoder, FF. // [B, T, H] */
export function t5Decode(ctx: BlockContext, arch: T5Arch, inputs: DecoderStepInputs): Value {
  const { g } = ctx;
  const ids = inputs.inputIds;
  const selfBias = g.scope('bias', () => {
    const visible = g.constantOfShape(g.shape(ids), 1, 'int64'); // no decoder padding mask: causal only
    return g.add(stackBias(ctx, arch, 'decoder', ids), causalMask(g, ids, visible, false));
  }); // [B, heads, T, T]
  return decoderStack(ctx, arch, ids, inputs.encoderMask, selfBias, {
    self: (_, x, p) => keyValue(ctx, arch, x, p),
    cross: (_, p) => keyValue(ctx, arch, inputs.encoderHidden, p),
  });
}

/** The cross-attention keys and values of every decoder block, from the encoder's output (computed once per source). */
export function t5CrossKeyValues(ctx: BlockContext, arch: T5Arch, encoderHidden: Value): KeyValue[] {
  return Array.from({ length: arch.decoderLayers }, (_, i) =>
    ctx.g.scope(`block.${i}`, () =>
      keyValue(ctx, arch, encoderHidden, `${blockPrefix('decoder', i)}.layer.1.EncDecAttention`),
    ),
  );
}

/**
 * The decoder with a KV cache: the new tokens (absolute positions P … P + T − 1, P the past's
 * length) attend to the past self-attention keys/values and their own; the position bias is the
 * one of those query positions against keys 0 … P + T − 1, as transformers' T5Attention computes
 * it with `cache_position`. Cross-attention reads the given keys/values. // hidden [B, T, H]
 */
export function t5DecodeCached(
  ctx: BlockContext,
  arch: T5Arch,
  inputs: CachedDecoderInputs,
): { hidden: Value; present: KeyValue[] } {
  const { g } = ctx;
  const ids = inputs.inputIds;
  const step = cachedDecoderStep(g, inputs);
  const selfBias = g.scope('bias', () => {
    const { pastLength: past, total } = step;
    const range = (from: Value, to: Value) =>
      g.op('Range', [g.squeeze(from, [0]), g.squeeze(to, [0]), g.scalar(1, 'int64')])[0] as Value;
    const weight = ctx.param(`${blockPrefix('decoder', 0)}.layer.0.SelfAttention.${REL_BIAS}`);
    const bias = relativePositionBias(g, weight, range(past, total), range(g.ints([0]), total), {
      bidirectional: false,
      buckets: arch.buckets,
      maxDistance: arch.maxDistance,
    });
    return g.add(bias, step.mask);
  }); // [B, heads, T, P + T]
  const hidden = decoderStack(ctx, arch, ids, inputs.encoderMask, selfBias, {
    self: (i, x, p) => step.self(i, keyValue(ctx, arch, x, p)),
    cross: (i) => inputs.cross[i] as KeyValue,
  });
  return { hidden, present: step.present };
}

/** The decoder blocks and final norm, with the self- and cross-attention keys/values from `kv`. // [B, T, H] */
function decoderStack(
  ctx: BlockContext,
  arch: T5Arch,
  ids: Value,
  encoderMask: Value,
  selfBias: Value,
  kv: { self: (i: number, x: Value, p: string) => KeyValue; cross: (i: number, p: string) => KeyValue },
): Value {
  const { g, param } = ctx;
  let h = dropout(
    ctx,
    g.scope('embed', () => g.gather(param(T5_SHARED), ids)),
  );
  const crossBias = g.scope('cross_mask', () => additiveMask(g, encoderMask)); // [B, 1, 1, S]
  for (let i = 0; i < arch.decoderLayers; i++) {
    const p = blockPrefix('decoder', i);
    h = g.scope(`block.${i}`, () => {
      const self = `${p}.layer.0.SelfAttention`;
      const attended = residual(ctx, arch, h, `${p}.layer.0.layer_norm`, (x) =>
        attention(ctx, arch, x, kv.self(i, x, self), selfBias, self),
      );
      const cross = `${p}.layer.1.EncDecAttention`;
      const crossed = residual(ctx, arch, attended, `${p}.layer.1.layer_norm`, (x) =>
        attention(ctx, arch, x, kv.cross(i, cross), crossBias, cross),
      );
      return residual(ctx, arch, crossed, `${p}.layer.2.layer_norm`, (x) =>
        feedForward(ctx, arch, x, `${p}.layer.2.DenseReluDense`),
      );
    });
  }
  return dropout(ctx, rmsNorm(ctx, h, 'decoder.final_layer_norm.weight', arch.eps));
}

/** The LM head: tied, `shared` over the output scaled by d_model^-0.5; untied, `lm_head`. // [B, T, V] */
export function t5LmHead(ctx: BlockContext, arch: T5Arch, hidden: Value): Value {
  const { g, param } = ctx;
  if (!arch.tied) return lmHeadProjection(g, hidden, param(T5_LM_HEAD));
  return lmHeadProjection(g, g.mul(hidden, arch.hidden ** -0.5), param(T5_SHARED));
}

/** The T5 `Seq2Seq` of a config.json. */
export function t5Seq2Seq(cfg: HfConfigReader, o: { dropout?: number; adapters?: AdapterHook } = {}): Seq2Seq {
  const arch = t5Arch(cfg, o.dropout);
  return {
    arch,
    params: t5Specs(arch),
    context: (g, param, mode) =>
      blockContext(g, param, mode, { hidden: arch.dropout, attention: arch.dropout }, o.adapters),
    encode: (ctx, inputs) => t5Encode(ctx, arch, inputs),
    decode: (ctx, inputs) => t5Decode(ctx, arch, inputs),
    crossKeyValues: (ctx, encoderHidden) => t5CrossKeyValues(ctx, arch, encoderHidden),
    decodeCached: (ctx, inputs) => t5DecodeCached(ctx, arch, inputs),
    lmHead: (ctx, hidden) => t5LmHead(ctx, arch, hidden),
    isIgnoredTensor: (name) => isIgnoredT5Tensor(name, arch),
    tiedNames: (name) => tiedT5Names(name, arch),
  };
}
