import type { Value } from '../../graph/types.js';
import {
  appendPast,
  causalMask,
  checkPast,
  type Decoder,
  type DecoderInputs,
  type DecoderOutput,
  decoderContext,
  type KeyValue,
  lmHeadProjection,
  positionsFromMask,
} from '../decoder.js';
import type { HfConfigReader } from '../hf-config.js';
import { type AdapterHook, activation, type BlockContext, dropout, linear, rmsNorm } from '../layers.js';
import type { ParamSpec } from '../model.js';
import { type LlamaArch, type LlamaLayout, llamaArch } from './arch.js';
import { rotaryTables, rotate } from './rope.js';

/**
 * The decoder of LlamaForCausalLM and the families built like it (Mistral, Qwen2, Qwen3, Phi-3),
 * as transformers' modeling_llama.py (and its siblings) computes it:
 *
 * - `model.embed_tokens`, then per layer h += o_proj(attention(input_layernorm(h))) and
 *   h += down_proj(act(gate_proj(x)) · up_proj(x)) with x = post_attention_layernorm(h), then
 *   `model.norm`; every norm an RMSNorm with `rms_norm_eps`;
 * - rotary position embeddings on queries and keys (rope.ts), after Qwen3's q_norm/k_norm;
 * - grouped-query attention: `num_key_value_heads` key/value heads, KV head j serving query heads
 *   j·r … j·r+r−1 (r = heads / kv_heads). Rather than repeating K and V r times (transformers'
 *   repeat_kv), the queries of one KV head are stacked: q [B, heads, T, d] is viewed as
 *   [B, kv, r·T, d], whose row block j is exactly query heads j·r … j·r+r−1, so one matmul per KV
 *   head gives the same scores without copying keys or values. The KV cache holds kv heads;
 * - scores scaled by head_dim^-0.5, `attention_dropout` on the probabilities (train mode only);
 * - the LM head tied to `model.embed_tokens.weight` (`tie_word_embeddings`, default false) or its
 *   own `lm_head.weight`.
 *
 * Position ids come from the attention mask (cumsum − 1; arange(T) on every real token of a
 * right-padded batch, which is what LlamaModel uses without position_ids); the cached graph takes
 * them as an input, as for GPT-2.
 */

export const LLAMA_BASE_PREFIX = 'model';
const base = (name: string) => `${LLAMA_BASE_PREFIX}.${name}`;
export const LLAMA_EMBED = base('embed_tokens.weight');
export const LLAMA_LM_HEAD = 'lm_head.weight';
export const llamaLayerPrefix = (i: number): string => base(`layers.${i}`);

/** transformers' `_init_weights`: Linear and Embedding normal(initializer_range), biases 0, RMSNorm 1. */
export function llamaSpecs(arch: LlamaArch): ParamSpec[] {
  const normal = { kind: 'normal', std: arch.initializerRange } as const;
  const { hidden: H, headDim: d, heads, kvHeads, intermediate: I, layout } = arch;
  const lin = (name: string, inp: number, out: number, bias: boolean): ParamSpec[] => [
    { name: `${name}.weight`, shape: [out, inp], init: normal },
    ...(bias ? [{ name: `${name}.bias`, shape: [out], init: { kind: 'zeros' } } as ParamSpec] : []),
  ];
  const norm = (name: string, size = H): ParamSpec => ({
    name: `${name}.weight`,
    shape: [size],
    init: { kind: 'ones' },
  });
  const specs: ParamSpec[] = [{ name: LLAMA_EMBED, shape: [arch.vocabSize, H], init: normal }];
  for (let i = 0; i < arch.layers; i++) {
    const p = llamaLayerPrefix(i);
    const attn = `${p}.self_attn`;
    specs.push(norm(`${p}.input_layernorm`));
    if (layout.fused) specs.push(...lin(`${attn}.qkv_proj`, H, (heads + 2 * kvHeads) * d, layout.qkvBias));
    else {
      specs.push(
        ...lin(`${attn}.q_proj`, H, heads * d, layout.qkvBias),
        ...lin(`${attn}.k_proj`, H, kvHeads * d, layout.qkvBias),
        ...lin(`${attn}.v_proj`, H, kvHeads * d, layout.qkvBias),
      );
    }
    specs.push(...lin(`${attn}.o_proj`, heads * d, H, layout.oBias));
    if (layout.qkNorm) specs.push(norm(`${attn}.q_norm`, d), norm(`${attn}.k_norm`, d));
    specs.push(norm(`${p}.post_attention_layernorm`));
    const mlp = `${p}.mlp`;
    if (layout.fused) specs.push(...lin(`${mlp}.gate_up_proj`, H, 2 * I, layout.mlpBias));
    else specs.push(...lin(`${mlp}.gate_proj`, H, I, layout.mlpBias), ...lin(`${mlp}.up_proj`, H, I, layout.mlpBias));
    specs.push(...lin(`${mlp}.down_proj`, I, H, layout.mlpBias));
  }
  specs.push(norm(base('norm')));
  if (!arch.tied) specs.push({ name: LLAMA_LM_HEAD, shape: [arch.vocabSize, H], init: normal });
  return specs;
}

