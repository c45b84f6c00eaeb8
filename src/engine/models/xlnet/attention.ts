import type { GraphBuilder } from '../../graph/builder.js';
import type { Value } from '../../graph/types.js';
import type { EncoderOutput } from '../encoder.js';
import { activation, type BlockContext, dropout, layerNorm, linear } from '../layers.js';
import type { XlnetArch } from './arch.js';

/**
 * XLNetModel's content stream as transformers' modeling_xlnet.py computes it for fine-tuning
 * (attn_type 'bi', bi_data false, no mems, no target_mapping), batch-first: B batch, T tokens,
 * N heads, D d_head, H d_model.
 */

/** The int64 scalar T and the [1] tensor [T] of the sequence length of ids [B, T]. */
function seqLength(g: GraphBuilder, ids: Value): { scalar: Value; vector: Value } {
  const vector = g.slice(g.shape(ids), [1], [2]);
  return { scalar: g.squeeze(vector, [0]), vector };
}

/**
 * relative_positional_encoding for attn_type 'bi': pos_seq = arange(T, -T, -1) (clamped to
 * ±clamp_len when it is > 0), inv_freq = 1 / 10000^(arange(0, H, 2) / H), and
 * [sin(pos ⊗ inv_freq), cos(pos ⊗ inv_freq)]. // [2T, H]
 */
export function relativePositions(g: GraphBuilder, a: XlnetArch, T: Value): Value {
  const range = g.op('Range', [T, g.neg(T), g.scalar(-1, 'int64')])[0] as Value; // [2T]: T .. -T+1
  let pos = g.cast(range, g.floatType);
  if (a.clampLen > 0) pos = g.max(g.min(pos, a.clampLen), -a.clampLen);
  const half = a.hidden / 2;
  const invFreq = Float32Array.from({ length: half }, (_, i) => 1 / 10000 ** ((2 * i) / a.hidden));
  const angles = g.mul(g.unsqueeze(pos, [1]), g.constant(invFreq, [1, half])); // [2T, H/2]
  return g.concat([g.sin(angles), g.cos(angles)], 1);
}

/**
 * rel_shift_bnij: x [B, N, T, 2T] -> reshape [B, N, 2T, T] -> drop the first row -> reshape
 * [B, N, T, 2T-1] -> the first T columns, so out[i, j] = x[i, T - i + j], the score of relative
 * distance i - j. // [B, N, T, T]
 */
export function relShift(g: GraphBuilder, x: Value, T: Value): Value {
  const [B = 'batch', N = 'heads'] = x.shape ?? [];
  const rows = g.withShape(g.reshape(x, g.concat([g.ints([0, 0, -1]), T], 0)), [B, N, 'twice_seq', 'seq']);
  const dropped = g.op('Slice', [rows, g.ints([1]), g.mul(T, g.ints([2])), g.ints([2])])[0] as Value;
  const shifted = g.withShape(
    g.reshape(g.withShape(dropped, [B, N, 'twice_seq_less_1', 'seq']), g.concat([g.ints([0, 0]), T, g.ints([-1])], 0)),
    [B, N, 'seq', 'twice_seq_less_1'],
  ); // [B, N, T, 2T-1]
  const out = g.op('Slice', [shifted, g.ints([0]), T, g.ints([3])])[0] as Value;
  return g.withShape(out, [B, N, 'seq', 'seq']);
}

/** h [.., H] through an einsum weight [H, N, D]: "ibh,hnd->ibnd". // [.., N, D] */
export function projectHeads(ctx: BlockContext, a: XlnetArch, h: Value, weight: string): Value {
  const { g } = ctx;
  const w = g.reshape(ctx.param(weight), [a.hidden, a.heads * a.headSize]);
  const lead = Array.from({ length: (h.shape?.length ?? 3) - 1 }, () => 0);
  return g.reshape(g.matmul(h, w), [...lead, a.heads, a.headSize]);
}

/** A [N, D] bias broadcast over the tokens of [B, N, T, D] heads. */
const headBias = (ctx: BlockContext, name: string) => ctx.g.unsqueeze(ctx.param(name), [1]); // [N, 1, D]

