import type { Gpt2Arch } from '../../../src/engine/models/gpt2/model.js';
import type { Weights } from '../../../src/engine/models/model.js';

/**
 * GPT-2 written out in plain loops (float64), independent of the graph builder, as transformers'
 * GPT2LMHeadModel computes it for one unpadded sequence: wte + wpe, per block
 * x + c_proj(attn(ln_1(x))) and x + mlp(ln_2(x)) with Conv1D weights [in, out], causal attention
 * scaled by 1/sqrt(head_dim), gelu_new, ln_f, logits = h · wteᵀ. Returns logits [T][V].
 */
export function referenceLogits(arch: Gpt2Arch, weights: Weights, ids: readonly number[]): number[][] {
  const w = (name: string) => {
    const t = weights.get(`transformer.${name}`);
    if (!t) throw new Error(`reference: no weight ${name}`);
    return t.data as Float32Array;
  };
  const H = arch.hidden;
  const T = ids.length;
  const nh = arch.heads;
  const hd = H / nh;
  const wte = w('wte.weight');
  const wpe = w('wpe.weight');
  let x = ids.map((id, t) =>
    Array.from({ length: H }, (_, j) => (wte[id * H + j] as number) + (wpe[t * H + j] as number)),
  );
  const ln = (v: number[], name: string) => {
    const g = w(`${name}.weight`);
    const b = w(`${name}.bias`);
    const mean = v.reduce((a, c) => a + c, 0) / v.length;
    const vari = v.reduce((a, c) => a + (c - mean) ** 2, 0) / v.length;
    const inv = 1 / Math.sqrt(vari + arch.eps);
    return v.map((c, j) => (c - mean) * inv * (g[j] as number) + (b[j] as number));
  };
  const conv = (v: number[], name: string) => {
    const W = w(`${name}.weight`);
    const b = w(`${name}.bias`);
    const out = b.length;
    const y = Array.from(b);
    for (let i = 0; i < v.length; i++) {
      const vi = v[i] as number;
      for (let o = 0; o < out; o++) y[o] = (y[o] as number) + vi * (W[i * out + o] as number);
    }
    return y as number[];
  };
  const gelu = (z: number) => 0.5 * z * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (z + 0.044715 * z ** 3)));
  for (let l = 0; l < arch.layers; l++) {
    const p = `h.${l}`;
    const qkv = x.map((v) => conv(ln(v, `${p}.ln_1`), `${p}.attn.c_attn`));
    const ctx = x.map(() => new Array<number>(H).fill(0));
    for (let h = 0; h < nh; h++) {
      for (let t = 0; t < T; t++) {
        const scores: number[] = [];
        for (let s = 0; s <= t; s++) {
          let dot = 0;
          for (let d = 0; d < hd; d++) dot += (qkv[t]?.[h * hd + d] as number) * (qkv[s]?.[H + h * hd + d] as number);
          scores.push(dot / Math.sqrt(hd));
        }
        const m = Math.max(...scores);
        const e = scores.map((c) => Math.exp(c - m));
        const z = e.reduce((a, c) => a + c, 0);
        for (let s = 0; s <= t; s++)
          for (let d = 0; d < hd; d++)
            (ctx[t] as number[])[h * hd + d] =
              ((ctx[t] as number[])[h * hd + d] as number) +
              ((e[s] as number) / z) * (qkv[s]?.[2 * H + h * hd + d] as number);
      }
    }
    x = x.map((v, t) => {
      const attn = conv(ctx[t] as number[], `${p}.attn.c_proj`);
      return v.map((c, j) => c + (attn[j] as number));
    });
    x = x.map((v) => {
      const inner = conv(ln(v, `${p}.ln_2`), `${p}.mlp.c_fc`).map(gelu);
      const out = conv(inner, `${p}.mlp.c_proj`);
      return v.map((c, j) => c + (out[j] as number));
    });
  }
  return x.map((v) => {
    const h = ln(v, 'ln_f');
    return Array.from({ length: arch.vocabSize }, (_, k) => {
      let dot = 0;
      for (let j = 0; j < H; j++) dot += (h[j] as number) * (wte[k * H + j] as number);
      return dot;
    });
  });
}

/** Σ_t -log softmax(logits[t])[ids[t + 1]]: the summed next-token NLL of one sequence. */
export function referenceNll(logits: readonly number[][], ids: readonly number[]): number {
  let nll = 0;
  for (let t = 0; t + 1 < ids.length; t++) {
    const row = logits[t] as number[];
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((a, c) => a + Math.exp(c - m), 0));
    nll += lse - (row[ids[t + 1] as number] as number);
  }
  return nll;
}
