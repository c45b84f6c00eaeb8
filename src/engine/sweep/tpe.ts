import type { ParameterValue, SweepParameter } from '../../shared/config-sweep.js';
import { buildParzen, type Parzen, parzenLogPdf, parzenSample } from './parzen.js';
import { distributionOf, sampleRandom, toExternal, toInternal } from './space.js';
import type { TrialRecord } from './state.js';

/**
 * Optuna's TPESampler (optuna/samplers/_tpe/sampler.py), univariate, single objective: until
 * n_startup_trials trials have finished (completed or pruned) values are drawn at random;
 * after that, for each parameter on its own, the finished trials are split into the gamma(n) best
 * ("below": completed trials by objective, then pruned ones by the step they reached and their last
 * value) and the rest, a Parzen estimator is fitted to each part, n_ei_candidates values are drawn
 * from the good one, and the candidate with the highest log l(x) − log g(x) is chosen.
 */
export interface TpeSettings {
  nStartupTrials: number;
  nEiCandidates: number;
  priorWeight: number;
}

/** Optuna's default_gamma: a tenth of the finished trials, rounded up, at most 25. */
export function defaultGamma(n: number): number {
  return Math.min(Math.ceil(0.1 * n), 25);
}

/** The finished trials a sampler learns from: completed and pruned, in trial order. */
export function finishedTrials(trials: readonly TrialRecord[]): TrialRecord[] {
  return trials.filter((t) => t.state === 'completed' || t.state === 'pruned').sort((a, b) => a.number - b.number);
}

/** Sort key of a pruned trial (_get_pruned_trial_score): further along first, then the better last value. */
function prunedScore(t: TrialRecord, mode: 'max' | 'min'): [number, number] {
  const last = t.intermediate.reduce<TrialRecord['intermediate'][number] | undefined>(
    (acc, iv) => (acc === undefined || iv.step >= acc.step ? iv : acc),
    undefined,
  );
  if (!last) return [1, 0];
  if (Number.isNaN(last.value)) return [-last.step, Infinity];
  return [-last.step, mode === 'min' ? last.value : -last.value];
}

/** _split_trials: the nBelow best finished trials and the others, each in trial order. */
export function splitTrials(
  finished: readonly TrialRecord[],
  nBelow: number,
  mode: 'max' | 'min',
): { below: TrialRecord[]; above: TrialRecord[] } {
  const sign = mode === 'min' ? 1 : -1;
  // Stable sorts: ties keep trial order, as Python's sorted does.
  const complete = finished
    .filter((t) => t.state === 'completed')
    .sort((a, b) => sign * ((a.value as number) - (b.value as number)));
  const pruned = finished
    .filter((t) => t.state === 'pruned')
    .sort((a, b) => {
      const [sa, va] = prunedScore(a, mode);
      const [sb, vb] = prunedScore(b, mode);
      return sa - sb || va - vb;
    });
  const nComplete = Math.min(nBelow, complete.length);
  const nPruned = Math.min(Math.max(0, nBelow - nComplete), pruned.length);
  const below = [...complete.slice(0, nComplete), ...pruned.slice(0, nPruned)];
  const above = [...complete.slice(nComplete), ...pruned.slice(nPruned)];
  const byNumber = (a: TrialRecord, b: TrialRecord) => a.number - b.number;
  return { below: below.sort(byNumber), above: above.sort(byNumber) };
}

/** The two estimators TPE compares for one parameter (exported for the tests' hand-computed densities). */
export function tpeEstimators(
  param: SweepParameter,
  finished: readonly TrialRecord[],
  mode: 'max' | 'min',
  s: TpeSettings,
): { below: Parzen; above: Parzen } {
  const d = distributionOf(param);
  const { below, above } = splitTrials(finished, defaultGamma(finished.length), mode);
  const obs = (ts: TrialRecord[]) =>
    ts.filter((t) => param.key in t.params).map((t) => toInternal(d, t.params[param.key] as ParameterValue));
  const settings = { priorWeight: s.priorWeight };
  return { below: buildParzen(obs(below), d, settings), above: buildParzen(obs(above), d, settings) };
}

export function tpeSuggest(
  space: readonly SweepParameter[],
  trials: readonly TrialRecord[],
  mode: 'max' | 'min',
  s: TpeSettings,
  rand: () => number,
): Record<string, ParameterValue> {
  const finished = finishedTrials(trials);
  const out: Record<string, ParameterValue> = {};
  for (const param of space) {
    const d = distributionOf(param);
    if (finished.length < s.nStartupTrials) {
      out[param.key] = sampleRandom(d, rand);
      continue;
    }
    const { below, above } = tpeEstimators(param, finished, mode, s);
    const candidates = parzenSample(below, rand, s.nEiCandidates);
    let best = 0;
    let bestScore = -Infinity;
    candidates.forEach((x, i) => {
      const score = parzenLogPdf(below, x) - parzenLogPdf(above, x);
      if (score > bestScore) {
        bestScore = score;
        best = i;
      }
    });
    out[param.key] = toExternal(d, candidates[best] as number);
  }
  return out;
}
