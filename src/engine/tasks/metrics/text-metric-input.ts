/**
 * The input shape the corpus text metrics share (sacreBLEU's): hypotheses, one per segment, and
 * reference streams, each holding one reference per segment.
 */

/** Bad metric input: the message says which stream and which line. */
export class TextMetricError extends Error {}

/** The sacreBLEU version whose rules BLEU and chrF follow here; it ends their signatures. */
export const SACREBLEU_VERSION = '2.6.0';

/**
 * The references of each segment, gathered from the streams (segment i gets references[k][i] for
 * every stream k). Throws when there are no hypotheses or streams, or a stream's length differs.
 */
export function referencesBySegment(
  hypotheses: readonly string[],
  references: readonly (readonly string[])[],
): string[][] {
  if (hypotheses.length === 0) throw new TextMetricError('there are no hypotheses to score');
  if (references.length === 0) throw new TextMetricError('there are no references to score against');
  references.forEach((stream, k) => {
    if (stream.length !== hypotheses.length) {
      throw new TextMetricError(
        `reference stream ${k + 1} has ${stream.length} segments but there are ${hypotheses.length} hypotheses`,
      );
    }
  });
  return hypotheses.map((_, i) => references.map((stream) => stream[i] as string));
}

/**
 * A sacreBLEU signature: `nrefs`, the metric's own settings in order, then `version`, each as
 * key:value, joined by '|' (sacreBLEU's `Signature.format`).
 */
export function sacrebleuSignature(nrefs: number, settings: Record<string, string | number>): string {
  const pairs = Object.entries({ nrefs, ...settings, version: SACREBLEU_VERSION });
  return pairs.map(([key, value]) => `${key}:${value}`).join('|');
}

/** Element-wise sum of per-segment statistics (sacreBLEU's `sum_of_lists`). */
export function sumStatistics(rows: readonly (readonly number[])[]): number[] {
  const total = new Array<number>(rows[0]?.length ?? 0).fill(0);
  for (const row of rows) {
    for (let i = 0; i < row.length; i++) total[i] = (total[i] as number) + (row[i] as number);
  }
  return total;
}
