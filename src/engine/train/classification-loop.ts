import { type TensorData, tensorNumbers } from '../graph/types.js';
import { learningRate, type ScheduleConfig } from '../optim/schedule.js';
import type { Batch } from '../step/batch.js';
import { rng, shuffle } from '../util/random.js';
import { batchesOf } from './batching.js';
import type { StepRunner } from './step-runner.js';

/**
 * Epochs over in-memory examples for a classification model: shuffle, batch, step with the
 * scheduled learning rate, evaluate accuracy after every epoch. The selftest and the convergence
 * test use it.
 */
export interface EpochReport {
  epoch: number;
  trainLoss: number;
  valLoss: number;
  valAccuracy: number;
  seconds: number;
  stepSeconds: number;
}

export interface LoopOptions<E> {
  runner: StepRunner;
  train: readonly E[];
  validation: readonly E[];
  collate: (examples: readonly E[]) => Batch;
  epochs: number;
  batchSize: number;
  schedule: Omit<ScheduleConfig, 'totalSteps'>;
  seed: number;
  onStep?: (done: number, total: number, loss: number) => void;
  onEpoch?: (report: EpochReport) => void;
}

/** Index of the largest logit per row of a [N, C] tensor. */
export function argmaxRows(logits: TensorData): number[] {
  const [n, c] = logits.dims as [number, number];
  const v = tensorNumbers(logits);
  return Array.from({ length: n }, (_, i) => {
    let best = 0;
    for (let j = 1; j < c; j++) if ((v[i * c + j] as number) > (v[i * c + best] as number)) best = j;
    return best;
  });
}

export async function evaluateAccuracy<E>(
  runner: StepRunner,
  examples: readonly E[],
  collate: (e: readonly E[]) => Batch,
  batchSize: number,
) {
  let lossSum = 0;
  let correct = 0;
  for (const chunk of batchesOf(examples, batchSize)) {
    const batch = collate(chunk);
    const { loss, logits } = await runner.evaluate(batch);
    lossSum += loss * chunk.length;
    const labels = tensorNumbers(batch.labels as TensorData);
    argmaxRows(logits).forEach((p, i) => {
      if (p === labels[i]) correct++;
    });
  }
  return { loss: lossSum / examples.length, accuracy: correct / examples.length };
}

export async function trainClassifier<E>(o: LoopOptions<E>): Promise<EpochReport[]> {
  const rand = rng(o.seed);
  const perEpoch = Math.ceil(o.train.length / o.batchSize);
  const total = perEpoch * o.epochs;
  const schedule: ScheduleConfig = { ...o.schedule, totalSteps: total };
  const reports: EpochReport[] = [];
  let done = 0;
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    const started = performance.now();
    let stepTime = 0;
    let lossSum = 0;
    const order = shuffle([...o.train], rand);
    for (const chunk of batchesOf(order, o.batchSize)) {
      const batch = o.collate(chunk);
      const t0 = performance.now();
      const { loss } = await o.runner.step(batch, learningRate(schedule, o.runner.steps));
      stepTime += performance.now() - t0;
      lossSum += loss;
      done++;
      o.onStep?.(done, total, loss);
    }
    const val = await evaluateAccuracy(o.runner, o.validation, o.collate, o.batchSize);
    const report: EpochReport = {
      epoch,
      trainLoss: lossSum / perEpoch,
      valLoss: val.loss,
      valAccuracy: val.accuracy,
      seconds: (performance.now() - started) / 1000,
      stepSeconds: stepTime / perEpoch / 1000,
    };
    reports.push(report);
    o.onEpoch?.(report);
  }
  return reports;
}
