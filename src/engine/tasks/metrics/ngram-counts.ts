/**
 * N-gram counting shared by BLEU, chrF and ROUGE-N: the Python references build a `Counter` of
 * n-gram tuples; here an n-gram is its units joined by a separator that no unit contains (a space
 * between words split on whitespace, nothing between single characters).
 */

export type NgramCounts = Map<string, number>;

/** Counts of the n-grams of order `n` in `units`, in order of first appearance. */
export function countNgrams(units: readonly string[], n: number, separator: string): NgramCounts {
  const counts: NgramCounts = new Map();
  for (let i = 0; i + n <= units.length; i++) {
    const key = n === 1 ? (units[i] as string) : units.slice(i, i + n).join(separator);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** The number of n-grams counted (the sum of the counts). */
export function totalCount(counts: NgramCounts): number {
  let total = 0;
  for (const c of counts.values()) total += c;
  return total;
}

/** Clipped matches: each n-gram of `a` counts at most as often as it occurs in `b`. */
export function clippedMatches(a: NgramCounts, b: NgramCounts): number {
  let matches = 0;
  for (const [key, count] of a) {
    const other = b.get(key);
    if (other !== undefined) matches += Math.min(count, other);
  }
  return matches;
}
