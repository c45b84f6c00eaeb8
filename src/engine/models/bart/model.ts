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
  layerNorm,
  linear,
} from '../layers.js';
import type { ParamSpec } from '../model.js';
import {
  type CachedDecoderInputs,
  cachedDecoderStep,
  type DecoderStepInputs,
  type EncoderInputs,
  type Seq2Seq,
} from '../seq2seq.js';
import { type BartArch, type BartVariant, bartArch, LEARNED_POSITION_OFFSET } from './arch.js';
import { positionEmbeddings } from './positions.js';

/**
 * BartForConditionalGeneration, MBartForConditionalGeneration and MarianMTModel as transformers'
 * modeling_bart.py, modeling_mbart.py and modeling_marian.py compute them:
 *
 * - `model.shared` embeds the source and the decoder inputs, times embed_scale (sqrt(d_model) with
 *   scale_embedding); position embeddings are added (arch.ts: learned with offset 2, or sinusoidal),
 *   then `layernorm_embedding` (bart, mbart) and dropout;
 * - BartAttention: q, k, v, out_proj with biases, q scaled by head_dim^-0.5 after its bias; the
 *   encoder masks padded source tokens, the decoder's self-attention is causal only, its
 *   cross-attention masks the padded source;
 * - post-LN layers (bart, marian): h = LN(h + dropout(sublayer(h))) per sub-layer; pre-LN (mbart):
 *   h = h + dropout(sublayer(LN(h))) and a final `layer_norm` after each stack;
 * - the feed-forward fc2(dropout(act(fc1 x), activation_dropout));
 * - the LM head: `lm_head` (tied to `model.shared` by default) plus `final_logits_bias`, a buffer:
 *   loaded and saved, never trained.
 *
 * Dropout, attention_dropout and activation_dropout are the config's, all replaced by
 * training.dropout when set.
 */

export const BART_SHARED = 'model.shared.weight';
export const BART_LM_HEAD = 'lm_head.weight';
export const FINAL_LOGITS_BIAS = 'final_logits_bias';

type Stack = 'encoder' | 'decoder';
const layerPrefix = (stack: Stack, i: number) => `model.${stack}.layers.${i}`;

/** transformers' Bart/MBart/MarianPreTrainedModel._init_weights: normal(init_std), zero biases, LayerNorms 1 and 0. */
export function bartSpecs(arch: BartArch): ParamSpec[] {
  const { hidden: H, initStd: std } = arch;
  const linear = (p: string, out: number, inDim: number): ParamSpec[] => [
    { name: `${p}.weight`, shape: [out, inDim], init: { kind: 'normal', std } },
    { name: `${p}.bias`, shape: [out], init: { kind: 'zeros' } },
  ];
  const norm = (p: string): ParamSpec[] => [
    { name: `${p}.weight`, shape: [H], init: { kind: 'ones' } },
    { name: `${p}.bias`, shape: [H], init: { kind: 'zeros' } },
  ];
  const attention = (p: string) => ['q_proj', 'k_proj', 'v_proj', 'out_proj'].flatMap((m) => linear(`${p}.${m}`, H, H));
  const specs: ParamSpec[] = [
    { name: BART_SHARED, shape: [arch.vocabSize, H], init: { kind: 'normal', std, paddingRow: arch.padTokenId } },
  ];
  for (const stack of ['encoder', 'decoder'] as const) {
    if (arch.positions === 'learned') {
      const rows = arch.maxPositions + LEARNED_POSITION_OFFSET;
      specs.push({ name: `model.${stack}.embed_positions.weight`, shape: [rows, H], init: { kind: 'normal', std } });
    }
    if (arch.layernormEmbedding) specs.push(...norm(`model.${stack}.layernorm_embedding`));
    const layers = stack === 'encoder' ? arch.encoderLayers : arch.decoderLayers;
    const ffn = stack === 'encoder' ? arch.encoderFfn : arch.decoderFfn;
    for (let i = 0; i < layers; i++) {
      const p = layerPrefix(stack, i);
      specs.push(...attention(`${p}.self_attn`), ...norm(`${p}.self_attn_layer_norm`));
      if (stack === 'decoder') specs.push(...attention(`${p}.encoder_attn`), ...norm(`${p}.encoder_attn_layer_norm`));
      specs.push(...linear(`${p}.fc1`, ffn, H), ...linear(`${p}.fc2`, H, ffn), ...norm(`${p}.final_layer_norm`));
    }
    if (arch.preNorm) specs.push(...norm(`model.${stack}.layer_norm`));
  }
  if (!arch.tied) specs.push({ name: BART_LM_HEAD, shape: [arch.vocabSize, H], init: { kind: 'normal', std } });
  specs.push({ name: FINAL_LOGITS_BIAS, shape: [1, arch.vocabSize], init: { kind: 'zeros' }, buffer: true });
  return specs;
}

