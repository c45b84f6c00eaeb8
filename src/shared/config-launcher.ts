import type { JsonSchema } from './config-schema.js';

/**
 * The `launcher:` block: where `finetune submit` runs a config. Only Slurm today; the keys are
 * sbatch's options of the same names, passed on as written (Slurm checks them against the
 * cluster: a partition or account it does not know is an sbatch error, shown with this key's line).
 */
export interface SlurmLauncherConfig {
  type: 'slurm';
  partition?: string;
  /** sbatch --time: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS. */
  time?: string | number;
  cpus_per_task?: number;
  /** sbatch --mem: megabytes, or a number with K, M, G or T. */
  mem?: string | number;
  /** sbatch --gpus: a count, or type:count. */
  gpus?: string | number;
  account?: string;
  qos?: string;
  /** More sbatch options, each one argument (`--constraint=a100`, `--exclusive`). */
  extra_args?: string[];
}

export type LauncherConfig = SlurmLauncherConfig;

export const LAUNCHER_TYPES = ['slurm'] as const;

/** The launcher keys that become sbatch options, with the option each becomes. */
export const SBATCH_OPTIONS = {
  partition: '--partition',
  time: '--time',
  cpus_per_task: '--cpus-per-task',
  mem: '--mem',
  gpus: '--gpus',
  account: '--account',
  qos: '--qos',
} as const satisfies Record<Exclude<keyof SlurmLauncherConfig, 'type' | 'extra_args'>, string>;

const name = (what: string): JsonSchema => ({
  type: 'string',
  minLength: 1,
  pattern: '^[^\\s=]+$',
  patternErrorMessage: `A Slurm ${what} name has no spaces.`,
  description: `sbatch --${what}: the ${what} to run in (the cluster's default when not set).`,
});

export const LAUNCHER_SCHEMA: JsonSchema = {
  type: 'object',
  description:
    '`finetune submit`: runs this config (or its sweep, as a job array) on a cluster instead of here. The run directory and its logs are written where the cluster job runs, which must see the same files.',
  additionalProperties: false,
  required: ['type'],
  properties: {
    type: {
      type: 'string',
      enum: LAUNCHER_TYPES,
      enumDescriptions: ['A Slurm cluster, through sbatch, squeue, scontrol and scancel.'],
      description: 'The scheduler that runs the job.',
    },
    partition: name('partition'),
    time: {
      anyOf: [
        { type: 'integer', minimum: 1 },
        {
          type: 'string',
          pattern:
            '^(\\d+|\\d+:\\d{1,2}|\\d+:\\d{1,2}:\\d{1,2}|\\d+-\\d{1,2}|\\d+-\\d{1,2}:\\d{1,2}|\\d+-\\d{1,2}:\\d{1,2}:\\d{1,2})$',
          patternErrorMessage:
            'A Slurm time limit is minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS (such as 90, 1:30:00 or 2-00:00:00).',
        },
      ],
      description:
        'sbatch --time: the time limit. Two minutes before it the run checkpoints, and Slurm requeues it to continue from there.',
    },
    cpus_per_task: {
      type: 'integer',
      minimum: 1,
      description: "sbatch --cpus-per-task: CPU cores for the run (the engine's threads).",
    },
    mem: {
      anyOf: [
        { type: 'integer', minimum: 1 },
        {
          type: 'string',
          pattern: '^\\d+[KMGT]?$',
          patternErrorMessage: 'Memory is a number of megabytes, or a number with K, M, G or T (such as 16G).',
        },
      ],
      description: 'sbatch --mem: memory for the run (megabytes, or with a unit: 16G).',
    },
    gpus: {
      anyOf: [
        { type: 'integer', minimum: 0 },
        {
          type: 'string',
          pattern: '^([A-Za-z0-9_-]+:)?\\d+$',
          patternErrorMessage: 'GPUs are a count, or type:count (such as a100:1).',
        },
      ],
      description: 'sbatch --gpus: GPUs for the run, a count or type:count.',
    },
    account: name('account'),
    qos: name('qos'),
    extra_args: {
      type: 'array',
      items: {
        type: 'string',
        pattern: '^--?[A-Za-z]',
        patternErrorMessage: 'Each extra argument is one sbatch option, such as --constraint=a100.',
      },
      description: 'More sbatch options, one per item (`--constraint=a100`, `--exclusive`).',
    },
  },
};
