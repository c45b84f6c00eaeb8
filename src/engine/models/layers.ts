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
  /** Dropout after projections and on embeddings (`hidden_dropout_prob`). */
  dropout: number;
  /** Dropout on attention probabilities (`attention_probs_dropout_prob`). */
  attentionDropout?: number;
  /** Next dropout salt: each dropout site hashes its mask with its own. */
  nextSalt: () => number;
  /** Low-rank adapters (LoRA), consulted by `linear` and `conv1d` for every module they build. */
  adapters?: AdapterHook;
}

/**
 * A block context with its own dropout salt counter (from 0): `hidden` is `dropout`, `attention`
 * `attentionDropout`; `adapters` the LoRA hook, if any.
 */
export function blockContext(
  g: GraphBuilder,
  param: (name: string) => Value,
  mode: ForwardMode,
  dropouts: { hidden: number; attention: number },
  adapters?: AdapterHook,
): BlockContext {
  let salt = 0;
  return {
    g,
    param,
    mode,
    dropout: dropouts.hidden,
    attentionDropout: dropouts.attention,
    nextSalt: () => salt++,
    ...(adapters ? { adapters } : {}),
  };
}

/** A low-rank update of one linear layer: y = W x + b + scale · B A dropout(x) (LoRA). */
export interface LinearAdapter {
  A: Value; // [r, in]
  B: Value; // [out, r]
  scale: number; // alpha / r
  dropout: number;
}

/**
 * Asked once per use of a linear module (`bert.encoder.layer.0.attention.self.query`): its adapter,
 * if it has one. `fanInFanOut` is true for GPT-2's Conv1D (weight stored [in, out]).
 */
export type AdapterHook = (
  module: string,
  param: (name: string) => Value,
  dims: { in: number; out: number; fanInFanOut: boolean },
) => LinearAdapter | undefined;

/** The adapter's term for a flattened input, or undefined without one. // [N, in] -> [N, out] */
function adapterTerm(
  ctx: BlockContext,
  flat: Value,
  module: string,
  dims: { in: number; out: number; fanInFanOut: boolean },
): Value | undefined {
  const a = ctx.adapters?.(module, ctx.param, dims);
  if (!a) return undefined;
  const down = ctx.g.gemm(dropout(ctx, flat, a.dropout), a.A, undefined, { transB: true }); // [N, r]
  return ctx.g.gemm(down, a.B, undefined, { transB: true, alpha: a.scale }); // [N, out]
}

/** Name of the int64 scalar the trainer feeds each micro-step to draw fresh dropout masks. */
export const DROPOUT_SEED_INPUT = 'dropout_seed';

/** The graph's dropout seed input, created on first use. */
function dropoutSeed(g: GraphBuilder): Value {
  return g.graph.values.get(DROPOUT_SEED_INPUT) ?? g.input(DROPOUT_SEED_INPUT, 'int64', []);
}

/** Hugging Face `hidden_act` names we build (ACT2FN in transformers). */
export type Activation = 'gelu' | 'gelu_new' | 'gelu_pytorch_tanh' | 'gelu_fast' | 'relu' | 'silu' | 'swish' | 'tanh';

export const ACTIVATIONS: readonly Activation[] = [
  'gelu',
  'gelu_new',
  'gelu_pytorch_tanh',
  'gelu_fast',
  'relu',
  'silu',
  'swish',
  'tanh',
];

/**
 * `mode` 'train' builds exact GELU and SiLU as one node each (ORT's contrib Gelu and QuickGelu,
 * with their own gradients) where x is float32; otherwise standard ops, in the form ORT's optimizer
 * fuses into those same kernels when it loads an eval or exported graph (x / √2, not x · (1/√2),
 * which it leaves unfused; x · sigmoid(x)).
 */
