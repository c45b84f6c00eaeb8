import type { ParameterValue, ResolvedSweepConfig } from './config-sweep.js';

/**
 * `sweep.json`, the sweep's record in its folder (`<output_dir>/<config>-sweep-<stamp>/`): the search
 * space and settings, every trial with its parameters, state, evaluations and objective, and the
 * best trial. The sweep engine (src/engine/sweep/state.ts) writes it atomically; the Runs view and
 * the panel's Sweep view read it. Change only together with every reader.
 */
export const SWEEP_FILE = 'sweep.json';
/** The config the sweep runs, with its data and model paths absolute (the `sweep:` block included). */
export const SWEEP_CONFIG_FILE = 'config.yaml';
export const TRIALS_FOLDER = 'trials';

export const TRIAL_STATES = ['running', 'completed', 'pruned', 'failed'] as const;
export type TrialState = (typeof TRIAL_STATES)[number];
export const SWEEP_STATES = ['running', 'completed', 'stopped', 'failed'] as const;
export type SweepState = (typeof SWEEP_STATES)[number];

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
  /** The config file the sweep was started from, absolute (absent in sweeps written before it was recorded). */
  source?: string;
  settings: ResolvedSweepConfig;
  /** The Slurm job array running the trials, when submitted: `pid` is then the submitter's. */
  job?: { scheduler: 'slurm'; id: string };
  /** ASHA's min_resource once `auto` has been estimated (Optuna keeps it on the pruner). */
  minResource?: number;
  trials: TrialRecord[];
  best?: { trial: number; value: number; params: Record<string, ParameterValue> };
}

/** The best completed trial in the sweep's mode; the earliest wins a tie (as Optuna's best_trial). */
export function bestTrial(record: Pick<SweepRecord, 'trials' | 'settings'>): SweepRecord['best'] {
  let best: SweepRecord['best'];
  for (const t of record.trials) {
    if (t.state !== 'completed' || t.value === undefined) continue;
    const better = !best || (record.settings.mode === 'max' ? t.value > best.value : t.value < best.value);
    if (better) best = { trial: t.number, value: t.value, params: t.params };
  }
  return best;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isParam = (v: unknown): v is ParameterValue =>
  typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));

/**
 * A sweep.json value checked for what its readers use, or a message naming the first thing wrong
 * (by its JSON path). The file may come from another engine version or be copied from elsewhere:
 * the Runs view and the panel must not trust it blindly. Settings are checked as far as the views
 * read them (metric, mode, max_trials, parameters with key and type).
 */
export function checkSweepRecord(value: unknown): SweepRecord | string {
  if (!isObj(value)) return 'not a JSON object';
  if (value.version !== 1) return `version is ${JSON.stringify(value.version)}, expected 1`;
  if (!(SWEEP_STATES as readonly unknown[]).includes(value.state))
    return `state is ${JSON.stringify(value.state)}, expected one of ${SWEEP_STATES.join(', ')}`;
  for (const key of ['startedAt', 'updatedAt'] as const)
    if (typeof value[key] !== 'string') return `${key} is not a string`;
  if (!isNum(value.pid)) return 'pid is not a number';
  if (value.source !== undefined && typeof value.source !== 'string') return 'source is not a string';
  const s = value.settings;
  if (!isObj(s)) return 'settings is not an object';
  if (typeof s.metric !== 'string') return 'settings.metric is not a string';
  if (s.mode !== 'min' && s.mode !== 'max') return 'settings.mode is neither "min" nor "max"';
  if (!isNum(s.max_trials)) return 'settings.max_trials is not a number';
  if (!Array.isArray(s.parameters)) return 'settings.parameters is not an array';
  for (const [i, p] of s.parameters.entries()) {
    if (!isObj(p) || typeof p.key !== 'string' || typeof p.type !== 'string')
      return `settings.parameters[${i}] has no key and type`;
    // The panel lists a choice's values and draws its axis from them.
    if (p.values !== undefined && !(Array.isArray(p.values) && p.values.every(isParam)))
      return `settings.parameters[${i}].values is not a list of values`;
    for (const k of ['low', 'high', 'step'] as const)
      if (p[k] !== undefined && !isNum(p[k])) return `settings.parameters[${i}].${k} is not a number`;
  }
  if (!Array.isArray(value.trials)) return 'trials is not an array';
  for (const [i, t] of value.trials.entries()) {
    const problem = checkTrial(t);
    if (problem) return `trials[${i}]: ${problem}`;
  }
  const job = value.job;
  if (job !== undefined && !(isObj(job) && job.scheduler === 'slurm' && typeof job.id === 'string'))
    return 'job is not {scheduler: "slurm", id}';
  const best = value.best;
  if (best !== undefined && !(isObj(best) && isNum(best.trial) && isNum(best.value) && isObj(best.params)))
    return 'best is not {trial, value, params}';
  return value as unknown as SweepRecord;
}

function checkTrial(t: unknown): string | undefined {
  if (!isObj(t)) return 'not an object';
  if (!Number.isInteger(t.number)) return 'number is not an integer';
  if (!(TRIAL_STATES as readonly unknown[]).includes(t.state))
    return `state is ${JSON.stringify(t.state)}, expected one of ${TRIAL_STATES.join(', ')}`;
  if (!isObj(t.params) || !Object.values(t.params).every(isParam)) return 'params is not a map of values';
  if (typeof t.dir !== 'string') return 'dir is not a string';
  if (t.value !== undefined && !isNum(t.value)) return 'value is not a number';
  if (
    !Array.isArray(t.intermediate) ||
    !t.intermediate.every(
      (x) => isObj(x) && isNum(x.step) && (isNum(x.value) || x.value === null || Number.isNaN(x.value)),
    )
  )
    return 'intermediate is not a list of {step, value}';
  // An evaluation that was NaN is written by JSON.stringify as null: it is NaN again here.
  for (const x of t.intermediate as Obj[]) if (x.value === null) x.value = Number.NaN;
  if (!Array.isArray(t.rungs) || !t.rungs.every(isNum)) return 'rungs is not a list of numbers';
  if (typeof t.startedAt !== 'string') return 'startedAt is not a string';
  if (t.endedAt !== undefined && typeof t.endedAt !== 'string') return 'endedAt is not a string';
  if (t.job !== undefined && typeof t.job !== 'string') return 'job is not a string';
  return undefined;
}

/** sweep.json's text parsed and checked, or a message saying what is wrong with it (`file` names it). */
export function parseSweepRecord(text: string, file: string = SWEEP_FILE): SweepRecord | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return `${file} is not valid JSON (${(err as Error).message})`;
  }
  const checked = checkSweepRecord(value);
  return typeof checked === 'string' ? `${file}: ${checked}` : checked;
}

/** Trials that have ended (completed, pruned or failed). */
export function finishedTrials(record: Pick<SweepRecord, 'trials'>): number {
  return record.trials.filter((t) => t.state !== 'running').length;
}

/**
 * The sweep's source config: `source` when recorded, else the `# resolved from <path>` line the
 * engine writes at the top of the sweep's config.yaml (sweeps written before `source` existed).
 */
export function sourceConfigOf(record: Pick<SweepRecord, 'source'>, sweepConfigText?: string): string | undefined {
  if (record.source) return record.source;
  const m = /^# resolved from (.+)$/m.exec(sweepConfigText ?? '');
  return m?.[1]?.trim() || undefined;
}
