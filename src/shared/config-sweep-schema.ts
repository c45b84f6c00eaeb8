/** The JSON Schema of the `sweep:` block (config-sweep.ts), part of CONFIG_SCHEMA. */
import { SWEEP_DEFAULTS } from './config-defaults.js';
import { METRIC_NAMES, METRICS } from './config-metrics.js';
import type { JsonSchema } from './config-schema.js';
import { DISTRIBUTIONS, SWEEP_PRUNERS, SWEEP_STRATEGIES } from './config-sweep.js';

const count = { type: 'integer', minimum: 1 } as const;

const parameter: JsonSchema = {
  type: 'object',
  description: 'One searched config key and the values a trial may give it.',
  additionalProperties: false,
  required: ['key', 'type'],
  properties: {
    key: {
      type: 'string',
      minLength: 1,
      description: 'The config key, as a dotted path: `training.learning_rate`, `training.lora.r`, `model`.',
    },
    type: {
      type: 'string',
      enum: DISTRIBUTIONS,
      enumDescriptions: [
        'One of `values`, each equally likely at first (Optuna suggest_categorical).',
        'A number between `low` and `high`, uniformly (suggest_float).',
        'A number between `low` and `high`, uniformly in its logarithm: for learning rates (suggest_float with log=True).',
        'An integer between `low` and `high` in steps of `step` (suggest_int).',
        'Every one of `values`: with strategy grid, the trials are all combinations of the grid parameters.',
      ],
      description: 'How the values of the key are searched.',
    },
    values: {
      type: 'array',
      minItems: 1,
      uniqueItems: true,
      items: { anyOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] },
      description: 'For `choice` and `grid`: the values to try.',
    },
    low: { type: 'number', description: 'For `uniform`, `loguniform` and `int`: the lowest value (included).' },
    high: { type: 'number', description: 'For `uniform`, `loguniform` and `int`: the highest value (included).' },
    step: { type: 'integer', minimum: 1, description: 'For `int`: the spacing of the values from `low` (default 1).' },
  },
};

export const SWEEP_SCHEMA: JsonSchema = {
  type: 'object',
  description:
    "`finetune sweep`: runs this config several times with other values of some keys and keeps the best. Each trial is an ordinary run in the sweep's folder.",
  additionalProperties: false,
  required: ['parameters'],
  properties: {
    parameters: {
      type: 'array',
      minItems: 1,
      items: parameter,
      description: 'The config keys the sweep searches, and their values.',
    },
    strategy: {
      type: 'string',
      enum: SWEEP_STRATEGIES,
      enumDescriptions: [
        "Tree-structured Parzen Estimator (Optuna's TPESampler): random trials first, then values that look like those of the best trials.",
        'Values drawn at random (reproducible from `seed`).',
        'Every combination of the `grid` parameters, in order.',
      ],
      default: SWEEP_DEFAULTS.strategy,
      description: 'How the values of each trial are chosen.',
    },
    seed: {
      type: 'integer',
      minimum: 0,
      default: SWEEP_DEFAULTS.seed,
      description: 'The seed of the strategy: the same seed and results give the same trials.',
    },
    metric: {
      type: 'string',
      enum: ['loss', ...METRIC_NAMES],
      enumDescriptions: ['The validation loss.', ...METRIC_NAMES.map((name) => METRICS[name].description)],
      description:
        "The objective: the validation metric a trial is judged by (its best evaluation). Defaults to the run's best-checkpoint metric.",
    },
    mode: {
      type: 'string',
      enum: ['max', 'min'],
      enumDescriptions: ['Higher is better.', 'Lower is better.'],
      description: 'Whether a higher or lower objective is better. Defaults to the direction of the metric.',
    },
    max_trials: {
      ...count,
      description: 'The number of trials, pruned and failed ones included (default 10; for grid, every combination).',
    },
    parallel: {
      ...count,
      default: SWEEP_DEFAULTS.parallel,
      description: 'How many trials run at once, each in its own engine process.',
    },
    timeout: {
      type: 'number',
      exclusiveMinimum: 0,
      description: 'Seconds after which no new trial starts (the running ones finish).',
    },
    pruner: {
      type: 'string',
      enum: SWEEP_PRUNERS,
      enumDescriptions: [
        'Every trial runs to the end.',
        "Stops a trial whose best evaluation so far is worse than the median of the finished trials' evaluations at the same step (Optuna's MedianPruner).",
        "Asynchronous successive halving: at steps min_resource × reduction_factor^k, a trial goes on only when it is in the top 1/reduction_factor of the trials that reached that step (Optuna's SuccessiveHalvingPruner).",
      ],
      default: SWEEP_DEFAULTS.pruner,
      description: "Stops bad trials early from their evaluations (at the run's optimizer steps).",
    },
    tpe: {
      type: 'object',
      description: 'Settings of the TPE strategy (Optuna TPESampler).',
      additionalProperties: false,
      properties: {
        n_startup_trials: {
          type: 'integer',
          minimum: 0,
          default: SWEEP_DEFAULTS.tpe.n_startup_trials,
          description: 'Trials drawn at random before TPE models the results.',
        },
        n_ei_candidates: {
          ...count,
          default: SWEEP_DEFAULTS.tpe.n_ei_candidates,
          description:
            "Candidates drawn from the good trials' model; the one most likely good rather than bad is chosen.",
        },
        prior_weight: {
          type: 'number',
          exclusiveMinimum: 0,
          default: SWEEP_DEFAULTS.tpe.prior_weight,
          description: 'The weight of the flat prior next to the observed trials.',
        },
      },
    },
    median: {
      type: 'object',
      description: 'Settings of the median pruner (Optuna MedianPruner).',
      additionalProperties: false,
      properties: {
        n_startup_trials: {
          type: 'integer',
          minimum: 0,
          default: SWEEP_DEFAULTS.median.n_startup_trials,
          description: 'No trial is pruned until this many trials have finished.',
        },
        n_warmup_steps: {
          type: 'integer',
          minimum: 0,
          default: SWEEP_DEFAULTS.median.n_warmup_steps,
          description: 'No trial is pruned at evaluations before this optimizer step.',
        },
        interval_steps: {
          ...count,
          default: SWEEP_DEFAULTS.median.interval_steps,
          description: 'Pruning is checked at most once per this many optimizer steps after the warmup.',
        },
      },
    },
    asha: {
      type: 'object',
      description: 'Settings of the successive-halving pruner (Optuna SuccessiveHalvingPruner).',
      additionalProperties: false,
      properties: {
        min_resource: {
          anyOf: [
            { ...count },
            {
              type: 'string',
              enum: ['auto'],
              enumDescriptions: ['A hundredth of the optimizer steps of the longest finished trial (at least 1).'],
            },
          ],
          default: SWEEP_DEFAULTS.asha.min_resource,
          description: 'The grace period: optimizer steps before the first rung.',
        },
        reduction_factor: {
          type: 'integer',
          minimum: 2,
          default: SWEEP_DEFAULTS.asha.reduction_factor,
          description: 'η: rungs are η times apart, and the top 1/η of a rung goes on.',
        },
        min_early_stopping_rate: {
          type: 'integer',
          minimum: 0,
          default: SWEEP_DEFAULTS.asha.min_early_stopping_rate,
          description: 'Shifts the first rung to min_resource × η^rate.',
        },
      },
    },
  },
};
