import type { Intermediate, SweepRecord, TrialRecord } from './state.js';

/**
 * Optuna's pruners, decided after each evaluation a trial reports (its `step` is the run's optimizer
 * step). NaN values count as Optuna counts them: a trial whose evaluations are all NaN is pruned.
 */
export type Mode = 'max' | 'min';

export interface MedianSettings {
  nStartupTrials: number;
  nWarmupSteps: number;
  intervalSteps: number;
}

/** numpy.nanpercentile with linear interpolation. */
export function nanPercentile(values: readonly number[], q: number): number {
  const v = values.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const pos = ((v.length - 1) * q) / 100;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (v[lo] as number) + ((v[hi] as number) - (v[lo] as number)) * (pos - lo);
}

/** _is_first_in_interval_step: the first report at or after the latest pruning step of the interval. */
function firstInInterval(step: number, steps: readonly number[], warmup: number, interval: number): boolean {
  const nearestLower = Math.floor((step - warmup) / interval) * interval + warmup;
  const secondLast = steps.reduce((acc, s) => (s > acc && s !== step ? s : acc), -1);
  return secondLast < nearestLower;
}

function bestOf(values: readonly number[], mode: Mode): number {
  const v = values.filter((x) => !Number.isNaN(x));
  if (v.length === 0) return Number.NaN;
  return mode === 'max' ? Math.max(...v) : Math.min(...v);
}

/**
 * MedianPruner (PercentilePruner at 50, optuna/pruners/_percentile.py): once n_startup_trials trials
 * have completed, at a reporting step past the warmup, prune when the trial's best value so far is
 * worse than the median of the completed trials' values at this same step.
 */
export function medianPrune(
  trial: readonly Intermediate[],
  completed: readonly TrialRecord[],
  s: MedianSettings,
  mode: Mode,
): boolean {
  if (completed.length === 0 || completed.length < s.nStartupTrials) return false;
  const last = trial[trial.length - 1];
  if (!last) return false;
  const step = last.step;
  if (step < s.nWarmupSteps) return false;
  if (
    !firstInInterval(
      step,
      trial.map((iv) => iv.step),
      s.nWarmupSteps,
      s.intervalSteps,
    )
  )
    return false;
  const best = bestOf(
    trial.map((iv) => iv.value),
    mode,
  );
  if (Number.isNaN(best)) return true;
  const atStep = completed.flatMap((t) =>
    t.intermediate
      .filter((iv) => iv.step === step)
      .slice(-1)
      .map((iv) => iv.value),
  );
  if (atStep.length < 1) return false; // n_min_trials = 1
  const median = nanPercentile(atStep, 50);
  if (Number.isNaN(median)) return false;
  return mode === 'max' ? best < median : best > median;
}

export interface AshaSettings {
  /** Resolved: a number, or undefined while `auto` has no completed trial to estimate from. */
  minResource: number | undefined;
  reductionFactor: number;
  minEarlyStoppingRate: number;
}

/** _estimate_min_resource: a hundredth of the longest completed trial's last step, at least 1. */
export function estimateMinResource(trials: readonly TrialRecord[]): number | undefined {
  const lastSteps = trials
    .filter((t) => t.state === 'completed' && t.intermediate.length > 0)
    .map((t) => Math.max(...t.intermediate.map((iv) => iv.step)));
  if (lastSteps.length === 0) return undefined;
  return Math.max(Math.floor(Math.max(...lastSteps) / 100), 1);
}

/** _is_trial_promotable_to_next_rung: in the top 1/η of the values at the rung (at least the best one). */
function promotable(value: number, competing: number[], eta: number, mode: Mode): boolean {
  let idx = Math.floor(competing.length / eta) - 1;
  if (idx === -1) idx = 0;
  competing.sort((a, b) => a - b);
  return mode === 'max'
    ? value >= (competing[competing.length - 1 - idx] as number)
    : value <= (competing[idx] as number);
}

/**
 * SuccessiveHalvingPruner (optuna/pruners/_successive_halving.py, bootstrap_count 0). At each rung
 * k whose promotion step min_resource·η^(rate+k) the trial has reached, its latest value is recorded
 * in `trial.rungs[k]` and compared with every other trial's value at that rung; outside the top
 * 1/η it is pruned. Mutates `trial.rungs` (sweep.json keeps them, as Optuna keeps system attrs).
 */
export function ashaPrune(trial: TrialRecord, others: readonly TrialRecord[], s: AshaSettings, mode: Mode): boolean {
  const last = trial.intermediate[trial.intermediate.length - 1];
  if (!last || s.minResource === undefined) return false;
  const { step, value } = last;
  let rung = trial.rungs.length;
  for (;;) {
    const promotionStep = s.minResource * s.reductionFactor ** (s.minEarlyStoppingRate + rung);
    if (step < promotionStep) return false;
    if (Number.isNaN(value)) return true;
    trial.rungs[rung] = value;
    const competing = [
      ...others.filter((t) => t.number !== trial.number && t.rungs.length > rung).map((t) => t.rungs[rung] as number),
      value,
    ];
    if (!promotable(value, competing, s.reductionFactor, mode)) return true;
    rung += 1;
  }
}

/**
 * The sweep's pruner's decision for a running trial after its latest evaluation, against the other
 * trials of the record (Optuna's pruners read the study the same way). ASHA's `auto` min_resource
 * is estimated once and kept in the record.
 */
export function shouldPruneTrial(record: SweepRecord, t: TrialRecord): boolean {
  const s = record.settings;
  if (s.pruner === 'median') {
    const completed = record.trials.filter((x) => x.state === 'completed');
    const m = s.median;
    const settings = {
      nStartupTrials: m.n_startup_trials,
      nWarmupSteps: m.n_warmup_steps,
      intervalSteps: m.interval_steps,
    };
    return medianPrune(t.intermediate, completed, settings, s.mode);
  }
  if (s.pruner === 'asha') {
    if (record.minResource === undefined)
      record.minResource = s.asha.min_resource === 'auto' ? estimateMinResource(record.trials) : s.asha.min_resource;
    const settings = {
      minResource: record.minResource,
      reductionFactor: s.asha.reduction_factor,
      minEarlyStoppingRate: s.asha.min_early_stopping_rate,
    };
    return ashaPrune(t, record.trials, settings, s.mode);
  }
  return false;
}