/**
 * Checkpoint tensors the LM class ignores on load: rotary `inv_freq` buffers older checkpoints carry
 * (`model.layers.N.self_attn.rotary_emb.inv_freq`), and a stored `lm_head.weight` of a tied model.
 */
export function isIgnoredLlamaTensor(name: string, arch: LlamaArch): boolean {
  return /(^|\.)rotary_emb\.inv_freq$/.test(name) || (arch.tied && name === LLAMA_LM_HEAD);
}

/** q, k, v of one layer, split into heads. // [B, heads|kvHeads, T, headDim] */
function projections(ctx: BlockContext, arch: LlamaArch, x: Value, attn: string): [Value, Value, Value] {
  const { g } = ctx;
  const { heads, kvHeads, headDim: d, layout } = arch;
  const bias = { bias: layout.qkvBias };
  const [q, k, v] = layout.fused
    ? (g.split(linear(ctx, x, `${attn}.qkv_proj`, bias), [heads * d, kvHeads * d, kvHeads * d], -1) as [
        Value,
        Value,
        Value,
      ])
    : [
        linear(ctx, x, `${attn}.q_proj`, bias),
        linear(ctx, x, `${attn}.k_proj`, bias),
        linear(ctx, x, `${attn}.v_proj`, bias),
      ];
  const split = (t: Value, n: number, norm?: string) => {
    let heads4 = g.reshape(t, [0, 0, n, d]); // [B, T, n, d]
    if (norm) heads4 = rmsNorm(ctx, heads4, `${norm}.weight`, arch.eps);
    return g.transpose(heads4, [0, 2, 1, 3]); // [B, n, T, d]
  };
  return [
    split(q, heads, layout.qkNorm ? `${attn}.q_norm` : undefined),
    split(k, kvHeads, layout.qkNorm ? `${attn}.k_norm` : undefined),
    split(v, kvHeads),
  ];
}

function attention(
  ctx: BlockContext,
  arch: LlamaArch,
  x: Value,
  rope: { cos: Value; sin: Value },
  mask: Value,
  p: string,
  past: KeyValue | undefined,
): { out: Value; present: KeyValue } {
  const { g } = ctx;
  const { heads, kvHeads, headDim: d } = arch;
  const attn = `${p}.self_attn`;
  const [q0, k0, v] = projections(ctx, arch, x, attn);
  const q = rotate(g, q0, rope, arch.rope.dims, d);
  const { key, value } = appendPast(g, past, { key: rotate(g, k0, rope, arch.rope.dims, d), value: v }); // [B, kv, P + T, d]
  const grouped = kvHeads !== heads;
  // Grouped: [B, heads, T, d] viewed as [B, kv, r·T, d] (see the file comment), and back.
  const byKv = (t: Value) => (grouped ? g.reshape(t, [0, kvHeads, -1, 0]) : t);
  const byHead = (t: Value) => (grouped ? g.reshape(t, [0, heads, -1, 0]) : t);
  const scores = g.mul(byHead(g.matmul(byKv(q), g.transpose(key, [0, 1, 3, 2]))), d ** -0.5); // [B, heads, T, P + T]
  const probs = dropout(ctx, g.softmax(g.add(scores, mask), -1), arch.attnDropout);
  const context = byHead(g.matmul(byKv(probs), value)); // [B, heads, T, d]
  const merged = g.reshape(g.transpose(context, [0, 2, 1, 3]), [0, 0, heads * d]); // [B, T, heads·d]
  const out = linear(ctx, merged, `${attn}.o_proj`, { bias: arch.layout.oBias });
  return { out: dropout(ctx, out, arch.residDropout), present: { key, value } };
}

