// XLNet's fine-tuning forward pass written out as plain float64 loops, straight from the formulas of
// transformers' modeling_xlnet.py (XLNetRelativeAttention.rel_attn_core, post_attention,
// XLNetFeedForward, XLNetSequenceSummary with summary_type 'last', logits_proj), with the
// position term taken at the relative distance i - j directly (no rel_shift), so the graph's
// rel_shift is checked, not copied.
import { type TensorData, tensorNumbers, tensorOf } from '../../../src/engine/graph/types.js';
import type { ParamSpec } from '../../../src/engine/models/model.js';
import type { XlnetArch } from '../../../src/engine/models/xlnet/arch.js';
import { normal, rng } from '../../../src/engine/util/random.js';

export interface XlnetBatch {
  ids: number[][];
  types: number[][];
  mask: number[][];
}

type W = (name: string) => number[];
type Terms = { ac: number[][][][]; bd: number[][][][]; ef: number[][][][] };

export const erfGelu = (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2));

/** Abramowitz-Stegun 7.1.26 is too coarse for 1e-6; this is the series/continued-fraction pair. */
function erf(x: number): number {
  const t = Math.abs(x);
  if (t < 3) {
    let sum = t;
    let term = t;
    for (let n = 1; n < 200; n++) {
      term *= (-t * t) / n;
      sum += term / (2 * n + 1);
      if (Math.abs(term) < 1e-17) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc continued fraction for large |x|.
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (t + f);
  const erfc = Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + f);
  return Math.sign(x) * (1 - erfc);
}

export function layerNorm(x: number[], w: number[], b: number[], eps: number): number[] {
  const mean = x.reduce((s, v) => s + v, 0) / x.length;
  const variance = x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length;
  return x.map((v, i) => ((v - mean) / Math.sqrt(variance + eps)) * (w[i] as number) + (b[i] as number));
}

/** sin/cos encoding of a relative distance, clamped to ±clamp_len when it is > 0. */
export function positionEncoding(a: XlnetArch, distance: number): number[] {
  const r = a.clampLen > 0 ? Math.max(-a.clampLen, Math.min(a.clampLen, distance)) : distance;
  const half = a.hidden / 2;
  const inv = Array.from({ length: half }, (_, i) => 1 / 10000 ** ((2 * i) / a.hidden));
  return [...inv.map((f) => Math.sin(r * f)), ...inv.map((f) => Math.cos(r * f))];
}

/** x [H] through an einsum weight [H, N, D] ("ibh,hnd->ibnd"). */
export function project(x: number[], w: number[], a: XlnetArch): number[][] {
  const { heads: N, headSize: D, hidden: H } = a;
  return Array.from({ length: N }, (_, n) =>
    Array.from({ length: D }, (_, d) => {
      let s = 0;
      for (let h = 0; h < H; h++) s += (x[h] as number) * (w[(h * N + n) * D + d] as number);
      return s;
    }),
  );
}

export const dot = (x: number[], y: number[]) => x.reduce((s, v, i) => s + v * (y[i] as number), 0);
export const plus = (x: number[], y: number[]) => x.map((v, i) => v + (y[i] as number));
export const row = (flat: number[], r: number, width: number) => flat.slice(r * width, (r + 1) * width);

export function linear(x: number[], w: number[], b: number[]): number[] {
  return b.map((bias, o) => bias + dot(x, row(w, o, x.length)));
}

/** One layer: returns the new hidden states and the three score terms (before scaling). */
function layer(
  a: XlnetArch,
  w: W,
  l: number,
  hs: number[][][],
  batch: XlnetBatch,
): { out: number[][][]; terms: Terms } {
  const p = (n: string) => w(`transformer.layer.${l}.${n}`);
  const { heads: N, headSize: D } = a;
  const terms: Terms = { ac: [], bd: [], ef: [] };
  const out = hs.map((h, b) => {
    const T = h.length;
    const q = h.map((x) => project(x, p('rel_attn.q'), a));
    const k = h.map((x) => project(x, p('rel_attn.k'), a));
    const v = h.map((x) => project(x, p('rel_attn.v'), a));
    const bias = (name: string, n: number) => row(p(`rel_attn.${name}`), n, D);
    const seg = (s: number, n: number) => p('rel_attn.seg_embed').slice((s * N + n) * D, (s * N + n + 1) * D);
    const ac: number[][][] = [];
    const bd: number[][][] = [];
    const ef: number[][][] = [];
    for (let n = 0; n < N; n++) {
      const acN: number[][] = [];
      const bdN: number[][] = [];
      const efN: number[][] = [];
      for (let i = 0; i < T; i++) {
        const qi = (q[i] as number[][])[n] as number[];
        const acI: number[] = [];
        const bdI: number[] = [];
        const efI: number[] = [];
        for (let j = 0; j < T; j++) {
          const kr = project(positionEncoding(a, i - j), p('rel_attn.r'), a)[n] as number[];
          const other = (batch.types[b] as number[])[i] !== (batch.types[b] as number[])[j] ? 1 : 0;
          acI.push(dot(plus(qi, bias('r_w_bias', n)), (k[j] as number[][])[n] as number[]));
          bdI.push(dot(plus(qi, bias('r_r_bias', n)), kr));
          efI.push(dot(plus(qi, bias('r_s_bias', n)), seg(other, n)));
        }
        acN.push(acI);
        bdN.push(bdI);
        efN.push(efI);
      }
      ac.push(acN);
      bd.push(bdN);
      ef.push(efN);
    }
    terms.ac.push(ac);
    terms.bd.push(bd);
    terms.ef.push(ef);
    const mask = batch.mask[b] as number[];
    return h.map((x, i) => {
      const vec: number[] = [];
      for (let n = 0; n < N; n++) {
        const scores = Array.from({ length: T }, (_, j) => {
          const s =
            ((ac[n]?.[i]?.[j] as number) + (bd[n]?.[i]?.[j] as number) + (ef[n]?.[i]?.[j] as number)) / Math.sqrt(D);
          return mask[j] === 0 && j !== i ? s - 1e30 : s; // non_tgt_mask
        });
        const top = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - top));
        const z = e.reduce((s, u) => s + u, 0);
        for (let d = 0; d < D; d++)
          vec.push(e.reduce((s, u, j) => s + (u / z) * ((v[j] as number[][])[n]?.[d] as number), 0));
      }
      // "ibnd,hnd->ibh": o read as [H, N*D].
      const attn = Array.from({ length: a.hidden }, (_, hh) => dot(vec, row(p('rel_attn.o'), hh, N * D)));
      const h1 = layerNorm(plus(attn, x), p('rel_attn.layer_norm.weight'), p('rel_attn.layer_norm.bias'), a.eps);
      const inner = linear(h1, p('ff.layer_1.weight'), p('ff.layer_1.bias')).map(erfGelu);
      const ff = linear(inner, p('ff.layer_2.weight'), p('ff.layer_2.bias'));
      return layerNorm(plus(ff, h1), p('ff.layer_norm.weight'), p('ff.layer_norm.bias'), a.eps);
    });
  });
  return { out, terms };
}

