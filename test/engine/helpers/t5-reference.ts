import type { Weights } from '../../../src/engine/models/model.js';
import type { T5Arch } from '../../../src/engine/models/t5/arch.js';

/**
 * The bucket of a relative position (key − query) as modeling_t5.py's _relative_position_bucket
 * writes it, here in float64 (the engine's table follows PyTorch's float32; see buckets.test).
 */
export function referenceBucket(relative: number, bidirectional: boolean, buckets: number, maxDistance: number) {
  let n = buckets;
  let bucket = 0;
  let r = relative;
  if (bidirectional) {
    n = Math.floor(n / 2);
    bucket += r > 0 ? n : 0;
    r = Math.abs(r);
  } else r = -Math.min(r, 0);
  const maxExact = Math.floor(n / 2);
  if (r < maxExact) return bucket + r;
  const large = maxExact + Math.trunc((Math.log(r / maxExact) / Math.log(maxDistance / maxExact)) * (n - maxExact));
  return bucket + Math.min(large, n - 1);
}

/**
 * T5ForConditionalGeneration written out in plain loops (float64) for one unpadded source and one
 * decoder input sequence, independent of the graph builder, as modeling_t5.py computes it in eval
 * mode: shared embeddings; per block h + SelfAttention(T5LayerNorm(h)) (no 1/√d, position bias
 * from block 0's relative_attention_bias), decoder h + EncDecAttention(norm(h), encoder output),
 * h + DenseReluDense(norm(h)) (relu, or gated act(wi_0)·wi_1 with gelu_new); final_layer_norm; LM
 * head `shared` · d_model^-0.5 when tied, else lm_head. Returns logits [T][V].
 */
export function referenceT5Logits(
  arch: T5Arch,
  weights: Weights,
  source: readonly number[],
  decoderInput: readonly number[],
): number[][] {
  const w = (name: string) => {
    const t = weights.get(name);
    if (!t) throw new Error(`reference: no weight ${name}`);
    return t.data as Float32Array;
  };
  const { hidden: H, heads, headDim: d } = arch;
  const rms = (v: readonly number[], name: string): number[] => {
    const g = w(`${name}.weight`);
    const inv = 1 / Math.sqrt(v.reduce((a, c) => a + c * c, 0) / v.length + arch.eps);
    return v.map((c, j) => c * inv * (g[j] as number));
  };
  const lin = (v: readonly number[], name: string): number[] => {
    const W = w(`${name}.weight`);
    return Array.from({ length: W.length / v.length }, (_, o) => {
      let s = 0;
      for (let i = 0; i < v.length; i++) s += (W[o * v.length + i] as number) * (v[i] as number);
      return s;
    });
  };
  const act = (z: number) =>
    arch.act === 'relu' ? Math.max(0, z) : 0.5 * z * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (z + 0.044715 * z ** 3)));
  const embed = (ids: readonly number[]) => {
    const shared = w('shared.weight');
    return ids.map((id) => Array.from({ length: H }, (_, j) => shared[id * H + j] as number));
  };
  /** Multi-head attention of `xs` over `mem`; `bias(h, t, s)` is the position bias plus the mask. */
  const attend = (xs: number[][], mem: number[][], p: string, bias: (h: number, t: number, s: number) => number) => {
    const q = xs.map((x) => lin(x, `${p}.q`));
    const k = mem.map((x) => lin(x, `${p}.k`));
    const v = mem.map((x) => lin(x, `${p}.v`));
    return xs.map((_, t) => {
      const ctx = new Array<number>(heads * d).fill(0);
      for (let h = 0; h < heads; h++) {
        const scores = k.map((ks, s) => {
          let dot = 0;
          for (let i = 0; i < d; i++) dot += (q[t]?.[h * d + i] as number) * (ks[h * d + i] as number);
          return dot + bias(h, t, s);
        });
        const m = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - m));
        const z = e.reduce((a, c) => a + c, 0);
        for (let i = 0; i < d; i++)
          ctx[h * d + i] = e.reduce((a, c, s) => a + (c / z) * (v[s]?.[h * d + i] as number), 0);
      }
      return lin(ctx, `${p}.o`);
    });
  };
  const ff = (x: number[], p: string) => {
    const inner = arch.gated
      ? lin(x, `${p}.wi_0`).map((g, i) => act(g) * (lin(x, `${p}.wi_1`)[i] as number))
      : lin(x, `${p}.wi`).map(act);
    return lin(inner, `${p}.wo`);
  };
  const add = (a: number[][], b: number[][]) => a.map((r, t) => r.map((c, j) => c + (b[t]?.[j] as number)));
  const positionBias = (stack: string, bidirectional: boolean) => {
    const table = w(`${stack}.block.0.layer.0.SelfAttention.relative_attention_bias.weight`);
    return (h: number, t: number, s: number) =>
      table[referenceBucket(s - t, bidirectional, arch.buckets, arch.maxDistance) * heads + h] as number;
  };

  let enc = embed(source);
  const encBias = positionBias('encoder', true);
  for (let i = 0; i < arch.encoderLayers; i++) {
    const p = `encoder.block.${i}`;
    const n = enc.map((x) => rms(x, `${p}.layer.0.layer_norm`));
    enc = add(enc, attend(n, n, `${p}.layer.0.SelfAttention`, encBias));
    enc = add(
      enc,
      enc.map((x) => ff(rms(x, `${p}.layer.1.layer_norm`), `${p}.layer.1.DenseReluDense`)),
    );
  }
  enc = enc.map((x) => rms(x, 'encoder.final_layer_norm'));

  let dec = embed(decoderInput);
  const selfBias = positionBias('decoder', false);
  const causal = (h: number, t: number, s: number) => (s > t ? Number.NEGATIVE_INFINITY : selfBias(h, t, s));
  for (let i = 0; i < arch.decoderLayers; i++) {
    const p = `decoder.block.${i}`;
    const n = dec.map((x) => rms(x, `${p}.layer.0.layer_norm`));
    dec = add(dec, attend(n, n, `${p}.layer.0.SelfAttention`, causal));
    const c = dec.map((x) => rms(x, `${p}.layer.1.layer_norm`));
    dec = add(
      dec,
      attend(c, enc, `${p}.layer.1.EncDecAttention`, () => 0),
    );
    dec = add(
      dec,
      dec.map((x) => ff(rms(x, `${p}.layer.2.layer_norm`), `${p}.layer.2.DenseReluDense`)),
    );
  }
  const head = w(arch.tied ? 'shared.weight' : 'lm_head.weight');
  const scale = arch.tied ? H ** -0.5 : 1;
  return dec.map((x) => {
    const n = rms(x, 'decoder.final_layer_norm').map((c) => c * scale);
    return Array.from({ length: arch.vocabSize }, (_, k) =>
      n.reduce((a, c, j) => a + c * (head[k * H + j] as number), 0),
    );
  });
}