/** SwiGLU: down_proj(act(gate) · up), gate and up from two projections or Phi-3's fused one. */
function mlp(ctx: BlockContext, arch: LlamaArch, x: Value, p: string): Value {
  const { g } = ctx;
  const bias = { bias: arch.layout.mlpBias };
  const [gate, up] = arch.layout.fused
    ? (g.split(linear(ctx, x, `${p}.mlp.gate_up_proj`, bias), [arch.intermediate, arch.intermediate], -1) as [
        Value,
        Value,
      ])
    : [linear(ctx, x, `${p}.mlp.gate_proj`, bias), linear(ctx, x, `${p}.mlp.up_proj`, bias)];
  const down = linear(ctx, g.mul(activation(g, gate, arch.act, ctx.mode), up), `${p}.mlp.down_proj`, bias);
  return dropout(ctx, down, arch.residDropout);
}

/** LlamaModel: embeddings, the pre-RMSNorm blocks, the final norm. */
export function llamaForward(ctx: BlockContext, arch: LlamaArch, inputs: DecoderInputs): DecoderOutput {
  const { g, param } = ctx;
  const ids = inputs.inputIds;
  const withPast = checkPast(arch, inputs, arch.family);
  let h = g.scope('embeddings', () => g.gather(param(LLAMA_EMBED), ids)); // [B, T, H]
  const rope = g.scope('rotary', () =>
    rotaryTables(g, arch.rope, inputs.positionIds ?? positionsFromMask(g, inputs.attentionMask)),
  );
  const mask = g.scope('mask', () => causalMask(g, ids, inputs.attentionMask, withPast));
  const present: KeyValue[] = [];
  for (let i = 0; i < arch.layers; i++) {
    const p = llamaLayerPrefix(i);
    h = g.scope(`layers.${i}`, () => {
      const x = rmsNorm(ctx, h, `${p}.input_layernorm.weight`, arch.eps);
      const attended = attention(ctx, arch, x, rope, mask, p, inputs.past?.[i]);
      present.push(attended.present);
      const r = g.add(h, attended.out);
      return g.add(r, mlp(ctx, arch, rmsNorm(ctx, r, `${p}.post_attention_layernorm.weight`, arch.eps), p));
    });
  }
  return { hidden: rmsNorm(ctx, h, base('norm.weight'), arch.eps), present };
}

/** The Llama-like `Decoder` of a family: `layoutOf` reads what the family changes from config.json. */
export function llamaLikeDecoder(family: string, layoutOf: (cfg: HfConfigReader) => LlamaLayout) {
  return (cfg: HfConfigReader, o: { dropout?: number; adapters?: AdapterHook } = {}): Decoder => {
    const arch = llamaArch(cfg, family, layoutOf(cfg), o.dropout);
    return {
      arch,
      params: llamaSpecs(arch),
      context: (g, param, mode) => decoderContext(g, param, mode, arch, o.adapters),
      forward: (ctx, inputs) => llamaForward(ctx, arch, inputs),
      lmHead: (ctx, hidden) => lmHeadProjection(ctx.g, hidden, ctx.param(arch.tied ? LLAMA_EMBED : LLAMA_LM_HEAD)),
      isIgnoredTensor: (name) => isIgnoredLlamaTensor(name, arch),
    };
  };
}
