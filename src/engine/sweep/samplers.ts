import type { ParameterValue, ResolvedSweepConfig, SweepParameter } from '../../shared/config-sweep.js';
import { rng } from '../util/random.js';
import { distributionOf, sampleRandom } from './space.js';
import type { TrialRecord } from './state.js';
import { tpeSuggest } from './tpe.js';

/**
 * The values of trial `n`. Each trial draws from its own generator, seeded by the sweep's seed and
 * the trial's number, so a resumed sweep (or a rerun with the same seed) proposes the same trials as
 * an uninterrupted one whenever the history it learns from is the same.
 */
export function suggest(
  settings: ResolvedSweepConfig,
  n: number,
  trials: readonly TrialRecord[],
): Record<string, ParameterValue> {
  const rand = rng(trialSeed(settings.seed, n));
  switch (settings.strategy) {
    case 'grid':
      return gridPoint(settings.parameters, n);
    case 'random':
      return Object.fromEntries(settings.parameters.map((p) => [p.key, sampleRandom(distributionOf(p), rand)]));
    case 'tpe':
      return tpeSuggest(
        settings.parameters,
        trials,
        settings.mode,
        {
          nStartupTrials: settings.tpe.n_startup_trials,
          nEiCandidates: settings.tpe.n_ei_candidates,
          priorWeight: settings.tpe.prior_weight,
        },
        rand,
      );
  }
}

/** A 32-bit seed per (sweep seed, trial number), mixed so neighbouring trials are unrelated streams. */
export function trialSeed(seed: number, n: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(n + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The n-th combination of the parameters' values, the last parameter varying fastest (itertools.product). */
export function gridPoint(parameters: readonly SweepParameter[], n: number): Record<string, ParameterValue> {
  const out: Record<string, ParameterValue> = {};
  let rest = n;
  for (let i = parameters.length - 1; i >= 0; i--) {
    const p = parameters[i] as SweepParameter;
    const values = p.values ?? [];
    out[p.key] = values[rest % values.length] as ParameterValue;
    rest = Math.floor(rest / values.length);
  }
  return Object.fromEntries(parameters.map((p) => [p.key, out[p.key] as ParameterValue]));
}
