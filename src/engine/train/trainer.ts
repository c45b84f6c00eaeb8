import type { NonFinitePolicy } from '../../shared/config.js';
import type { Weights } from '../models/model.js';
import { learningRate, type SchedulerName } from '../optim/schedule.js';
import type { Batch } from '../step/batch.js';
import { epochBatches } from './batching.js';
import { readCheckpointFiles, type TrainerProgress, writeCheckpointFiles } from './checkpoint-state.js';
import { NonFiniteWatch } from './nonfinite.js';
import type { RunDirectory } from './run-dir.js';
import { removeStaleTemporaries } from './run-recovery.js';
import { SavePolicy } from './save-policy.js';
import { StepRunner, type StepRunnerOptions } from './step-runner.js';

/**
 * The training loop over a run directory: epochs of (optionally shuffled) batches, gradient
 * accumulation, the learning-rate schedule, evaluation every epoch or N steps, best-checkpoint
 * tracking and early stopping, checkpoints that resume exactly, and a stop request honoured at the
 * next step boundary. Data, collation, metrics and the final export are the caller's (per task).
 */
export interface TrainerSettings {
  epochs: number;
  batchSize: number;
  learningRate: number;
  scheduler: SchedulerName;
  warmupSteps?: number;
  warmupRatio?: number;
  gradientAccumulationSteps: number;
  shuffle: boolean;
  /** Batches of similar lengths (Hugging Face's `group_by_length`): less padding. */
  groupByLength?: boolean;
  seed: number;
  saveTotalLimit?: number;
  /** Checkpoints between evaluations: every N optimizer steps, and after N minutes without one. */
  saveSteps?: number;
  saveMinutes?: number;
  /** Evaluation cadence; undefined = no evaluation (no validation data). */
  evalEvery?: 'epoch' | number;
  /** Metric that picks the best checkpoint and drives early stopping. */
  bestMetric: string;
  bestMode: 'max' | 'min';
  earlyStoppingPatience?: number;
  /** A step with a NaN or infinite loss or gradient norm: fail the run (default), or skip its update. */
  onNonFinite?: NonFinitePolicy;
}

export interface TrainerSetup<E> {
  run: RunDirectory;
  runner: StepRunnerOptions;
  settings: TrainerSettings;
  train: readonly E[];
  validation?: readonly E[];
  /** One batch; `at` is where training draws it (epoch, batch index), which random batches (masks) hash. */
  collate: (examples: readonly E[], at?: { epoch: number; batch: number }) => Batch;
  /**
   * Collates the micro-batches of one optimizer step together (TaskRecipe.collateStep): the task's
   * loss is then a mean over the whole step, and a step's loss is the sum of its micro-batch
   * losses over the configured accumulation (not their mean).
   */
  collateStep?: (micro: readonly (readonly E[])[]) => Batch[];
  /**
   * Completes a training batch before its step with what only an async call can compute (a causal
   * LM teacher's logits, computed on the fly); a pure function of the batch, so resume stays exact.
   */
  prepareBatch?: (batch: Batch) => Promise<Batch>;
  /** Tokens that count toward throughput (non-padding). */
  tokensOf: (example: E) => number;
  /** Metrics (including `loss`) of the current weights on the validation set. */
  evaluate: (runner: StepRunner, examples: readonly E[]) => Promise<Record<string, number>>;
  /** Writes the final model (the best weights) and its metrics into the run's final/ folder. */
  exportFinal: (weights: Weights, metrics: Record<string, number> | undefined) => Promise<void>;
  /** Whether to checkpoint and stop now; a string is why (status.json's reason), else 'stopped by request'. */
  shouldStop: () => boolean | string;
  /** Checkpoint folder to resume from. */
  resumeFrom?: string;
  /** Called after every optimizer step (terminal progress). */
  onStep?: (step: number, totalSteps: number, loss: number) => void;
}

export type TrainerOutcome = 'completed' | 'stopped' | 'early-stopped';

