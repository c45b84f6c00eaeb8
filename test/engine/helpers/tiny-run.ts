import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { trainFromConfig } from '../../../src/engine/train/finetune.js';
import { RunDirectory } from '../../../src/engine/train/run-dir.js';
import { STOP_REQUEST_FILE } from '../../../src/shared/run-directory.js';
import { FIXTURE_SENTENCES, sentimentRows, toJsonl } from '../../fixtures/datasets.js';
import { writeTinyModel } from '../../fixtures/tiny-models.js';

/**
 * A workspace for whole runs that take about a second: a tiny BERT, 128 training and 16 validation
 * sentences, `tiny.finetune.yaml` (`epochs` of TINY_RUN_STEPS_PER_EPOCH steps, dropout on,
 * shuffled, evaluations every 8 steps, checkpoints every 2 steps, at most 2 kept besides the best),
 * `training` lines added to its training block. Returns the config's path.
 */
/** 128 training rows at batch size 8. */
export const TINY_RUN_STEPS_PER_EPOCH = 16;

export function writeTinyRun(dir: string, training = '', epochs = 3): string {
  mkdirSync(join(dir, 'model'), { recursive: true });
  writeTinyModel(join(dir, 'model'), 'bert', FIXTURE_SENTENCES);
  writeFileSync(join(dir, 'train.jsonl'), toJsonl(sentimentRows(128, 1)));
  writeFileSync(join(dir, 'val.jsonl'), toJsonl(sentimentRows(16, 2)));
  const config = join(dir, 'tiny.finetune.yaml');
  writeFileSync(
    config,
    `model: ./model
task: text-classification
data:
  train: train.jsonl
  validation: val.jsonl
  max_length: 32
training:
  epochs: ${epochs}
  batch_size: 8
  learning_rate: 3.0e-3
  save_steps: 2
  save_total_limit: 2
${training}eval:
  every: 8
  metrics: [accuracy]
device: cpu
`,
  );
  return config;
}

/**
 * Trains `config` into `runDir` until optimizer step `stopAt`, where a stop request (the panel's
 * Stop) ends it as `stopped`; the request is then removed, leaving a run to resume.
 */
export async function trainUntilStopped(config: string, runDir: string, stopAt: number): Promise<void> {
  const { outcome } = await trainFromConfig(config, runDir, {
    threads: 1,
    progress: (line) => {
      if (Number(/step (\d+)\//.exec(line)?.[1]) === stopAt) writeFileSync(join(runDir, STOP_REQUEST_FILE), '');
    },
  });
  assert.equal(outcome, 'stopped');
  rmSync(join(runDir, STOP_REQUEST_FILE));
}

/**
 * A run directory as a kill after checkpoint `step` leaves it: the checkpoints up to `step` kept,
 * later ones and final/ gone. Returns the directory, ready for resumeRun.
 */
export function cutToCheckpoint(runDir: string, step: number): RunDirectory {
  const run = new RunDirectory(runDir, { totalSteps: 0 });
  for (const s of run.checkpointSteps()) if (s > step) rmSync(run.checkpointPath(s), { recursive: true });
  rmSync(run.file('final'), { recursive: true });
  return run;
}