export function activation(g: GraphBuilder, x: Value, act: Activation, mode: ForwardMode): Value {
  switch (act) {
    case 'gelu': // exact: 0.5 x (1 + erf(x / sqrt 2))
      if (mode === 'train' && x.dtype === 'float32') return g.gelu(x);
      return g.mul(g.mul(x, 0.5), g.add(g.erf(g.div(x, Math.SQRT2)), 1));
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
    case 'gelu_fast': {
      // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
      const inner = g.mul(g.add(x, g.mul(g.mul(g.mul(x, x), x), 0.044715)), Math.sqrt(2 / Math.PI));
      return g.mul(g.mul(x, 0.5), g.add(g.tanh(inner), 1));
    }
    case 'relu':
      return g.relu(x);
    case 'silu':
    case 'swish':
      if (mode === 'train' && x.dtype === 'float32') return g.silu(x);
      return g.mul(x, g.sigmoid(x));
    case 'tanh':
      return g.tanh(x);
  }
}

/**
 * y = x W^T + b over the last axis of x, for any number of leading axes; `bias: false` for a
 * module built with `bias=False` (no `.bias` parameter). // [..., in] -> [..., out]
 */
export function linear(ctx: BlockContext, x: Value, prefix: string, o: { bias?: boolean } = {}): Value {
  const { g, param } = ctx;
  const w = param(`${prefix}.weight`);
  const [outDim, inDim] = w.shape as [number, number];
  const lead = g.slice(g.shape(x), [0], [-1]);
  const flat = g.reshape(x, [-1, inDim]); // [N, in]
  const bias = o.bias === false ? undefined : param(`${prefix}.bias`);
  let y = g.gemm(flat, w, bias, { transB: true }); // [N, out]
  const lora = adapterTerm(ctx, flat, prefix, { in: inDim, out: outDim, fanInFanOut: false });
  if (lora) y = g.add(y, lora);
  return g.reshape(y, g.concat([lead, g.ints([outDim])], 0));
}

/**
 * GPT-2's Conv1D: y = x W + b with W stored [in, out] (transposed against Linear), over the last
 * axis of x, for any number of leading axes. // [..., in] -> [..., out]
 */
export function conv1d(ctx: BlockContext, x: Value, prefix: string): Value {
  const { g, param } = ctx;
  const w = param(`${prefix}.weight`);
  const [inDim, outDim] = w.shape as [number, number];
  const lead = g.slice(g.shape(x), [0], [-1]);
  const flat = g.reshape(x, [-1, inDim]); // [N, in]
  let y = g.gemm(flat, w, param(`${prefix}.bias`)); // [N, out]
  const lora = adapterTerm(ctx, flat, prefix, { in: inDim, out: outDim, fanInFanOut: true });
  if (lora) y = g.add(y, lora);
  return g.reshape(y, g.concat([lead, g.ints([outDim])], 0));
}

export function dropout(ctx: BlockContext, x: Value, ratio = ctx.dropout): Value {
  if (ctx.mode !== 'train' || ratio <= 0) return x;
  return ctx.g.seededDropout(x, ratio, dropoutSeed(ctx.g), ctx.nextSalt());
}

export const layerNorm = (ctx: BlockContext, x: Value, prefix: string, eps: number): Value =>
  ctx.g.layerNorm(x, ctx.param(`${prefix}.weight`), ctx.param(`${prefix}.bias`), eps);

/**
 * RMSNorm as transformers' LlamaRMSNorm computes it: w · (x · rsqrt(mean(x²) + eps)) over the last
 * axis, no bias, no mean subtraction. Training graphs (float32) use ORT's SimplifiedLayerNormalization,
 * whose gradient keeps only x and w (autodiff recomputes the output where a gradient reads it);
 * eval and exported graphs keep standard ops. // [..., H]
 */
export function rmsNorm(ctx: BlockContext, x: Value, weight: string, eps: number): Value {
  const { g } = ctx;
  if (ctx.mode === 'train' && x.dtype === 'float32') return g.rmsNormalization(x, ctx.param(weight), eps);
  const variance = g.reduceMean(g.mul(x, x), [-1]); // [..., 1]
  return g.mul(ctx.param(weight), g.mul(x, g.reciprocal(g.sqrt(g.add(variance, eps)))));
}

