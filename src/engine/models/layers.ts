import type { GraphBuilder } from '../graph/builder.js';
import type { Value } from '../graph/types.js';
import type { ForwardMode } from './model.js';

/**
 * Transformer building blocks shared by the model families. Weights keep Hugging Face's layouts
 * (Linear weight [out, in]), so checkpoints load and save without transposes; Gemm with transB
 * reads them as they are.
 */
export interface BlockContext {
  g: GraphBuilder;
  param: (name: string) => Value;
  mode: ForwardMode;
  dropout: number;
  /** Next dropout seed: each Dropout node gets its own, derived from the run seed. */
  nextSeed: () => number;
}

/** y = x W^T + b over the last axis of x, for any number of leading axes. // [..., in] -> [..., out] */
export function linear(ctx: BlockContext, x: Value, prefix: string): Value {
  const { g, param } = ctx;
  const w = param(`${prefix}.weight`);
  const [outDim, inDim] = w.shape as [number, number];
  const lead = g.slice(g.shape(x), [0], [-1]);
  const flat = g.reshape(x, [-1, inDim]); // [N, in]
  const y = g.gemm(flat, w, param(`${prefix}.bias`), { transB: true }); // [N, out]
  return g.reshape(y, g.concat([lead, g.ints([outDim])], 0));
}

export function dropout(ctx: BlockContext, x: Value): Value {
  if (ctx.mode !== 'train' || ctx.dropout <= 0) return x;
  return ctx.g.dropout(x, ctx.dropout, ctx.nextSeed()).y;
}

export const layerNorm = (ctx: BlockContext, x: Value, prefix: string, eps: number): Value =>
  ctx.g.layerNorm(x, ctx.param(`${prefix}.weight`), ctx.param(`${prefix}.bias`), eps);

/** GELU as Hugging Face's "gelu": 0.5 x (1 + erf(x / sqrt 2)). */
export function gelu(g: GraphBuilder, x: Value): Value {
  return g.mul(g.mul(x, 0.5), g.add(g.erf(g.mul(x, Math.SQRT1_2)), 1));
}

/** Additive attention mask from a [B, T] 0/1 mask: 0 where attended, float32 min where padded. // [B, 1, 1, T] */
export function additiveMask(g: GraphBuilder, attentionMask: Value): Value {
  const keep = g.cast(g.unsqueeze(attentionMask, [1, 2]), g.floatType);
  return g.mul(g.sub(1, keep), -3.4028234663852886e38);
}

/** BERT-style self-attention with output projection, residual and LayerNorm. // [B, T, H] */
export function selfAttention(
  ctx: BlockContext,
  x: Value,
  mask: Value,
  prefix: string,
  heads: number,
  eps: number,
): Value {
  const { g } = ctx;
  const hidden = x.shape?.[2] as number;
  const headDim = hidden / heads;
  const split = (v: Value) => g.transpose(g.reshape(v, [0, 0, heads, headDim]), [0, 2, 1, 3]); // [B, nh, T, hd]
  const q = split(linear(ctx, x, `${prefix}.self.query`));
  const k = split(linear(ctx, x, `${prefix}.self.key`));
  const v = split(linear(ctx, x, `${prefix}.self.value`));
  const scores = g.add(g.mul(g.matmul(q, g.transpose(k, [0, 1, 3, 2])), 1 / Math.sqrt(headDim)), mask); // [B, nh, T, T]
  const probs = dropout(ctx, g.softmax(scores, -1));
  const context = g.reshape(g.transpose(g.matmul(probs, v), [0, 2, 1, 3]), [0, 0, hidden]); // [B, T, H]
  const out = dropout(ctx, linear(ctx, context, `${prefix}.output.dense`));
  return layerNorm(ctx, g.add(out, x), `${prefix}.output.LayerNorm`, eps);
}

/** Feed-forward block: dense -> GELU -> dense, residual, LayerNorm. // [B, T, H] */
export function feedForward(ctx: BlockContext, x: Value, prefix: string, eps: number): Value {
  const { g } = ctx;
  const inner = gelu(g, linear(ctx, x, `${prefix}.intermediate.dense`));
  const out = dropout(ctx, linear(ctx, inner, `${prefix}.output.dense`));
  return layerNorm(ctx, g.add(out, x), `${prefix}.output.LayerNorm`, eps);
}
