import { attr, type GraphBuilder } from './builder.js';
import type { Value } from './types.js';

/**
 * Sums the rows of `updates` [N, ...rest] that share an id in `ids` [N]: the distinct ids in
 * ascending order [U] (`rows`) and each one's row sum [U, ...rest] (`sums`). This is the gradient
 * of an embedding lookup, and it is deterministic.
 *
 * ScatterND with reduction 'add' would be one op, but ORT's CPU kernel adds the updates from
 * several threads without synchronisation: with duplicate ids (every position id of a batch,
 * every frequent token) updates are lost at random, measured up to a whole update per row on
 * 2 threads. Here the rows are sorted by id (TopK, ties in token order), summed by a float64
 * prefix sum and differenced at the group boundaries: every op is deterministic, and a group's
 * sum is accurate to float64 rounding of the prefix sums, closer to the exact sum than float32
 * accumulation would be. Cost: a few passes over the [N, ...] rows, nothing vocabulary-sized.
 */
export function sumRowsById(
  g: GraphBuilder,
  ids: Value,
  updates: Value,
  rest: readonly number[],
): { rows: Value; sums: Value } {
  const [rows, , , counts] = g.op('Unique', [ids], { sorted: attr.int(1) }, { outputs: 4 }) as [
    Value,
    Value,
    Value,
    Value,
  ];
  const n = g.reshape(g.op('Size', [ids])[0] as Value, [1]);
  const order = g.op('TopK', [ids, n], { largest: attr.int(0), sorted: attr.int(1) }, { outputs: 2 })[1] as Value;
  const sorted = g.cast(g.gather(updates, order), 'float64'); // grouped by id, token order within a group
  const prefix = g.op('CumSum', [sorted, g.scalar(0, 'int64')])[0] as Value; // P[i] = rows 0..i
  const padded = g.concat([g.constantOfShape([1, ...rest], 0, 'float64'), prefix], 0); // padded[i] = rows 0..i-1
  const ends = g.op('CumSum', [counts, g.scalar(0, 'int64')])[0] as Value; // exclusive end of each group
  const sums = g.sub(g.gather(padded, ends), g.gather(padded, g.sub(ends, counts)));
  return { rows, sums: g.cast(sums, updates.dtype) };
}