/** Additive attention mask from a [B, T] 0/1 mask: 0 where attended, float32 min where padded. // [B, 1, 1, T] */
export function additiveMask(g: GraphBuilder, attentionMask: Value): Value {
  const keep = g.cast(g.unsqueeze(attentionMask, [1, 2]), g.floatType);
  return g.mul(g.sub(1, keep), -3.4028234663852886e38);
}

/** Weight names of one post-LayerNorm transformer layer, relative to the layer's prefix. */
export interface LayerNames {
  query: string;
  key: string;
  value: string;
  attentionOut: string;
  attentionNorm: string;
  ffnIn: string;
  ffnOut: string;
  ffnNorm: string;
}

export const BERT_LAYER_NAMES: LayerNames = {
  query: 'attention.self.query',
  key: 'attention.self.key',
  value: 'attention.self.value',
  attentionOut: 'attention.output.dense',
  attentionNorm: 'attention.output.LayerNorm',
  ffnIn: 'intermediate.dense',
  ffnOut: 'output.dense',
  ffnNorm: 'output.LayerNorm',
};

export interface LayerShape {
  heads: number;
  eps: number;
  act: Activation;
  /** Hidden dropout after the attention output projection (DistilBERT has none). */
  attentionOutputDropout?: boolean;
  /** Hidden dropout after the feed-forward output (ALBERT has none). */
  ffnOutputDropout?: boolean;
  /**
   * Compute the layer for the first token only (its output is [B, 1, H]): keys and values still
   * come from every token. For the last layer under a head that reads h[:, 0] (sequence
   * classification), this gives the same result while skipping the queries, attention output and
   * feed-forward of every other token, about a fifth of a 4-layer encoder's matrix products.
   */
  firstTokenOnly?: boolean;
}

/** Multi-head self-attention with output projection, residual and LayerNorm. // [B, T, H] */
function selfAttention(
  ctx: BlockContext,
  x: Value,
  mask: Value,
  p: (n: string) => string,
  names: LayerNames,
  o: LayerShape,
): Value {
  const { g } = ctx;
  const hidden = x.shape?.[2] as number;
  const headDim = hidden / o.heads;
  const split = (v: Value) => g.transpose(g.reshape(v, [0, 0, o.heads, headDim]), [0, 2, 1, 3]); // [B, nh, T, hd]
  const xq = o.firstTokenOnly ? g.slice(x, [0], [1], [1]) : x; // the positions that query: [B, Tq, H]
  const q = split(linear(ctx, xq, p(names.query)));
  const k = split(linear(ctx, x, p(names.key)));
  const v = split(linear(ctx, x, p(names.value)));
  const scores = g.add(g.mul(g.matmul(q, g.transpose(k, [0, 1, 3, 2])), 1 / Math.sqrt(headDim)), mask); // [B, nh, T, T]
  const probs = dropout(ctx, g.softmax(scores, -1), ctx.attentionDropout ?? ctx.dropout);
  const context = g.reshape(g.transpose(g.matmul(probs, v), [0, 2, 1, 3]), [0, 0, hidden]); // [B, T, H]
  const projected = linear(ctx, context, p(names.attentionOut));
  const out = o.attentionOutputDropout === false ? projected : dropout(ctx, projected);
  return layerNorm(ctx, g.add(out, xq), p(names.attentionNorm), o.eps);
}

/** One post-LayerNorm transformer layer (BERT, RoBERTa, ELECTRA, DistilBERT, ALBERT). // [B, T, H] */
export function transformerLayer(
  ctx: BlockContext,
  x: Value,
  mask: Value,
  prefix: string,
  names: LayerNames,
  o: LayerShape,
): Value {
  const { g } = ctx;
  const p = (n: string) => `${prefix}.${n}`;
  const attended = selfAttention(ctx, x, mask, p, names, o);
  const inner = activation(g, linear(ctx, attended, p(names.ffnIn)), o.act, ctx.mode);
  const projected = linear(ctx, inner, p(names.ffnOut));
  const out = o.ffnOutputDropout === false ? projected : dropout(ctx, projected);
  return layerNorm(ctx, g.add(out, attended), p(names.ffnNorm), o.eps);
}