export interface AttentionInputs {
  /** Positional encodings, [2T, H] (or [B, 2T, H] when dropout draws a mask per example). */
  pos: Value;
  /**
   * 1 where tokens i and j are in different segments (seg_mat's class 1). // [B, 1, T, T]
   * Absent without token_type_ids: transformers' seg_mat is None and the segment term 0.
   */
  otherSegment?: Value;
  /** Added to the scores: -1e30 where j is padding (or perm-masked) and j != i (non_tgt_mask). // [B, 1, T, T] */
  mask: Value;
  /** The query stream's: -1e30 where j is padding or perm-masked, itself included (attn_mask). */
  gMask?: Value;
  T: Value;
}

/** The score terms of rel_attn_core before scaling, each [B, N, T, T]: content, position, segment. */
export function attentionTerms(
  ctx: BlockContext,
  a: XlnetArch,
  q: Value,
  k: Value,
  at: AttentionInputs,
  p: (n: string) => string,
): { ac: Value; bd: Value; ef?: Value } {
  const { g } = ctx;
  // ac = (q + r_w_bias) · k
  const ac = g.matmul(g.add(q, headBias(ctx, p('r_w_bias'))), g.transpose(k, [0, 1, 3, 2]));
  // bd = rel_shift((q + r_r_bias) · k_r), k_r from the positional encodings through r.
  const kr = projectHeads(ctx, a, at.pos, p('r')); // [2T, N, D] or [B, 2T, N, D]
  const krT = g.transpose(kr, kr.shape?.length === 4 ? [0, 2, 3, 1] : [1, 2, 0]); // [(B,) N, D, 2T]
  const bd = relShift(g, g.matmul(g.add(q, headBias(ctx, p('r_r_bias'))), krT), at.T);
  if (!at.otherSegment) return { ac, bd };
  // ef = (q + r_s_bias) · seg_embed[s], s = 1 where i and j are in different segments.
  const segEmbed = g.transpose(ctx.param(p('seg_embed')), [1, 2, 0]); // [N, D, 2]
  const bySegment = g.matmul(g.add(q, headBias(ctx, p('r_s_bias'))), segEmbed); // [B, N, T, 2]
  const [same, other] = g.split(bySegment, [1, 1], 3) as [Value, Value]; // [B, N, T, 1] each
  const ef = g.add(same, g.mul(at.otherSegment, g.sub(other, same)));
  return { ac, bd, ef };
}

/** The [B, N, T, D] heads of h [B, T, H] through an einsum weight. */
export function heads(ctx: BlockContext, a: XlnetArch, h: Value, weight: string): Value {
  return ctx.g.transpose(projectHeads(ctx, a, h, weight), [0, 2, 1, 3]);
}

/**
 * rel_attn_core: (ac + bd + ef) / √d_head plus the additive mask, softmax, attention dropout,
 * the weighted values. q [B, N, T, D] against k, v [B, N, T, D]. // [B, N, T, D]
 */
export function attentionCore(
  ctx: BlockContext,
  a: XlnetArch,
  qkv: { q: Value; k: Value; v: Value },
  at: AttentionInputs,
  mask: Value,
  p: (n: string) => string,
): Value {
  const { g } = ctx;
  const { ac, bd, ef } = attentionTerms(ctx, a, qkv.q, qkv.k, at, p);
  const terms = ef ? g.add(g.add(ac, bd), ef) : g.add(ac, bd);
  const scores = g.add(g.mul(terms, 1 / Math.sqrt(a.headSize)), mask);
  const probs = dropout(ctx, g.softmax(scores, -1), ctx.attentionDropout);
  return g.matmul(probs, qkv.v);
}

/** post_attention: "ibnd,hnd->ibh" through o, dropout, the residual, layer_norm. vec [B, N, T, D]. // [B, T, H] */
export function postAttention(ctx: BlockContext, a: XlnetArch, vec: Value, residual: Value, p: (n: string) => string) {
  const { g } = ctx;
  const context = g.reshape(g.transpose(vec, [0, 2, 1, 3]), [0, 0, a.heads * a.headSize]);
  // The o tensor read as [H, N*D], applied transposed.
  const o = g.reshape(ctx.param(p('o')), [a.hidden, a.heads * a.headSize]);
  const out = dropout(ctx, g.matmul(context, g.transpose(o, [1, 0])));
  return layerNorm(ctx, g.add(out, residual), p('layer_norm'), a.eps);
}

