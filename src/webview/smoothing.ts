/**
 * TensorBoard's scalar smoothing: an exponential moving average debiased like Adam's moments.
 * `last = last * w + (1 - w) * v`, shown as `last / (1 - w^n)` after n finite values, so the first
 * points are not pulled toward the zero the average starts from. Non-finite values (a diverged
 * loss) pass through unsmoothed and do not enter the average. While the series has been constant
 * its values pass through as they are, because the division would make a flat line wobble in the
 * last digits (TensorBoard checks the same on the whole series; once the values differ, the
 * smoothed value of a constant prefix is that constant anyway).
 *
 * The state makes it incremental: appending points to a live chart costs O(new points), and gives
 * exactly what smoothing the whole series at once would.
 */
export interface EmaState {
  weight: number;
  last: number;
  count: number;
  /** The first finite value, and whether every finite value so far equals it. */
  first: number | undefined;
  constant: boolean;
}

export function emaStart(weight: number): EmaState {
  if (!(weight >= 0 && weight <= 1)) throw new RangeError(`smoothing weight must be in [0, 1], got ${weight}`);
  return { weight, last: 0, count: 0, first: undefined, constant: true };
}

/** Smooths `values` from index `start` on and appends the results to `out`; returns `out`. */
export function emaExtend(
  state: EmaState,
  values: ArrayLike<number | null>,
  out: (number | null)[],
  start = 0,
): (number | null)[] {
  const w = state.weight;
  for (let i = start; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined || !Number.isFinite(v)) {
      out.push(v ?? null);
      continue;
    }
    if (state.first === undefined) state.first = v;
    else if (v !== state.first) state.constant = false;
    state.last = state.last * w + (1 - w) * v;
    state.count++;
    const debias = w === 1 ? 1 : 1 - w ** state.count;
    out.push(state.constant ? v : state.last / debias);
  }
  return out;
}

/** The whole series at once; equal to smoothing it in any number of appended pieces. */
export function emaSmooth(values: ArrayLike<number | null>, weight: number): (number | null)[] {
  return emaExtend(emaStart(weight), values, []);
}
