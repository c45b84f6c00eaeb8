import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ESTIMATE_VERSION, type EstimateRecord } from '../../shared/cost-estimate.js';
import { dataStamp, estimateKey, estimatePath, modelStamp } from '../../shared/node/estimate-cache.js';
import { DataError } from '../data/errors.js';
import { writeTextAtomic } from '../io/atomic.js';
import { resolveModel } from '../io/hub-download.js';
import type { DeviceChoice } from '../runtime.js';
import type { Batch } from '../step/batch.js';
import { absolutePaths, loadConfig } from './finetune.js';
import { prepareRun, runnerOptions } from './prepare-run.js';
import { RunDirectory } from './run-dir.js';
import type { RunExamples } from './run-examples.js';
import { StepRunner } from './step-runner.js';

/**
 * `finetune estimate`: what one optimizer step of a config costs on this machine. The data is
 * prepared and the step built exactly as `finetune train` does (prepare-run.ts), in a throwaway
 * run directory; then
 *   1. one optimizer step (gradient_accumulation_steps micro-batches) of the longest batch: the
 *      sessions warm up (the first run of an ONNX Runtime session allocates and plans) and the
 *      memory reaches the peak a run reaches on its longest batch; not timed;
 *   2. one optimizer step of the first batch_size rows (a batch as training draws them, padded to
 *      its own longest row), with its collation and the run directory's step event and status:
 *      timed.
 * The peak resident memory is the process's (getrusage's ru_maxrss). Evaluation is not measured.
 */
export interface EstimateOptions {
  device?: DeviceChoice;
  threads?: number;
  /** Where the record is written (the cache folder); nowhere when undefined. */
  cacheDir?: string;
  log?: (line: string) => void;
}

/** The rows of one micro-batch of each of the two steps (indices into the training examples). */
export function measuredBatches(
  examples: Pick<RunExamples, 'train' | 'tokensOf'>,
  batchSize: number,
): { longest: number[]; sample: number[] } {
  const n = examples.train.length;
  const order = Array.from({ length: n }, (_, i) => i);
  const tokens = order.map((i) => examples.tokensOf(examples.train[i]));
  const longest = [...order].sort((a, b) => (tokens[b] as number) - (tokens[a] as number) || a - b);
  return { longest: longest.slice(0, batchSize), sample: order.slice(0, batchSize) };
}

export async function estimateStep(configPath: string, o: EstimateOptions = {}): Promise<EstimateRecord> {
  const file = resolve(configPath);
  const config = absolutePaths(loadConfig(file), dirname(file));
  const t = config.training;
  if (t.distillation) {
    throw new DataError(
      'config',
      "finetune estimate measures a plain training step: training.distillation's teacher pass is not part of it",
      undefined,
      'a config without training.distillation',
    );
  }
  const device = o.device ?? config.device;
  const threads = o.threads ?? 0;
  const model = await resolveModel(config.model);
  const key = estimateKey(config, modelStamp(model.folder), threads, device);
  const scratch = mkdtempSync(join(tmpdir(), 'finetune-estimate-'));
  const run = new RunDirectory(scratch, { totalSteps: 0 }, o.log ? (_level, message) => o.log?.(message) : undefined);
  try {
    const prepared = await prepareRun(run, config, true, {
      device,
      ...(o.threads === undefined ? {} : { threads: o.threads }),
    });
    const { examples } = prepared;
    try {
      const k = t.gradient_accumulation_steps;
      const rows = measuredBatches(examples, t.batch_size);
      const collate = (indices: number[], batch: number): Batch[] => {
        const items = indices.map((i) => examples.train[i]);
        const micro = Array.from({ length: k }, () => items);
        if (examples.collateStep) return examples.collateStep(micro);
        return micro.map((m) => examples.collate(m, { epoch: 1, batch }));
      };
      const runner = await StepRunner.create(
        runnerOptions(run, config, prepared, { device, ...(o.threads === undefined ? {} : { threads: o.threads }) }),
      );
      try {
        const lr = t.learning_rate;
        const longest = collate(rows.longest, 0);
        for (const b of longest) await runner.step(b, lr);
        // Collation is the trainer's per-step work too: timed with the step.
        const start = performance.now();
        const sample = collate(rows.sample, 1);
        let loss = 0;
        for (const b of sample) loss = (await runner.step(b, lr)).loss;
        // And the trainer's bookkeeping after each step (tiny models' steps take less than it).
        run.event({ type: 'step', step: 1, epoch: 0, loss, lr, tokensPerSec: 0 });
        run.updateStatus({ step: 1, epoch: 0 });
        const stepSeconds = (performance.now() - start) / 1000;
        const dims = (b: Batch[]) => (b[0]?.input_ids?.dims ?? [])[1] ?? 0;
        const record: EstimateRecord = {
          version: ESTIMATE_VERSION,
          key,
          measuredAt: new Date().toISOString(),
          stepSeconds,
          peakRssBytes: process.resourceUsage().maxRSS * 1024,
          batchSize: rows.sample.length,
          tokens: dims(sample),
          longestTokens: dims(longest),
          trainRows: examples.train.length,
          dataStamp: dataStamp(config.data, dirname(file)),
          gradientAccumulationSteps: k,
          threads,
          device,
        };
        if (o.cacheDir) {
          mkdirSync(o.cacheDir, { recursive: true });
          writeTextAtomic(estimatePath(o.cacheDir, key), `${JSON.stringify(record, null, 2)}\n`);
        }
        return record;
      } finally {
        await runner.dispose();
      }
    } finally {
      examples.close?.();
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