/**
 * Checkpoint tensors the *ForConditionalGeneration ignores on load: the stacks' `embed_tokens`
 * (tied to `model.shared`), a tied model's stored `lm_head.weight`, and Marian's sinusoidal
 * `embed_positions` (recomputed, never loaded).
 */
export function isIgnoredBartTensor(name: string, arch: BartArch): boolean {
  const local = name.startsWith('model.') ? name : `model.${name}`;
  if (local === 'model.encoder.embed_tokens.weight' || local === 'model.decoder.embed_tokens.weight') return true;
  if (arch.positions === 'sinusoidal' && /^model\.(en|de)coder\.embed_positions\.weight$/.test(local)) return true;
  return arch.tied && name === BART_LM_HEAD;
}

/** [B, T, H] -> [B, heads, T, H / heads] */
/**
 * The tied copies `model.shared` may be stored as: the stacks' `embed_tokens` and, tied, `lm_head`
 * (transformers ties them on load, so any one of them in the checkpoint fills the others).
 */
export function tiedBartNames(name: string, arch: BartArch): string[] {
  if (name !== BART_SHARED) return [];
  const copies = ['model.encoder.embed_tokens.weight', 'model.decoder.embed_tokens.weight'];
  return arch.tied ? [...copies, BART_LM_HEAD] : copies;
}

const splitHeads = (ctx: BlockContext, arch: BartArch, heads: number, t: Value) =>
  ctx.g.transpose(ctx.g.reshape(t, [0, 0, heads, arch.hidden / heads]), [0, 2, 1, 3]);

/** A BartAttention's keys and values of `source`, split into heads. // [B, heads, Tk, d] each */
function keyValue(ctx: BlockContext, arch: BartArch, heads: number, source: Value, p: string): KeyValue {
  return {
    key: splitHeads(ctx, arch, heads, linear(ctx, source, `${p}.k_proj`)),
    value: splitHeads(ctx, arch, heads, linear(ctx, source, `${p}.v_proj`)),
  };
}

/** BartAttention given its keys and values; `mask` is additive. // [B, Tq, H] */
function attention(ctx: BlockContext, arch: BartArch, heads: number, x: Value, kv: KeyValue, mask: Value, p: string) {
  const { g } = ctx;
  const q = splitHeads(ctx, arch, heads, g.mul(linear(ctx, x, `${p}.q_proj`), (arch.hidden / heads) ** -0.5));
  const scores = g.add(g.matmul(q, g.transpose(kv.key, [0, 1, 3, 2])), mask); // [B, heads, Tq, Tk]
  const probs = dropout(ctx, g.softmax(scores, -1), ctx.attentionDropout);
  const context = g.reshape(g.transpose(g.matmul(probs, kv.value), [0, 2, 1, 3]), [0, 0, arch.hidden]);
  return linear(ctx, context, `${p}.out_proj`);
}

/** fc2(dropout(act(fc1 x), activation_dropout)). // [B, T, H] */
function feedForward(ctx: BlockContext, arch: BartArch, x: Value, p: string): Value {
  const inner = activation(ctx.g, linear(ctx, x, `${p}.fc1`), arch.act, ctx.mode);
  return linear(ctx, dropout(ctx, inner, arch.activationDropout), `${p}.fc2`);
}