/** Layer 0's terms [B][N][T][T] and the sequence-classification logits [B][labels]. */
export function referenceXlnet(
  a: XlnetArch,
  weights: ReadonlyMap<string, TensorData>,
  batch: XlnetBatch,
): { terms: Terms; logits: number[][] } {
  const w: W = (name) => {
    const t = weights.get(name);
    if (!t) throw new Error(`no weight ${name}`);
    return tensorNumbers(t);
  };
  const table = w('transformer.word_embedding.weight');
  let hs = batch.ids.map((ids) => ids.map((id) => row(table, id, a.hidden)));
  let first: Terms | undefined;
  for (let l = 0; l < a.layers; l++) {
    const { out, terms } = layer(a, w, l, hs, batch);
    first ??= terms;
    hs = out;
  }
  const logits = hs.map((h) => {
    const last = h[h.length - 1] as number[];
    const summary = linear(last, w('sequence_summary.summary.weight'), w('sequence_summary.summary.bias')).map(
      Math.tanh,
    );
    return linear(summary, w('logits_proj.weight'), w('logits_proj.bias'));
  });
  return { terms: first as Terms, logits };
}

/** Every weight random (LayerNorm scales and biases too), so no term hides behind an init of 0 or 1. */
export function randomWeights(specs: readonly ParamSpec[], seed: number): Map<string, TensorData> {
  const rand = rng(seed);
  return new Map(
    specs.map((s) => {
      const n = s.shape.reduce((x, y) => x * y, 1);
      const center = s.init.kind === 'ones' ? 1 : 0;
      return [
        s.name,
        tensorOf(
          'float32',
          s.shape,
          Array.from({ length: n }, () => center + 0.3 * normal(rand)),
        ),
      ];
    }),
  );
}
