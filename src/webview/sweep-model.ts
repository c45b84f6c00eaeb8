import type { ParameterValue } from '../shared/config-sweep.js';
import type { SweepRecord, TrialRecord, TrialState } from '../shared/sweep-record.js';
import { fanovaImportance } from './sweep-importance.js';

/**
 * What the Sweep view shows of a sweep.json, as plain data: the trials as table rows, the axes of
 * the parallel-coordinates plot (one per parameter, then the objective), the brushing filter, the
 * table's order, and the parameter importances. No DOM: unit-tested in Node.
 */
export interface TrialRow {
  number: number;
  state: TrialState;
  params: Record<string, ParameterValue>;
  value?: number;
  /** ms from start to end, or to `now` for a running trial; undefined when the times do not parse. */
  durationMs?: number;
}

/**
 * One axis in "axis space": a number per trial. Floats and ints are themselves, loguniform
 * parameters their log10, a choice its index (each choice an equal share of [-0.5, n - 0.5]).
 */
export interface Axis {
  key: string;
  label: string;
  kind: 'linear' | 'log' | 'categorical';
  domain: [number, number];
  choices?: ParameterValue[];
}

/** The objective's axis key (parameter keys are dotted config paths, which never start with '#'). */
export const OBJECTIVE = '#objective';

export function trialRows(record: SweepRecord, now: number): TrialRow[] {
  return record.trials.map((t) => {
    const row: TrialRow = { number: t.number, state: t.state, params: t.params };
    if (t.value !== undefined) row.value = t.value;
    const start = Date.parse(t.startedAt);
    const end = t.endedAt === undefined ? (t.state === 'running' ? now : Number.NaN) : Date.parse(t.endedAt);
    if (Number.isFinite(start) && Number.isFinite(end)) row.durationMs = Math.max(0, end - start);
    return row;
  });
}

/** The range of `values`, widened by half a unit when they are one value, [0, 1] when there are none. */
export function extent(values: number[]): [number, number] {
  if (values.length === 0) return [0, 1];
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return lo === hi ? [lo - 0.5, hi + 0.5] : [lo, hi];
}

/** The plot's axes: the searched parameters in the order of the sweep block, then the objective. */
export function axesOf(record: SweepRecord): Axis[] {
  const axes: Axis[] = record.settings.parameters.map((p) => {
    const seen = record.trials.map((t) => t.params[p.key]).filter((v): v is ParameterValue => v !== undefined);
    if (p.type === 'choice' || p.type === 'grid') {
      const choices = [...(p.values ?? [])];
      for (const v of seen) if (!choices.includes(v)) choices.push(v);
      return { key: p.key, label: p.key, kind: 'categorical', domain: [-0.5, choices.length - 0.5], choices };
    }
    const log = p.type === 'loguniform';
    const numbers = seen.filter((v): v is number => typeof v === 'number').map((v) => (log ? Math.log10(v) : v));
    const declared =
      typeof p.low === 'number' && typeof p.high === 'number' && p.high > p.low
        ? log
          ? [Math.log10(p.low), Math.log10(p.high)]
          : [p.low, p.high]
        : extent(numbers);
    const domain: [number, number] = [
      Math.min(declared[0] as number, ...numbers),
      Math.max(declared[1] as number, ...numbers),
    ];
    return { key: p.key, label: p.key, kind: log ? 'log' : 'linear', domain };
  });
  const values = record.trials.flatMap((t) => (t.value === undefined ? [] : [t.value]));
  axes.push({ key: OBJECTIVE, label: record.settings.metric, kind: 'linear', domain: extent(values) });
  return axes;
}

/** A trial's position on an axis, or undefined when it has no value there (a running trial's objective). */
export function axisValue(axis: Axis, row: Pick<TrialRow, 'params' | 'value'>): number | undefined {
  if (axis.key === OBJECTIVE) return row.value;
  const v = row.params[axis.key];
  if (v === undefined) return undefined;
  if (axis.kind === 'categorical') {
    const i = axis.choices?.indexOf(v) ?? -1;
    return i < 0 ? undefined : i;
  }
  if (typeof v !== 'number') return undefined;
  return axis.kind === 'log' ? Math.log10(v) : v;
}

