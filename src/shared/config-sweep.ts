/**
 * The `sweep:` block of a config (`finetune sweep`): trials of the same config with other values
 * of some keys, chosen by a strategy and stopped early by a pruner, each an ordinary run. The
 * samplers and pruners follow Optuna's (TPESampler, GridSampler, RandomSampler, MedianPruner,
 * SuccessiveHalvingPruner); the engine's implementation is src/engine/sweep/.
 */

export const SWEEP_STRATEGIES = ['tpe', 'random', 'grid'] as const;
export type SweepStrategy = (typeof SWEEP_STRATEGIES)[number];

export const SWEEP_PRUNERS = ['none', 'median', 'asha'] as const;
export type SweepPrunerName = (typeof SWEEP_PRUNERS)[number];

/** How a parameter's values are drawn (Optuna: suggest_categorical, suggest_float, suggest_float(log=True), suggest_int). */
export const DISTRIBUTIONS = ['choice', 'uniform', 'loguniform', 'int', 'grid'] as const;
export type DistributionName = (typeof DISTRIBUTIONS)[number];

export type ParameterValue = string | number | boolean;

/** One searched key: `key` is a dotted config path such as `training.learning_rate`. */
export interface SweepParameter {
  key: string;
  type: DistributionName;
  values?: ParameterValue[]; // choice, grid
  low?: number; // uniform, loguniform, int
  high?: number;
  step?: number; // int (default 1)
}

export interface TpeSettings {
  n_startup_trials?: number;
  n_ei_candidates?: number;
  prior_weight?: number;
}

export interface MedianSettings {
  n_startup_trials?: number;
  n_warmup_steps?: number;
  interval_steps?: number;
}

export interface AshaSettings {
  min_resource?: number | 'auto';
  reduction_factor?: number;
  min_early_stopping_rate?: number;
}

export interface SweepConfig {
  parameters: SweepParameter[];
  strategy?: SweepStrategy;
  seed?: number;
  metric?: string; // default: the run's best-checkpoint metric (early stopping's, else the first of eval.metrics, else loss)
  mode?: 'max' | 'min'; // default: the metric's direction
  max_trials?: number; // default 10; for grid, the number of grid points
  parallel?: number;
  timeout?: number; // seconds: no trial starts after this
  pruner?: SweepPrunerName;
  tpe?: TpeSettings;
  median?: MedianSettings;
  asha?: AshaSettings;
}

/** The sweep block after applyDefaults: every setting filled in, metric and mode derived. */
export type ResolvedSweepConfig = Omit<SweepConfig, 'tpe' | 'median' | 'asha' | 'metric' | 'mode' | 'max_trials'> & {
  strategy: SweepStrategy;
  seed: number;
  metric: string;
  mode: 'max' | 'min';
  max_trials: number;
  parallel: number;
  pruner: SweepPrunerName;
  tpe: Required<TpeSettings>;
  median: Required<MedianSettings>;
  asha: { min_resource: number | 'auto' } & Required<Omit<AshaSettings, 'min_resource'>>;
};

/** The number of trials of a grid sweep: every combination of the parameters' values. */
export function gridSize(parameters: readonly SweepParameter[]): number {
  return parameters.reduce((n, p) => n * (p.values?.length ?? 0), 1);
}