export async function runTrainer<E>(setup: TrainerSetup<E>): Promise<TrainerOutcome> {
  const { run, settings: s } = setup;
  const microPerEpoch = Math.ceil(setup.train.length / s.batchSize);
  const stepsPerEpoch = Math.ceil(microPerEpoch / s.gradientAccumulationSteps);
  const totalSteps = stepsPerEpoch * s.epochs;
  const schedule = {
    scheduler: s.scheduler,
    baseLr: s.learningRate,
    totalSteps,
    warmupSteps: s.warmupSteps,
    warmupRatio: s.warmupRatio,
  };
  const trained = setup.runner.trainable;
  const onNonFinite = s.onNonFinite ?? 'stop';
  const runnerOptions = { ...setup.runner, skipNonFinite: onNonFinite === 'skip_step' };
  const nonFinite = new NonFiniteWatch(onNonFinite, run, s.learningRate);

  let progress: TrainerProgress = {
    optimizerSteps: 0,
    microSteps: 0,
    pendingMicroSteps: 0,
    epoch: 1,
    batchInEpoch: 0,
    evalsWithoutImprovement: 0,
    seed: s.seed,
    pendingLosses: [],
  };
  let runner: StepRunner;
  if (setup.resumeFrom) {
    const ckpt = readCheckpointFiles(setup.resumeFrom, trained);
    for (const [name, t] of ckpt.weights) if (setup.runner.weights.has(name)) setup.runner.weights.set(name, t);
    runner = await StepRunner.create(runnerOptions, ckpt.runner);
    progress = ckpt.progress;
    run.log(
      'info',
      `resumed from ${setup.resumeFrom} at step ${progress.optimizerSteps} (epoch ${progress.epoch}, batch ${progress.batchInEpoch})`,
    );
  } else {
    runner = await StepRunner.create(runnerOptions);
  }
  // A generating evaluation's samples (seq2seq eval.generate) go into events.jsonl at its step.
  runner.sampleSink = (samples) => run.event({ type: 'samples', step: runner.steps, samples });
  run.updateStatus({ totalSteps, step: progress.optimizerSteps, ...(progress.best ? { best: progress.best } : {}) });
  run.setState('running');

  const saves = new SavePolicy({
    ...(s.saveSteps === undefined ? {} : { steps: s.saveSteps }),
    ...(s.saveMinutes === undefined ? {} : { minutes: s.saveMinutes }),
  });
  // The end of an epoch checkpoints by itself (see below): a step checkpoint there would be rewritten.
  const epochEndCheckpoints = s.evalEvery === undefined || (s.evalEvery === 'epoch' && setup.validation !== undefined);
  const checkpoint = () => {
    saves.saved(runner.steps);
    const state = runner.exportState();
    const { optimizerSteps, microSteps, pendingMicroSteps, skippedSteps } = state;
    const snapshot = {
      ...progress,
      optimizerSteps,
      microSteps,
      pendingMicroSteps,
      skippedSteps,
      pendingLosses: [...stepLosses],
    };
    run.writeCheckpoint(runner.steps, (dir) => writeCheckpointFiles(dir, runner.weights(), state, snapshot));
    if (s.saveTotalLimit !== undefined) run.pruneCheckpoints(s.saveTotalLimit, progress.best?.step);
  };
  let bestMetrics: Record<string, number> | undefined;
  // Micro-batch losses of the optimizer step in progress (restored on resume).
  let stepLosses: number[] = [...(progress.pendingLosses ?? [])];
  /** Evaluates, records the best, checkpoints; true when early stopping says stop. */
  const evaluateNow = async (): Promise<boolean> => {
    if (!setup.validation || s.evalEvery === undefined) return false;
    const metrics = await setup.evaluate(runner, setup.validation);
    run.event({ type: 'eval', step: runner.steps, metrics });
    const value = metrics[s.bestMetric];
    if (value === undefined)
      throw new Error(`evaluation produced no '${s.bestMetric}' metric (got ${Object.keys(metrics).join(', ')})`);
    const better = !progress.best || (s.bestMode === 'max' ? value > progress.best.value : value < progress.best.value);
    if (better) {
      progress.best = { metric: s.bestMetric, value, step: runner.steps };
      bestMetrics = metrics;
      progress.evalsWithoutImprovement = 0;
      run.updateStatus({ best: progress.best });
    } else {
      progress.evalsWithoutImprovement++;
    }
    run.log(
      'info',
      `eval at step ${runner.steps}: ${Object.entries(metrics)
        .map(([k, v]) => `${k} ${v.toFixed(4)}`)
        .join(', ')}`,
    );
    checkpoint();
    return s.earlyStoppingPatience !== undefined && progress.evalsWithoutImprovement >= s.earlyStoppingPatience;
  };

  let outcome: TrainerOutcome = 'completed';
  let stopReason = 'stopped by request';
  try {
    training: while (progress.epoch <= s.epochs) {
      const micro = epochBatches(
        setup.train,
        {
          batchSize: s.batchSize,
          stepExamples: s.batchSize * s.gradientAccumulationSteps,
          shuffle: s.shuffle,
          groupByLength: s.groupByLength ?? false,
          seed: s.seed,
          epoch: progress.epoch,
        },
        setup.tokensOf,
      );
      let stepTokens = 0;
      let stepStart = performance.now();
      // The optimizer step's micro-batches, collated together (collateStep), by their first index.
      let stepBatches: { start: number; batches: Batch[] } | undefined;
      const k = s.gradientAccumulationSteps;
      const collateAt = (b: number): Batch => {
        if (!setup.collateStep) return setup.collate(micro[b] as E[], { epoch: progress.epoch, batch: b });
        // Steps cut at multiples of k from each epoch's start (an epoch's last step may be shorter).
        const start = b - (b % k);
        if (stepBatches?.start !== start) {
          stepBatches = { start, batches: setup.collateStep(micro.slice(start, Math.min(start + k, micro.length))) };
        }
        return stepBatches.batches[b - start] as Batch;
      };
      while (progress.batchInEpoch < micro.length) {
        const stop = setup.shouldStop();
        if (stop) {
          if (typeof stop === 'string') stopReason = stop;
          outcome = 'stopped';
          break training;
        }
        const examples = micro[progress.batchInEpoch] as E[];
        const lastOfEpoch = progress.batchInEpoch === micro.length - 1;
        const lr = learningRate(schedule, runner.steps);
        const collated = collateAt(progress.batchInEpoch);
        const batch = setup.prepareBatch ? await setup.prepareBatch(collated) : collated;
        const result = await runner.step(batch, lr, lastOfEpoch);
        progress.batchInEpoch++;
        stepLosses.push(result.loss);
        stepTokens += examples.reduce((n, e) => n + setup.tokensOf(e), 0);
        if (!result.updated) {
          nonFinite.microBatch(result.loss, runner.steps + 1);
          continue;
        }
        // A skipped step has no loss to plot: its log line (NonFiniteWatch) stands for its event.
        const skipped = nonFinite.afterStep(result, runner.steps);
        const seconds = (performance.now() - stepStart) / 1000;
        const loss = stepLosses.reduce((a, b) => a + b, 0) / (setup.collateStep ? k : stepLosses.length);
        const epoch = progress.epoch - 1 + progress.batchInEpoch / micro.length;
        if (!skipped)
          run.event({ type: 'step', step: runner.steps, epoch, loss, lr, tokensPerSec: stepTokens / seconds });
        run.updateStatus({ step: runner.steps, epoch });
        if (!skipped) setup.onStep?.(runner.steps, totalSteps, loss);
        stepLosses = [];
        stepTokens = 0;
        stepStart = performance.now();
        if (typeof s.evalEvery === 'number' && runner.steps % s.evalEvery === 0 && (await evaluateNow())) {
          outcome = 'early-stopped';
          break training;
        }
        if (saves.due(runner.steps) && !(lastOfEpoch && epochEndCheckpoints)) checkpoint();
      }
      // The epoch is done: a checkpoint from here on resumes at the next epoch's start, so a resumed
      // run does not evaluate this epoch's weights again.
      progress.epoch++;
      progress.batchInEpoch = 0;
      if (s.evalEvery === 'epoch' && (await evaluateNow())) {
        outcome = 'early-stopped';
        break;
      }
      if (s.evalEvery === undefined) checkpoint();
    }
    if (outcome === 'stopped') {
      checkpoint();
      run.log('info', `stop requested: checkpoint saved at step ${runner.steps}`);
      run.setState('stopped', stopReason);
      return outcome;
    }
    let finalWeights = runner.weights();
    if (progress.best && progress.best.step !== runner.steps) {
      finalWeights = readCheckpointFiles(run.checkpointPath(progress.best.step), trained).weights;
      run.log(
        'info',
        `restoring the best checkpoint (step ${progress.best.step}, ${progress.best.metric} ${progress.best.value.toFixed(4)})`,
      );
    }
    // After a resume the best evaluation may predate this process: its headline value is kept.
    const best = progress.best;
    await setup.exportFinal(finalWeights, bestMetrics ?? (best ? { [best.metric]: best.value } : undefined));
    if (outcome === 'early-stopped')
      run.log('info', `early stopping: no improvement of ${s.bestMetric} in ${s.earlyStoppingPatience} evaluations`);
    removeStaleTemporaries(run.path, (line) => run.log('info', line));
    run.setState('completed');
    return outcome;
  } finally {
    await runner.dispose();
  }
}
