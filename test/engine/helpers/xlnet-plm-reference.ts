// XLNetLMHeadModel's permutation-LM forward written out as plain float64 loops from the formulas of
// transformers' modeling_xlnet.py (XLNetModel.forward with perm_mask, target_mapping and an
// optional attention_mask, no token_type_ids so no segment term; XLNetRelativeAttention's two
// streams; lm_loss tied to the word embedding; CrossEntropyLoss with ignore_index -100). Masks are
// taken straight from their definitions (data_mask = (1 - attention_mask) + perm_mask; attn_mask
// blocks it, non_tgt_mask keeps the token itself), the position term at the relative distance
// directly (no rel_shift), and target_mapping as a general matrix, so the graph's einsum rewrites
// are checked, not copied.
import type { TensorData } from '../../../src/engine/graph/types.js';
import { tensorNumbers } from '../../../src/engine/graph/types.js';
import type { XlnetArch } from '../../../src/engine/models/xlnet/arch.js';
import { dot, erfGelu, layerNorm, linear, plus, positionEncoding, project, row } from './xlnet-reference.js';

export interface PlmBatch {
  ids: number[][];
  /** [B][T][T]: 1 where token i may not see token j. */
  permMask: number[][][];
  /** [B][M][T]: prediction m reads token t. */
  targetMapping: number[][][];
  /** [B][M], -100 where nothing is predicted. */
  labels: number[][];
  /** [B][T]: 0 on padding (attention_mask); all ones when absent. */
  mask?: number[][];
}

type W = (name: string) => number[];
type Vectors = number[][]; // [positions][H]
type Heads = number[][][]; // [positions][N][D]

/** rel_attn_core for queries at positions 0..L-1 against keys/values at 0..T-1, blocked(i, j) masked. */
function core(
  a: XlnetArch,
  p: (n: string) => number[],
  q: Heads,
  k: Heads,
  v: Heads,
  blocked: (i: number, j: number) => boolean,
): Heads {
  const { heads: N, headSize: D } = a;
  const bias = (name: string, n: number) => row(p(`rel_attn.${name}`), n, D);
  return q.map((qi, i) =>
    Array.from({ length: N }, (_, n) => {
      const scores = k.map((kj, j) => {
        const kr = project(positionEncoding(a, i - j), p('rel_attn.r'), a)[n] as number[];
        const ac = dot(plus(qi[n] as number[], bias('r_w_bias', n)), kj[n] as number[]);
        const bd = dot(plus(qi[n] as number[], bias('r_r_bias', n)), kr);
        const s = (ac + bd) / Math.sqrt(D);
        return blocked(i, j) ? s - 1e30 : s;
      });
      const top = Math.max(...scores);
      const e = scores.map((s) => Math.exp(s - top));
      const z = e.reduce((s, u) => s + u, 0);
      return Array.from({ length: D }, (_, d) => e.reduce((s, u, j) => s + (u / z) * (v[j]?.[n]?.[d] as number), 0));
    }),
  );
}

/** post_attention then XLNetFeedForward, for each position. */
function postAndFeedForward(a: XlnetArch, p: (n: string) => number[], vec: Heads, residual: Vectors): Vectors {
  const { heads: N, headSize: D } = a;
  return vec.map((heads, i) => {
    const flat = heads.flat();
    const attn = Array.from({ length: a.hidden }, (_, hh) => dot(flat, row(p('rel_attn.o'), hh, N * D)));
    const h1 = layerNorm(
      plus(attn, residual[i] as number[]),
      p('rel_attn.layer_norm.weight'),
      p('rel_attn.layer_norm.bias'),
      a.eps,
    );
    const inner = linear(h1, p('ff.layer_1.weight'), p('ff.layer_1.bias')).map(erfGelu);
    const ff = linear(inner, p('ff.layer_2.weight'), p('ff.layer_2.bias'));
    return layerNorm(plus(ff, h1), p('ff.layer_norm.weight'), p('ff.layer_norm.bias'), a.eps);
  });
}

/** Σ_m map[m][l] x[m] for each l (transpose = false: Σ_l map[m][l] x[l] for each m). */
function mapHeads(map: number[][], x: Heads, transpose: boolean): Heads {
  const rows = transpose ? (map[0] as number[]).length : map.length;
  const weight = (r: number, m: number) => (transpose ? (map[m] as number[])[r] : (map[r] as number[])[m]) as number;
  const N = (x[0] as number[][]).length;
  const D = ((x[0] as number[][])[0] as number[]).length;
  return Array.from({ length: rows }, (_, r) =>
    Array.from({ length: N }, (_, n) =>
      Array.from({ length: D }, (_, d) => x.reduce((s, xm, m) => s + weight(r, m) * (xm[n]?.[d] as number), 0)),
    ),
  );
}

/** Logits [B][M][V] and the mean cross-entropy over the labels that are not -100. */
export function referencePlm(
  a: XlnetArch,
  weights: ReadonlyMap<string, TensorData>,
  batch: PlmBatch,
): { logits: number[][][]; loss: number } {
  const w: W = (name) => {
    const t = weights.get(name);
    if (!t) throw new Error(`no weight ${name}`);
    return tensorNumbers(t);
  };
  const table = w('transformer.word_embedding.weight');
  const maskEmb = w('transformer.mask_emb');
  const logits = batch.ids.map((ids, b) => {
    const perm = batch.permMask[b] as number[][];
    const map = batch.targetMapping[b] as number[][];
    let h: Vectors = ids.map((id) => row(table, id, a.hidden));
    let g: Vectors = map.map(() => maskEmb);
    for (let l = 0; l < a.layers; l++) {
      const p = (n: string) => w(`transformer.layer.${l}.${n}`);
      const k = h.map((x) => project(x, p('rel_attn.k'), a));
      const v = h.map((x) => project(x, p('rel_attn.v'), a));
      const qH = h.map((x) => project(x, p('rel_attn.q'), a));
      const blockedG = (i: number, j: number) => (perm[i]?.[j] as number) > 0 || batch.mask?.[b]?.[j] === 0; // attn_mask
      const blockedH = (i: number, j: number) => blockedG(i, j) && i !== j; // non_tgt_mask
      const nextH = postAndFeedForward(a, p, core(a, p, qH, k, v, blockedH), h);
      const qG = mapHeads(
        map,
        g.map((x) => project(x, p('rel_attn.q'), a)),
        true,
      ); // "mbnd,mlb->lbnd"
      const vecG = mapHeads(map, core(a, p, qG, k, v, blockedG), false); // "lbnd,mlb->mbnd"
      g = postAndFeedForward(a, p, vecG, g);
      h = nextH;
    }
    const bias = w('lm_loss.bias');
    return g.map((x) => bias.map((bv, id) => bv + dot(x, row(table, id, a.hidden))));
  });
  let nll = 0;
  let count = 0;
  for (const [b, rows] of logits.entries())
    for (const [m, z] of rows.entries()) {
      const label = batch.labels[b]?.[m] as number;
      if (label === -100) continue;
      const top = Math.max(...z);
      const logSum = top + Math.log(z.reduce((s, u) => s + Math.exp(u - top), 0));
      nll += logSum - (z[label] as number);
      count++;
    }
  return { logits, loss: nll / count };
}