/** XLNetRelativeAttention (content stream) + post_attention. // [B, T, H] */
function relativeAttention(ctx: BlockContext, a: XlnetArch, h: Value, at: AttentionInputs, prefix: string): Value {
  const p = (n: string) => `${prefix}.rel_attn.${n}`;
  const qkv = { q: heads(ctx, a, h, p('q')), k: heads(ctx, a, h, p('k')), v: heads(ctx, a, h, p('v')) };
  return postAttention(ctx, a, attentionCore(ctx, a, qkv, at, at.mask, p), h, p);
}

/** XLNetFeedForward: layer_1, activation, dropout, layer_2, dropout, residual, layer_norm. */
export function feedForward(ctx: BlockContext, a: XlnetArch, x: Value, prefix: string): Value {
  const { g } = ctx;
  const p = (n: string) => `${prefix}.ff.${n}`;
  const inner = dropout(ctx, activation(g, linear(ctx, x, p('layer_1')), a.act, ctx.mode));
  const out = dropout(ctx, linear(ctx, inner, p('layer_2')));
  return layerNorm(ctx, g.add(out, x), p('layer_norm'), a.eps);
}

/**
 * The masks and encodings every layer shares, from the batch inputs. With a `perm_mask` [B, T, T]
 * input (1: token i may not see token j; the permutation LM), XLNetModel's data_mask is padding +
 * perm_mask: the query stream's mask (`gMask`, attn_mask) blocks it all, the content stream's
 * (non_tgt_mask) all but the token itself.
 */
export function attentionInputs(ctx: BlockContext, a: XlnetArch, inputs: Readonly<Record<string, Value>>) {
  const { g } = ctx;
  const ids = inputs.input_ids as Value;
  const T = seqLength(g, ids);
  let pos = relativePositions(g, a, T.scalar);
  // pos_emb is expanded over the batch before its dropout: one mask per example, as transformers.
  if (ctx.mode === 'train' && ctx.dropout > 0)
    pos = dropout(ctx, g.expand(g.unsqueeze(pos, [0]), g.concat([g.slice(g.shape(ids), [0], [1]), g.ints([1, 1])], 0)));
  const types = inputs.token_type_ids;
  const differs = types && (g.op('Not', [g.equal(g.unsqueeze(types, [2]), g.unsqueeze(types, [1]))])[0] as Value); // [B, T, T]
  const otherSegment = differs && g.unsqueeze(g.cast(differs, g.floatType), [1]);
  const tokens = g.op('Range', [g.scalar(0, 'int64'), T.scalar, g.scalar(1, 'int64')])[0] as Value;
  const self = g.cast(g.equal(g.unsqueeze(tokens, [1]), g.unsqueeze(tokens, [0])), g.floatType); // [T, T]
  // Padding (1 - attention_mask, none without one) [B, 1, 1, T], and with a perm_mask
  // (padding + perm_mask > 0) as 0/1 [B, 1, T, T].
  const mask01 = inputs.attention_mask;
  const padding = mask01 && g.sub(1, g.cast(g.unsqueeze(mask01, [1, 2]), g.floatType));
  const perm = inputs.perm_mask && g.unsqueeze(inputs.perm_mask, [1]);
  const blocked = perm
    ? g.cast(g.op('Greater', [padding ? g.add(padding, perm) : perm, g.scalar(0)])[0] as Value, g.floatType)
    : padding;
  if (!blocked) throw new Error('XLNet attention needs an attention_mask or a perm_mask input');
  const mask = g.mul(g.mul(blocked, g.sub(1, self)), -1e30);
  return {
    pos,
    ...(otherSegment ? { otherSegment } : {}),
    mask,
    ...(perm ? { gMask: g.mul(blocked, -1e30) } : {}),
    T: T.vector,
  };
}

/** XLNetModel.forward for fine-tuning: word embeddings, the layers, the output dropout. */
export function xlnetEncode(ctx: BlockContext, a: XlnetArch, inputs: Readonly<Record<string, Value>>): EncoderOutput {
  const { g } = ctx;
  const P = (n: string) => `${a.basePrefix}.${n}`;
  let h = g.scope('embeddings', () =>
    dropout(ctx, g.gather(ctx.param(P('word_embedding.weight')), inputs.input_ids as Value)),
  );
  const at = g.scope('relative', () => attentionInputs(ctx, a, inputs));
  for (let i = 0; i < a.layers; i++) {
    const prefix = P(a.layerPrefix(i));
    h = g.scope(`layer.${i}`, () => feedForward(ctx, a, relativeAttention(ctx, a, h, at, prefix), prefix));
  }
  return { sequence: dropout(ctx, h) };
}
