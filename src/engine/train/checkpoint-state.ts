import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TensorData } from '../graph/types.js';
import { readSafetensors, writeSafetensors } from '../io/safetensors.js';
import type { Weights } from '../models/model.js';
import type { RunnerState } from './step-runner.js';

/**
 * A training checkpoint folder (`checkpoints/step-<N>/`): everything an exact resume needs.
 * - model.safetensors: every weight, Hugging Face names (loadable as a model on its own);
 * - optimizer.safetensors: optimizer moments and gradient sums, by graph input name;
 * - trainer_state.json: step counters, data position, best metric, early-stopping count.
 * The data order is a function of (seed, epoch), so the position is enough to replay it.
 */
export interface TrainerProgress {
  optimizerSteps: number;
  microSteps: number;
  pendingMicroSteps: number;
  /** 1-based epoch in progress, and micro-batches of it already consumed. */
  epoch: number;
  batchInEpoch: number;
  best?: { metric: string; value: number; step: number };
  evalsWithoutImprovement: number;
  seed: number;
  /** Losses of micro-batches accumulated toward the next optimizer step (its event's mean). */
  pendingLosses: number[];
  /** Optimizer steps skipped for non-finite values (training.on_nonfinite); absent in older checkpoints. */
  skippedSteps?: number;
}

const STATE_FILE = 'trainer_state.json';

export function writeCheckpointFiles(
  dir: string,
  weights: Weights,
  runner: RunnerState,
  progress: TrainerProgress,
): void {
  writeSafetensors(join(dir, 'model.safetensors'), weights);
  const optimizer: [string, TensorData][] = [...runner.tensors].filter(([name]) => !weights.has(name));
  writeSafetensors(join(dir, 'optimizer.safetensors'), optimizer, { format: 'finetune-workbench' });
  writeFileSync(join(dir, STATE_FILE), `${JSON.stringify(progress, null, 2)}\n`);
}

export interface LoadedCheckpoint {
  weights: Weights;
  runner: RunnerState;
  progress: TrainerProgress;
}

/** Reads a checkpoint; `trained` names the weights that are carried state (not frozen). */
export function readCheckpointFiles(dir: string, trained: ReadonlySet<string>): LoadedCheckpoint {
  for (const f of ['model.safetensors', 'optimizer.safetensors', STATE_FILE]) {
    if (!existsSync(join(dir, f))) throw new Error(`checkpoint ${dir} is incomplete: ${f} is missing`);
  }
  const weights = readSafetensors(join(dir, 'model.safetensors')).tensors;
  const tensors = readSafetensors(join(dir, 'optimizer.safetensors')).tensors;
  for (const name of trained) {
    const w = weights.get(name);
    if (w) tensors.set(name, w);
  }
  const progress = JSON.parse(readFileSync(join(dir, STATE_FILE), 'utf8')) as TrainerProgress;
  return {
    weights,
    progress,
    runner: {
      tensors,
      optimizerSteps: progress.optimizerSteps,
      microSteps: progress.microSteps,
      pendingMicroSteps: progress.pendingMicroSteps,
      skippedSteps: progress.skippedSteps ?? 0,
    },
  };
}