/** Brushed ranges, by axis key, in axis space (inclusive). */
export type Brushes = Record<string, [number, number]>;

/** The rows inside every brushed range; a row with no value on a brushed axis is outside it. */
export function filterRows(rows: readonly TrialRow[], axes: readonly Axis[], brushes: Brushes): TrialRow[] {
  const active = axes.filter((a) => brushes[a.key] !== undefined);
  return rows.filter((row) =>
    active.every((axis) => {
      const [lo, hi] = brushes[axis.key] as [number, number];
      const v = axisValue(axis, row);
      return v !== undefined && v >= Math.min(lo, hi) && v <= Math.max(lo, hi);
    }),
  );
}

/** A table column: `number`, `state`, `value`, `duration`, or a parameter key. */
export interface SortOrder {
  column: string;
  descending: boolean;
}

function cell(row: TrialRow, column: string): ParameterValue | undefined {
  if (column === 'number') return row.number;
  if (column === 'state') return row.state;
  if (column === 'value') return row.value;
  if (column === 'duration') return row.durationMs;
  return row.params[column];
}

/** The rows in the column's order (numbers as numbers, the rest as text); empty cells last either way. */
export function sortRows(rows: readonly TrialRow[], order: SortOrder): TrialRow[] {
  const sign = order.descending ? -1 : 1;
  return [...rows].sort((a, b) => {
    const x = cell(a, order.column);
    const y = cell(b, order.column);
    if (x === undefined || y === undefined) return x === y ? a.number - b.number : x === undefined ? 1 : -1;
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return c === 0 ? a.number - b.number : sign * c;
  });
}

/** The best objective after each finished trial, in trial order (the "best so far" line). */
export function bestSoFar(record: SweepRecord): { number: number; value: number; best: number }[] {
  const out: { number: number; value: number; best: number }[] = [];
  let best: number | undefined;
  for (const t of [...record.trials].sort((a, b) => a.number - b.number)) {
    if (t.state !== 'completed' || t.value === undefined || Number.isNaN(t.value)) continue;
    best =
      best === undefined ? t.value : record.settings.mode === 'max' ? Math.max(best, t.value) : Math.min(best, t.value);
    out.push({ number: t.number, value: t.value, best });
  }
  return out;
}

/** The method's name as the view shows it: what sweep-importance.ts implements. */
export const IMPORTANCE_METHOD =
  'fANOVA as in Optuna: first-order variance fractions of a random forest of 64 regression trees fitted to the completed trials (parameters as sampled, a choice as its index), averaged over the trees and normalized to sum to 1';
export const MIN_IMPORTANCE_TRIALS = 3;

/** Each parameter's importance, or why there is none yet. */
export function importances(record: SweepRecord): { key: string; importance: number }[] | string {
  const done = record.trials.filter((t: TrialRecord) => t.state === 'completed' && Number.isFinite(t.value));
  if (done.length < MIN_IMPORTANCE_TRIALS)
    return `Importance needs at least ${MIN_IMPORTANCE_TRIALS} completed trials (${done.length} so far).`;
  const axes = axesOf(record).filter((a) => a.key !== OBJECTIVE);
  // Optuna fits its forest on the parameters as sampled (_SearchSpaceTransform with
  // transform_log=False): a loguniform parameter on its own scale there, not the plot's log10.
  const raw = (a: Axis, v: number) => (a.kind === 'log' ? 10 ** v : v);
  const rows = done.map((t) =>
    axes.map((a) => {
      const v = axisValue(a, t);
      return v === undefined ? undefined : raw(a, v);
    }),
  );
  const usable = rows.flatMap((r, i) => (r.every((v) => v !== undefined) ? [i] : []));
  const x = usable.map((i) => rows[i] as number[]);
  const y = usable.map((i) => done[i]?.value as number);
  const result = fanovaImportance(
    x,
    y,
    axes.map((a) => [raw(a, a.domain[0]), raw(a, a.domain[1])] as [number, number]),
    { seed: record.settings.seed },
  );
  if (!result) return 'Every completed trial has the same objective: no parameter explains any of it.';
  return axes
    .map((a, i) => ({ key: a.key, importance: result[i] as number }))
    .sort((a, b) => b.importance - a.importance);
}