/** One sub-layer with its residual: post-LN LN(h + dropout(f(h))) or pre-LN h + dropout(f(LN(h))). */
function residual(ctx: BlockContext, arch: BartArch, h: Value, norm: string, sublayer: (x: Value) => Value): Value {
  const { g } = ctx;
  if (arch.preNorm) return g.add(h, dropout(ctx, sublayer(layerNorm(ctx, h, norm, arch.eps))));
  return layerNorm(ctx, g.add(h, dropout(ctx, sublayer(h))), norm, arch.eps);
}

/** Token embeddings × embed_scale + positions, layernorm_embedding, dropout. `past`: int64 [1]. // [B, T, H] */
function embed(ctx: BlockContext, arch: BartArch, stack: Stack, ids: Value, past: Value): Value {
  const { g } = ctx;
  return g.scope('embed', () => {
    const tokens = g.gather(ctx.param(BART_SHARED), ids);
    const scaled = arch.embedScale === 1 ? tokens : g.mul(tokens, arch.embedScale);
    let h = g.add(scaled, positionEmbeddings(ctx, arch, stack, ids, past));
    if (arch.layernormEmbedding) h = layerNorm(ctx, h, `model.${stack}.layernorm_embedding`, arch.eps);
    return dropout(ctx, h);
  });
}

/** mBART's final `layer_norm` of a stack; the identity for the post-LN variants. */
const finalNorm = (ctx: BlockContext, arch: BartArch, stack: Stack, h: Value) =>
  arch.preNorm ? layerNorm(ctx, h, `model.${stack}.layer_norm`, arch.eps) : h;

/** The encoder. // [B, S, H] */
export function bartEncode(ctx: BlockContext, arch: BartArch, inputs: EncoderInputs): Value {
  const { g } = ctx;
  let h = embed(ctx, arch, 'encoder', inputs.inputIds, g.ints([0]));
  const mask = g.scope('mask', () => additiveMask(g, inputs.attentionMask)); // [B, 1, 1, S]
  for (let i = 0; i < arch.encoderLayers; i++) {
    const p = layerPrefix('encoder', i);
    h = g.scope(`layers.${i}`, () => {
      const attended = residual(ctx, arch, h, `${p}.self_attn_layer_norm`, (x) =>
        attention(
          ctx,
          arch,
          arch.encoderHeads,
          x,
          keyValue(ctx, arch, arch.encoderHeads, x, `${p}.self_attn`),
          mask,
          `${p}.self_attn`,
        ),
      );
      return residual(ctx, arch, attended, `${p}.final_layer_norm`, (x) => feedForward(ctx, arch, x, `${p}`));
    });
  }
  return finalNorm(ctx, arch, 'encoder', h);
}

/** The decoder with causal self-attention and cross-attention to the encoder, teacher-forced. // [B, T, H] */
export function bartDecode(ctx: BlockContext, arch: BartArch, inputs: DecoderStepInputs): Value {
  const { g } = ctx;
  const ids = inputs.inputIds;
  const selfMask = g.scope('mask', () => causalMask(g, ids, g.constantOfShape(g.shape(ids), 1, 'int64'), false));
  return decoderStack(ctx, arch, ids, g.ints([0]), inputs.encoderMask, selfMask, {
    self: (_, x, p) => keyValue(ctx, arch, arch.heads, x, p),
    cross: (_, p) => keyValue(ctx, arch, arch.heads, inputs.encoderHidden, p),
  });
}

/** The cross-attention keys and values of every decoder layer (computed once per source). */
export function bartCrossKeyValues(ctx: BlockContext, arch: BartArch, encoderHidden: Value): KeyValue[] {
  return Array.from({ length: arch.decoderLayers }, (_, i) =>
    ctx.g.scope(`layers.${i}`, () =>
      keyValue(ctx, arch, arch.heads, encoderHidden, `${layerPrefix('decoder', i)}.encoder_attn`),
    ),
  );
}

