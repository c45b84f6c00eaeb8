import type { GraphBuilder } from '../../graph/builder.js';
import type { Value } from '../../graph/types.js';
import type { BlockContext } from '../layers.js';
import { type BartArch, LEARNED_POSITION_OFFSET } from './arch.js';

/**
 * MarianSinusoidalPositionalEmbedding's table [n_pos, dim]: position_enc[p][j] = p / 10000^(2·(j // 2) / dim)
 * in float64; the first ceil(dim / 2) columns are sin of its even columns, the rest cos of its odd
 * columns (not interleaved), then rounded to float32 as torch.FloatTensor does. These are not
 * weights: transformers' MarianMTModel does not save them (`_keys_to_ignore_on_save`) and ignores
 * stored ones, so the engine keeps them as a graph constant.
 */
export function sinusoidalTable(positions: number, dim: number): Float32Array {
  const out = new Float32Array(positions * dim);
  const sentinel = dim % 2 === 0 ? dim / 2 : (dim + 1) / 2;
  const angle = (p: number, j: number) => p / 10000 ** ((2 * Math.floor(j / 2)) / dim);
  for (let p = 0; p < positions; p++) {
    for (let i = 0; i < sentinel; i++) out[p * dim + i] = Math.sin(angle(p, 2 * i));
    for (let i = 0; i < dim - sentinel; i++) out[p * dim + sentinel + i] = Math.cos(angle(p, 2 * i + 1));
  }
  return out;
}

/** `past`, `past` + 1, …, `past` + T − 1 for ids [B, T]; `past` an int64 [1] (0 without a cache). // [T] int64 */
function positionRange(g: GraphBuilder, ids: Value, past: Value): Value {
  const length = g.slice(g.shape(ids), [1], [2]);
  const end = g.add(past, length);
  return g.op('Range', [g.squeeze(past, [0]), g.squeeze(end, [0]), g.scalar(1, 'int64')])[0] as Value;
}

/**
 * The position embeddings of tokens `ids` [B, T] that follow `past` earlier ones (an int64 [1]): the
 * learned table's rows p + 2 (BartLearnedPositionalEmbedding) or the sinusoidal table's rows p. // [T, H]
 */
export function positionEmbeddings(ctx: BlockContext, arch: BartArch, stack: string, ids: Value, past: Value): Value {
  const { g } = ctx;
  const positions = positionRange(g, ids, past);
  if (arch.positions === 'learned') {
    const table = ctx.param(`model.${stack}.embed_positions.weight`);
    return g.gather(table, g.add(positions, g.scalar(LEARNED_POSITION_OFFSET, 'int64')));
  }
  const table = g.constant(sinusoidalTable(arch.maxPositions, arch.hidden), [arch.maxPositions, arch.hidden]);
  return g.gather(table, positions);
}
