/**
 * Learning-rate schedules, computed on the host and fed to the step graph as a scalar. The
 * formulas are Hugging Face's `get_{linear,cosine,constant}_schedule_with_warmup`: a multiplier of
 * the base rate as a function of the optimizer step about to be taken (0-based: the first update
 * uses step 0).
 */
import type { SchedulerName } from '../../shared/config.js';

/** The config's `training.scheduler` values: the shared type, re-exported for the engine's callers. */
export type { SchedulerName };

export interface ScheduleConfig {
  scheduler: SchedulerName;
  baseLr: number;
  totalSteps: number;
  /** Exactly one of these decides the warmup length. */
  warmupSteps?: number;
  warmupRatio?: number;
  /** Cosine only: number of half-waves (Hugging Face default 0.5). */
  numCycles?: number;
}

/** Warmup steps as Hugging Face computes them from `warmup_ratio`: ceil(ratio * total). */
export function warmupStepsOf(cfg: ScheduleConfig): number {
  if (cfg.warmupSteps !== undefined && cfg.warmupRatio !== undefined) {
    throw new Error('schedule: set warmup_steps or warmup_ratio, not both');
  }
  if (cfg.warmupSteps !== undefined) return cfg.warmupSteps;
  return Math.ceil((cfg.warmupRatio ?? 0) * cfg.totalSteps);
}

export function lrMultiplier(cfg: ScheduleConfig, step: number): number {
  const warmup = warmupStepsOf(cfg);
  if (step < warmup) return step / Math.max(1, warmup);
  const total = cfg.totalSteps;
  switch (cfg.scheduler) {
    case 'constant':
      return 1;
    case 'linear':
      return Math.max(0, (total - step) / Math.max(1, total - warmup));
    case 'cosine': {
      const progress = (step - warmup) / Math.max(1, total - warmup);
      return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * (cfg.numCycles ?? 0.5) * 2 * progress)));
    }
  }
}

export const learningRate = (cfg: ScheduleConfig, step: number): number => cfg.baseLr * lrMultiplier(cfg, step);
