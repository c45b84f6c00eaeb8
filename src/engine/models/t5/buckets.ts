import type { GraphBuilder } from '../../graph/builder.js';
import type { Value } from '../../graph/types.js';

/**
 * T5's relative position buckets (T5Attention._relative_position_bucket) and the attention bias
 * they index (`relative_attention_bias`, an embedding [num_buckets, num_heads]).
 *
 * The bucket of a relative position r = key − query: bidirectional (the encoder) gives half of
 * the buckets to r > 0 and compares |r|; causal (the decoder) maps r > 0 to 0 and compares −r.
 * Of the n buckets left, the first n/2 are exact (distance d < n/2 is bucket d); larger
 * distances share log-spaced buckets up to max_distance, and every distance from there on falls
 * in the last bucket.
 *
 * Because every |r| ≥ max_distance lands in that last bucket, the graph clips r to
 * [−max_distance, max_distance] and gathers its bucket from a constant table of 2·max_distance + 1
 * entries computed here: no logarithm is taken in the graph, and the table holds the values
 * PyTorch's float32 arithmetic gives (see `largeBucket`), whatever the sequence length.
 */

const f32 = Math.fround;

/**
 * max_exact + int(log(d / max_exact) / log(max_distance / max_exact) · (n − max_exact)) in float32,
 * step by step as PyTorch computes it on a float32 tensor (a Python float operand is rounded to
 * float32; the log of a float32 is correctly rounded in both).
 */
function largeBucket(d: number, maxExact: number, n: number, maxDistance: number): number {
  const ratio = f32(Math.log(f32(f32(d) / maxExact)));
  const scaled = f32(f32(ratio / f32(Math.log(maxDistance / maxExact))) * (n - maxExact));
  return maxExact + Math.trunc(scaled);
}

/** The bucket of one relative position (key − query). */
export function relativePositionBucket(
  relative: number,
  o: { bidirectional: boolean; buckets: number; maxDistance: number },
): number {
  let n = o.buckets;
  let bucket = 0;
  let distance: number;
  if (o.bidirectional) {
    n = Math.trunc(n / 2);
    if (relative > 0) bucket += n;
    distance = Math.abs(relative);
  } else {
    distance = -Math.min(relative, 0);
  }
  const maxExact = Math.trunc(n / 2);
  if (distance < maxExact) return bucket + distance;
  return bucket + Math.min(largeBucket(distance, maxExact, n, o.maxDistance), n - 1);
}

/** Buckets of r = −max_distance … max_distance, in that order. */
export function bucketTable(o: { bidirectional: boolean; buckets: number; maxDistance: number }): number[] {
  return Array.from({ length: 2 * o.maxDistance + 1 }, (_, i) => relativePositionBucket(i - o.maxDistance, o));
}

/**
 * The additive attention bias of the relative positions between `queries` and `keys` (int64
 * absolute positions, [Tq] and [Tk]: a KV-cached decoder passes its new tokens' positions as the
 * queries), from `weight` [num_buckets, heads]. // [1, heads, Tq, Tk]
 */
export function relativePositionBias(
  g: GraphBuilder,
  weight: Value,
  queries: Value,
  keys: Value,
  o: { bidirectional: boolean; buckets: number; maxDistance: number },
): Value {
  const table = g.constant(bucketTable(o), [2 * o.maxDistance + 1], 'int64');
  const relative = g.sub(g.unsqueeze(keys, [0]), g.unsqueeze(queries, [1])); // [Tq, Tk]
  const clipped = g.min(g.max(relative, g.scalar(-o.maxDistance, 'int64')), g.scalar(o.maxDistance, 'int64'));
  const buckets = g.gather(table, g.add(clipped, g.scalar(o.maxDistance, 'int64'))); // [Tq, Tk]
  const values = g.gather(weight, buckets); // [Tq, Tk, heads]
  return g.unsqueeze(g.transpose(values, [2, 0, 1]), [0]);
}

/** 0, 1, …, length − 1 along axis 1 of `like` [B, T]. // [T] int64 */
export function positionsOf(g: GraphBuilder, like: Value): Value {
  const length = g.squeeze(g.slice(g.shape(like), [1], [2]), [0]);
  return g.op('Range', [g.scalar(0, 'int64'), length, g.scalar(1, 'int64')])[0] as Value;
}
