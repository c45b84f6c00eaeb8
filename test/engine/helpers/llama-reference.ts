import type { LlamaArch } from '../../../src/engine/models/llama/arch.js';
import type { Weights } from '../../../src/engine/models/model.js';

/**
 * A Llama-like causal LM written out in plain loops (float64), independent of the graph builder, as
 * transformers' modeling_llama.py (with the Qwen2/Qwen3/Mistral/Phi-3 variations of `arch.layout`)
 * computes it for one unpadded sequence at positions 0..T-1: embed_tokens, per layer
 * h + o_proj(attn(input_layernorm(h))) and h + down_proj(silu(gate) · up)(post_attention_layernorm(h)),
 * RMSNorm x / sqrt(mean(x²) + eps) · w, rotate_half RoPE over the first `rope.dims` of each head
 * with cos/sin of t · inv_freq, query head h reading KV head floor(h / (heads / kv_heads)) (repeat_kv),
 * then the final norm and the (tied or own) head. Returns logits [T][V].
 */
export function referenceLlamaLogits(arch: LlamaArch, weights: Weights, ids: readonly number[]): number[][] {
  const w = (name: string) => {
    const t = weights.get(name);
    if (!t) throw new Error(`reference: no weight ${name}`);
    return t.data as Float32Array;
  };
  const has = (name: string) => weights.has(name);
  const { hidden: H, heads, kvHeads, headDim: d, layout } = arch;
  const T = ids.length;
  const embed = w('model.embed_tokens.weight');
  const rms = (v: readonly number[], name: string): number[] => {
    const g = w(name);
    const inv = 1 / Math.sqrt(v.reduce((a, c) => a + c * c, 0) / v.length + arch.eps);
    return v.map((c, j) => c * inv * (g[j] as number));
  };
  /** y = W v + b, W [out, in] */
  const lin = (v: readonly number[], name: string): number[] => {
    const W = w(`${name}.weight`);
    const out = W.length / v.length;
    const b = has(`${name}.bias`) ? w(`${name}.bias`) : undefined;
    return Array.from({ length: out }, (_, o) => {
      let s = b ? (b[o] as number) : 0;
      for (let i = 0; i < v.length; i++) s += (W[o * v.length + i] as number) * (v[i] as number);
      return s;
    });
  };
  const rot = arch.rope.dims;
  const rope = (head: number[], t: number): number[] => {
    const out = [...head];
    for (let i = 0; i < rot; i++) {
      const f = t * (arch.rope.invFreq[i % (rot / 2)] as number);
      const partner = i < rot / 2 ? -(head[i + rot / 2] as number) : (head[i - rot / 2] as number);
      out[i] = (head[i] as number) * Math.cos(f) + partner * Math.sin(f);
    }
    return out;
  };
  const silu = (z: number) => z / (1 + Math.exp(-z));
  let x = ids.map((id) => Array.from({ length: H }, (_, j) => embed[id * H + j] as number));
  for (let l = 0; l < arch.layers; l++) {
    const p = `model.layers.${l}`;
    const attn = `${p}.self_attn`;
    const qkv = x.map((v) => {
      const n = rms(v, `${p}.input_layernorm.weight`);
      if (!layout.fused) return [lin(n, `${attn}.q_proj`), lin(n, `${attn}.k_proj`), lin(n, `${attn}.v_proj`)];
      const all = lin(n, `${attn}.qkv_proj`);
      return [all.slice(0, heads * d), all.slice(heads * d, (heads + kvHeads) * d), all.slice((heads + kvHeads) * d)];
    });
    const headOf = (vec: readonly number[], h: number, t: number, norm?: string, rotate = true) => {
      let head = vec.slice(h * d, (h + 1) * d);
      if (norm) head = rms(head, norm);
      return rotate ? rope(head, t) : head;
    };
    const ctx = x.map(() => new Array<number>(heads * d).fill(0));
    for (let h = 0; h < heads; h++) {
      const kv = Math.floor(h / (heads / kvHeads));
      const qs = qkv.map((r, t) => headOf(r[0] as number[], h, t, layout.qkNorm ? `${attn}.q_norm.weight` : undefined));
      const ks = qkv.map((r, t) =>
        headOf(r[1] as number[], kv, t, layout.qkNorm ? `${attn}.k_norm.weight` : undefined),
      );
      const vs = qkv.map((r, t) => headOf(r[2] as number[], kv, t, undefined, false));
      for (let t = 0; t < T; t++) {
        const scores = ks
          .slice(0, t + 1)
          .map((k) => k.reduce((a, c, i) => a + c * (qs[t]?.[i] as number), 0) / Math.sqrt(d));
        const m = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - m));
        const z = e.reduce((a, c) => a + c, 0);
        for (let i = 0; i < d; i++) {
          (ctx[t] as number[])[h * d + i] = e.reduce((a, c, j) => a + (c / z) * (vs[j]?.[i] as number), 0);
        }
      }
    }
    x = x.map((v, t) => {
      const r = lin(ctx[t] as number[], `${attn}.o_proj`).map((c, j) => c + (v[j] as number));
      const n = rms(r, `${p}.post_attention_layernorm.weight`);
      let gate: number[];
      let up: number[];
      if (layout.fused) {
        const gu = lin(n, `${p}.mlp.gate_up_proj`);
        gate = gu.slice(0, arch.intermediate);
        up = gu.slice(arch.intermediate);
      } else {
        gate = lin(n, `${p}.mlp.gate_proj`);
        up = lin(n, `${p}.mlp.up_proj`);
      }
      const down = lin(
        gate.map((g, i) => silu(g) * (up[i] as number)),
        `${p}.mlp.down_proj`,
      );
      return down.map((c, j) => c + (r[j] as number));
    });
  }
  const head = w(arch.tied ? 'model.embed_tokens.weight' : 'lm_head.weight');
  return x.map((v) => {
    const n = rms(v, 'model.norm.weight');
    return Array.from({ length: arch.vocabSize }, (_, k) =>
      n.reduce((a, c, j) => a + c * (head[k * H + j] as number), 0),
    );
  });
}
