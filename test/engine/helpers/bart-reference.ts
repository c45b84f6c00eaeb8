import type { BartArch } from '../../../src/engine/models/bart/arch.js';
import type { Weights } from '../../../src/engine/models/model.js';
import { erfGelu, layerNorm, linear } from './xlnet-reference.js';

/**
 * BartForConditionalGeneration / MBartForConditionalGeneration / MarianMTModel written out in plain
 * loops (float64) for one unpadded source and one decoder input sequence, independent of the graph
 * builder, as modeling_bart.py / modeling_mbart.py / modeling_marian.py compute them in eval mode:
 *
 * - embeddings: shared[id] · (sqrt(d_model) if scale_embedding) + position p's row: the learned
 *   table's row p + 2 (bart, mbart), or Marian's sinusoid sin(p / 10000^(2i/d)) in column i < d/2 and
 *   cos(p / 10000^(2i/d)) in column d/2 + i; then layernorm_embedding (bart, mbart);
 * - attention: (q_proj(x) · head_dim^-0.5) · k_proj(m) per head, softmax, · v_proj(m), out_proj;
 *   decoder self-attention sees positions ≤ t;
 * - layers post-LN (bart, marian: LN(h + f(h))) or pre-LN (mbart: h + f(LN(h)), then the stack's
 *   final layer_norm); feed-forward fc2(act(fc1 x));
 * - logits: (lm_head or shared) · h + final_logits_bias. Returns logits [T][V].
 */
export function referenceBartLogits(
  arch: BartArch,
  weights: Weights,
  source: readonly number[],
  decoderInput: readonly number[],
): number[][] {
  const w = (name: string): number[] => {
    const t = weights.get(name);
    if (!t) throw new Error(`reference: no weight ${name}`);
    return Array.from(t.data as Float32Array);
  };
  const H = arch.hidden;
  const lin = (x: number[], p: string) => linear(x, w(`${p}.weight`), w(`${p}.bias`));
  const ln = (x: number[], p: string) => layerNorm(x, w(`${p}.weight`), w(`${p}.bias`), arch.eps);
  const act = (z: number) => {
    if (arch.act === 'gelu') return erfGelu(z);
    if (arch.act === 'swish' || arch.act === 'silu') return z / (1 + Math.exp(-z));
    if (arch.act === 'relu') return Math.max(0, z);
    throw new Error(`reference: activation ${arch.act}`);
  };
  const position = (stack: string, p: number): number[] => {
    if (arch.positions === 'learned') return w(`model.${stack}.embed_positions.weight`).slice((p + 2) * H, (p + 3) * H);
    const half = H / 2;
    return Array.from({ length: H }, (_, j) => {
      const i = j < half ? j : j - half;
      const angle = p / 10000 ** ((2 * i) / H);
      return j < half ? Math.sin(angle) : Math.cos(angle);
    });
  };
  const shared = w('model.shared.weight');
  const embed = (stack: string, ids: readonly number[]) =>
    ids.map((id, p) => {
      const pos = position(stack, p);
      const h = Array.from(
        { length: H },
        (_, j) => (shared[id * H + j] as number) * arch.embedScale + (pos[j] as number),
      );
      return arch.layernormEmbedding ? ln(h, `model.${stack}.layernorm_embedding`) : h;
    });
  const attend = (xs: number[][], mem: number[][], p: string, heads: number, causal: boolean) => {
    const d = H / heads;
    const q = xs.map((x) => lin(x, `${p}.q_proj`).map((v) => v * d ** -0.5));
    const k = mem.map((x) => lin(x, `${p}.k_proj`));
    const v = mem.map((x) => lin(x, `${p}.v_proj`));
    return xs.map((_, t) => {
      const ctx = new Array<number>(H).fill(0);
      for (let h = 0; h < heads; h++) {
        const visible = causal ? t + 1 : mem.length;
        const scores = k.slice(0, visible).map((ks) => {
          let dot = 0;
          for (let i = 0; i < d; i++) dot += (q[t]?.[h * d + i] as number) * (ks[h * d + i] as number);
          return dot;
        });
        const m = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - m));
        const z = e.reduce((a, c) => a + c, 0);
        for (let i = 0; i < d; i++)
          ctx[h * d + i] = e.reduce((a, c, s) => a + (c / z) * (v[s]?.[h * d + i] as number), 0);
      }
      return lin(ctx, `${p}.out_proj`);
    });
  };
  const ff = (x: number[], p: string) => lin(lin(x, `${p}.fc1`).map(act), `${p}.fc2`);
  /** A sub-layer over all positions with its residual and LayerNorm, pre- or post-LN. */
  const sub = (hs: number[][], norm: string, f: (xs: number[][]) => number[][]) => {
    if (arch.preNorm) {
      const out = f(hs.map((x) => ln(x, norm)));
      return hs.map((x, t) => x.map((c, j) => c + (out[t]?.[j] as number)));
    }
    const out = f(hs);
    return hs.map((x, t) =>
      ln(
        x.map((c, j) => c + (out[t]?.[j] as number)),
        norm,
      ),
    );
  };

  let enc = embed('encoder', source);
  for (let i = 0; i < arch.encoderLayers; i++) {
    const p = `model.encoder.layers.${i}`;
    enc = sub(enc, `${p}.self_attn_layer_norm`, (xs) => attend(xs, xs, `${p}.self_attn`, arch.encoderHeads, false));
    enc = sub(enc, `${p}.final_layer_norm`, (xs) => xs.map((x) => ff(x, p)));
  }
  if (arch.preNorm) enc = enc.map((x) => ln(x, 'model.encoder.layer_norm'));

  let dec = embed('decoder', decoderInput);
  for (let i = 0; i < arch.decoderLayers; i++) {
    const p = `model.decoder.layers.${i}`;
    dec = sub(dec, `${p}.self_attn_layer_norm`, (xs) => attend(xs, xs, `${p}.self_attn`, arch.heads, true));
    dec = sub(dec, `${p}.encoder_attn_layer_norm`, (xs) => attend(xs, enc, `${p}.encoder_attn`, arch.heads, false));
    dec = sub(dec, `${p}.final_layer_norm`, (xs) => xs.map((x) => ff(x, p)));
  }
  if (arch.preNorm) dec = dec.map((x) => ln(x, 'model.decoder.layer_norm'));
  const head = w(arch.tied ? 'model.shared.weight' : 'lm_head.weight');
  const bias = w('final_logits_bias');
  return dec.map((x) =>
    Array.from(
      { length: arch.vocabSize },
      (_, k) => (bias[k] as number) + x.reduce((a, c, j) => a + c * (head[k * H + j] as number), 0),
    ),
  );
}