/**
 * The decoder with a KV cache: the new tokens sit at positions P … P + T − 1 (P the past's length,
 * as BartLearnedPositionalEmbedding's past_key_values_length), attend to the past keys/values and
 * their own causally, and read the given cross-attention keys/values. // hidden [B, T, H]
 */
export function bartDecodeCached(
  ctx: BlockContext,
  arch: BartArch,
  inputs: CachedDecoderInputs,
): { hidden: Value; present: KeyValue[] } {
  const { g } = ctx;
  const step = g.scope('mask', () => cachedDecoderStep(g, inputs));
  const hidden = decoderStack(ctx, arch, inputs.inputIds, step.pastLength, inputs.encoderMask, step.mask, {
    self: (i, x, p) => step.self(i, keyValue(ctx, arch, arch.heads, x, p)),
    cross: (i) => inputs.cross[i] as KeyValue,
  });
  return { hidden, present: step.present };
}

/** The decoder layers (and mBART's final norm) with self- and cross-attention keys/values from `kv`. // [B, T, H] */
function decoderStack(
  ctx: BlockContext,
  arch: BartArch,
  ids: Value,
  past: Value,
  encoderMask: Value,
  selfMask: Value,
  kv: { self: (i: number, x: Value, p: string) => KeyValue; cross: (i: number, p: string) => KeyValue },
): Value {
  const { g } = ctx;
  let h = embed(ctx, arch, 'decoder', ids, past);
  const crossMask = g.scope('cross_mask', () => additiveMask(g, encoderMask)); // [B, 1, 1, S]
  for (let i = 0; i < arch.decoderLayers; i++) {
    const p = layerPrefix('decoder', i);
    h = g.scope(`layers.${i}`, () => {
      const self = `${p}.self_attn`;
      const attended = residual(ctx, arch, h, `${p}.self_attn_layer_norm`, (x) =>
        attention(ctx, arch, arch.heads, x, kv.self(i, x, self), selfMask, self),
      );
      const cross = `${p}.encoder_attn`;
      const crossed = residual(ctx, arch, attended, `${p}.encoder_attn_layer_norm`, (x) =>
        attention(ctx, arch, arch.heads, x, kv.cross(i, cross), crossMask, cross),
      );
      return residual(ctx, arch, crossed, `${p}.final_layer_norm`, (x) => feedForward(ctx, arch, x, p));
    });
  }
  return finalNorm(ctx, arch, 'decoder', h);
}

/** lm_head (or the tied `model.shared`) plus final_logits_bias. // [B, T, V] */
export function bartLmHead(ctx: BlockContext, arch: BartArch, hidden: Value): Value {
  const { g, param } = ctx;
  const logits = lmHeadProjection(g, hidden, param(arch.tied ? BART_SHARED : BART_LM_HEAD));
  return g.add(logits, param(FINAL_LOGITS_BIAS));
}

/** The `Seq2Seq` of a bart, mbart or marian config.json. */
export function bartSeq2Seq(
  variant: BartVariant,
  cfg: HfConfigReader,
  o: { dropout?: number; adapters?: AdapterHook } = {},
): Seq2Seq {
  const arch = bartArch(cfg, variant, o.dropout);
  return {
    arch,
    params: bartSpecs(arch),
    context: (g, param, mode) =>
      blockContext(g, param, mode, { hidden: arch.dropout, attention: arch.attentionDropout }, o.adapters),
    encode: (ctx, inputs) => bartEncode(ctx, arch, inputs),
    decode: (ctx, inputs) => bartDecode(ctx, arch, inputs),
    crossKeyValues: (ctx, encoderHidden) => bartCrossKeyValues(ctx, arch, encoderHidden),
    decodeCached: (ctx, inputs) => bartDecodeCached(ctx, arch, inputs),
    lmHead: (ctx, hidden) => bartLmHead(ctx, arch, hidden),
    isIgnoredTensor: (name) => isIgnoredBartTensor(name, arch),
    tiedNames: (name) => tiedBartNames(name, arch),
  };
}
