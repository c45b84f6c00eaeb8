import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TensorData } from '../graph/types.js';
import { sha256File } from '../io/file-hash.js';
import { readSafetensors, writeSafetensors } from '../io/safetensors.js';
import type { Weights } from '../models/model.js';
import type { RunnerState } from './step-runner.js';

/**
 * A training checkpoint folder (`checkpoints/step-<N>/`): everything an exact resume needs.
 * - model.safetensors: every weight, Hugging Face names (loadable as a model on its own);
 * - optimizer.safetensors: optimizer moments and gradient sums, by graph input name;
 * - trainer_state.json: step counters, data position, best metric, early-stopping count, and the
 *   sha256 of the two files above (`files`), so a resume can tell a damaged checkpoint from a sound one.
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

export const STATE_FILE = 'trainer_state.json';
const DATA_FILES = ['model.safetensors', 'optimizer.safetensors'] as const;

/** trainer_state.json on disk: the progress plus the sha256 (hex) of each data file, by name. */
type StateFile = TrainerProgress & { files?: Record<string, string> };

export function writeCheckpointFiles(
  dir: string,
  weights: Weights,
  runner: RunnerState,
  progress: TrainerProgress,
): void {
  writeSafetensors(join(dir, 'model.safetensors'), weights);
  const optimizer: [string, TensorData][] = [...runner.tensors].filter(([name]) => !weights.has(name));
  writeSafetensors(join(dir, 'optimizer.safetensors'), optimizer, { format: 'finetune-workbench' });
  // Hashed from the disk, after writing: the digest vouches for the bytes a resume will read.
  const files = Object.fromEntries(DATA_FILES.map((f) => [f, sha256File(join(dir, f))]));
  const state: StateFile = { ...progress, files };
  writeFileSync(join(dir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
}

/** What is wrong with a checkpoint: the file (relative to its folder) and how. */
export interface CheckpointDamage {
  file: string;
  problem: string;
}

/**
 * Checks a checkpoint folder against the digests its trainer_state.json records; undefined when it
 * is sound. A checkpoint written before digests were recorded is checked for its files only.
 */
export function verifyCheckpoint(dir: string): CheckpointDamage | undefined {
  const statePath = join(dir, STATE_FILE);
  if (!existsSync(statePath)) return { file: STATE_FILE, problem: 'is missing' };
  let state: StateFile;
  try {
    state = JSON.parse(readFileSync(statePath, 'utf8')) as StateFile;
  } catch (err) {
    return { file: STATE_FILE, problem: `is not valid JSON (${(err as Error).message})` };
  }
  if (typeof state !== 'object' || state === null || typeof state.optimizerSteps !== 'number')
    return { file: STATE_FILE, problem: 'has no optimizerSteps: not a trainer state' };
  for (const f of DATA_FILES) if (!existsSync(join(dir, f))) return { file: f, problem: 'is missing' };
  for (const [f, expected] of Object.entries(state.files ?? {})) {
    if (!existsSync(join(dir, f))) return { file: f, problem: 'is missing' };
    const actual = sha256File(join(dir, f));
    if (actual !== expected) return { file: f, problem: `has sha256 ${actual}, but ${STATE_FILE} records ${expected}` };
  }
  return undefined;
}

export interface LoadedCheckpoint {
  weights: Weights;
  runner: RunnerState;
  progress: TrainerProgress;
}

/**
 * Reads a checkpoint, verified first (a damaged one throws, naming the file); `trained` names the
 * weights that are carried state (not frozen).
 */
export function readCheckpointFiles(dir: string, trained: ReadonlySet<string>): LoadedCheckpoint {
  const damage = verifyCheckpoint(dir);
  if (damage) throw new Error(`checkpoint ${dir} is damaged: ${damage.file} ${damage.problem}`);
  const weights = readSafetensors(join(dir, 'model.safetensors')).tensors;
  const tensors = readSafetensors(join(dir, 'optimizer.safetensors')).tensors;
  for (const name of trained) {
    const w = weights.get(name);
    if (w) tensors.set(name, w);
  }
  const { files: _digests, ...progress } = JSON.parse(readFileSync(join(dir, STATE_FILE), 'utf8')) as StateFile;
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
