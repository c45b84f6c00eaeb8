import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ParameterValue, ResolvedSweepConfig } from '../../shared/config-sweep.js';
import { writeTextAtomic } from '../io/atomic.js';

/**
 * `sweep.json`, the sweep's record in its folder (`<output_dir>/<sweep id>/`): the search space and
 * settings, every trial with its parameters, state, evaluations and objective, and the best trial.
 * Only the sweep process writes it, always through writeTextAtomic, so a kill at any moment leaves
 * the previous or the next version whole; everything a resumed sweep needs to continue exactly is
 * in it (the samplers draw from the seed and the trial number, not from a stream).
 */
export const SWEEP_FILE = 'sweep.json';
/** The config the sweep runs, with its data and model paths absolute (the `sweep:` block included). */
export const SWEEP_CONFIG_FILE = 'config.yaml';
export const TRIALS_FOLDER = 'trials';

export type TrialState = 'running' | 'completed' | 'pruned' | 'failed';
export type SweepState = 'running' | 'completed' | 'stopped' | 'failed';

export interface Intermediate {
  /** The run's optimizer step at the evaluation (as transformers reports to Optuna). */
  step: number;
  value: number;
}

export interface TrialRecord {
  number: number;
  state: TrialState;
  params: Record<string, ParameterValue>;
  /** The trial's run directory, relative to the sweep's folder. */
  dir: string;
  /** The objective: the best evaluation of the metric (completed trials). */
  value?: number;
  intermediate: Intermediate[];
  /** Successive halving: the value recorded at each rung the trial reached (Optuna's completed_rung_<k>). */
  rungs: number[];
  reason?: string;
  startedAt: string;
  endedAt?: string;
  /** The Slurm array task that runs it (`<array job>_<task>`), when submitted (array-task.ts). */
  job?: string;
}

export interface SweepRecord {
  version: 1;
  state: SweepState;
  reason?: string;
  pid: number;
  startedAt: string;
  updatedAt: string;
  settings: ResolvedSweepConfig;
  /** The Slurm job array running the trials, when submitted: `pid` is then the submitter's. */
  job?: { scheduler: 'slurm'; id: string };
  /** ASHA's min_resource once `auto` has been estimated (Optuna keeps it on the pruner). */
  minResource?: number;
  trials: TrialRecord[];
  best?: { trial: number; value: number; params: Record<string, ParameterValue> };
}

export function trialDir(sweepDir: string, t: TrialRecord): string {
  return join(sweepDir, t.dir);
}

export function readSweep(sweepDir: string): SweepRecord {
  const file = join(sweepDir, SWEEP_FILE);
  if (!existsSync(file)) throw new Error(`${sweepDir} is not a sweep folder: ${SWEEP_FILE} is missing`);
  const record = JSON.parse(readFileSync(file, 'utf8')) as SweepRecord;
  if (record.version !== 1) throw new Error(`${file}: unknown version ${String(record.version)}`);
  return record;
}

/** The best completed trial in the sweep's mode; the earliest wins a tie (as Optuna's best_trial). */
export function bestTrial(record: SweepRecord): SweepRecord['best'] {
  let best: SweepRecord['best'];
  for (const t of record.trials) {
    if (t.state !== 'completed' || t.value === undefined) continue;
    const better = !best || (record.settings.mode === 'max' ? t.value > best.value : t.value < best.value);
    if (better) best = { trial: t.number, value: t.value, params: t.params };
  }
  return best;
}

export function writeSweep(sweepDir: string, record: SweepRecord): void {
  record.updatedAt = new Date().toISOString();
  const best = bestTrial(record);
  if (best) record.best = best;
  writeTextAtomic(join(sweepDir, SWEEP_FILE), `${JSON.stringify(record, null, 2)}\n`);
}
