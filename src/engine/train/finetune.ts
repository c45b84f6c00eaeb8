import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { stringify } from 'yaml';
import type { ResolvedConfig } from '../../shared/config.js';
import { type Diagnostic, formatOf, resolveConfig, tooLargeDiagnostic } from '../../shared/config-validate.js';
import { MAX_CONFIG_BYTES } from '../../shared/limits.js';
import { createRunDirectory } from '../../shared/node/run-claims.js';
import { DISTILLATION_REPORT_FILE, RUN_FILES, STOP_REQUEST_FILE } from '../../shared/run-directory.js';
import { describeLock } from '../../shared/run-lock.js';
import { loadUnlabeled } from '../data/prepare.js';
import { TEACHER_CACHE_DIR } from '../distill/logits-cache.js';
import { planDistillation } from '../distill/plan.js';
import { writeDistillationReport } from '../distill/report.js';
import { writeDirAtomic, writeTextAtomic } from '../io/atomic.js';
import type { DeviceChoice } from '../runtime.js';
import type { EncodedExample } from '../tasks/encoder/encoded.js';
import { metricDirection } from '../tasks/metrics/registry.js';
import type { TaskRecipe } from '../tasks/task.js';
import { FileTooLargeError, readTextBounded } from '../util/bounded-read.js';
import { exportFinal } from './final-export.js';
import { type PreparedRun, prepareRun, runnerOptions } from './prepare-run.js';
import { RunDirectory } from './run-dir.js';
import type { RunExamples } from './run-examples.js';
import { failureReason, recordFailure } from './run-failure.js';
import { jobFromEnvironment, PREEMPTED_REASON, warningReceived } from './run-job.js';
import { acquireRunLock, type HeldLock } from './run-lock.js';
import { prepareResume } from './run-recovery.js';
import { runTrainer, type TrainerOutcome } from './trainer.js';

/**
 * `finetune train` and `finetune resume`: a config file in, a complete run directory out. Reads and
 * validates the config, resolves the model (folder or Hub cache), prepares the data, builds the
 * task's graphs, trains, and exports the best model into final/. Any failure ends the run as
 * `failed` with the reason in status.json, the log and the events; checkpoints stay loadable.
 */
export interface FinetuneOptions {
  device?: DeviceChoice;
  threads?: number;
  /** A live progress line for a terminal (the run directory gets everything regardless). */
  progress?: (line: string) => void;
  /** Log lines as they are written to engine.log. */
  echo?: (level: string, message: string) => void;
}

/** A config that fails validation: the diagnostics, formatted file:line:col. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly diagnostics: Diagnostic[],
  ) {
    const lines = diagnostics
      .filter((d) => d.severity === 'error')
      .map(
        (d) =>
          `${file}:${d.range.start.line + 1}:${d.range.start.character + 1}: error: ${d.message}${d.code ? ` [${d.code}]` : ''}`,
      );
    super(`the config has errors:\n${lines.join('\n')}`);
  }
}

/** A config file validated, with every default filled in (the engine reads defaults from nowhere else). */
export function loadConfig(path: string): ResolvedConfig {
  let text: string;
  try {
    text = readTextBounded(path, MAX_CONFIG_BYTES, 'a config file');
  } catch (error) {
    if (error instanceof FileTooLargeError) throw new ConfigError(path, [tooLargeDiagnostic(error.size)]);
    throw error;
  }
  const { config, diagnostics } = resolveConfig(text, formatOf(path));
  if (!config) throw new ConfigError(path, diagnostics);
  return config;
}

/** The config with model and data paths made absolute, so the run folder's copy works from anywhere. */
export function absolutePaths<
  C extends {
    model: string;
    data: {
      train: string;
      validation?: string | undefined;
      unlabeled?: string | undefined;
      augment?: { back_translation?: { via: string; back: string } | undefined } | undefined;
    };
    training?: { distillation?: { teacher: string } | undefined } | undefined;
  },
>(config: C, configDir: string): C {
  const abs = (p: string | undefined) => (p === undefined ? undefined : resolve(configDir, p));
  const isPath =
    existsSync(resolve(configDir, config.model)) || config.model.startsWith('.') || config.model.startsWith('/');
  const distillation = config.training?.distillation;
  const bt = config.data.augment?.back_translation;
  return {
    ...config,
    model: isPath ? resolve(configDir, config.model) : config.model,
    data: {
      ...config.data,
      train: resolve(configDir, config.data.train),
      ...(config.data.validation ? { validation: abs(config.data.validation) } : {}),
      ...(config.data.unlabeled ? { unlabeled: abs(config.data.unlabeled) } : {}),
      ...(bt
        ? {
            augment: {
              ...config.data.augment,
              back_translation: { ...bt, via: resolve(configDir, bt.via), back: resolve(configDir, bt.back) },
            },
          }
        : {}),
    },
    ...(distillation
      ? {
          training: {
            ...config.training,
            distillation: { ...distillation, teacher: resolve(configDir, distillation.teacher) },
          },
        }
      : {}),
  };
}

export async function trainFromConfig(
  configPath: string,
  runDirPath: string | undefined,
  o: FinetuneOptions = {},
): Promise<{ runDir: string; outcome: TrainerOutcome }> {
  const config = absolutePaths(loadConfig(configPath), dirname(resolve(configPath)));
  // A new run gets a folder no concurrent run can share; a named one may exist (the extension
  // creates it), and its lock keeps a second engine out.
  const runDir = runDirPath ? resolve(runDirPath) : createRunDirectory(resolve(config.output_dir), configPath);
  mkdirSync(runDir, { recursive: true });
  return withRunLock(runDir, 'train', async (lock) => {
    // Atomic: a run killed here must not leave a half config that makes it impossible to resume.
    writeTextAtomic(join(runDir, RUN_FILES.config), `# resolved from ${resolve(configPath)}\n${stringify(config)}`);
    return { runDir, outcome: await runInDirectory(runDir, config, undefined, o, lock) };
  });
}

export async function resumeRun(runDirPath: string, o: FinetuneOptions = {}): Promise<TrainerOutcome> {
  const runDir = resolve(runDirPath);
  const configFile = join(runDir, RUN_FILES.config);
  if (!existsSync(configFile)) throw new Error(`${runDir} is not a run directory: ${RUN_FILES.config} is missing`);
  const config = loadConfig(configFile);
  return withRunLock(runDir, 'resume', (lock) => {
    // The newest sound checkpoint, or none: a run killed before its first one starts over from step 0.
    const resumeFrom = prepareResume(new RunDirectory(runDir, { totalSteps: 0 }, o.echo));
    return runInDirectory(runDir, config, resumeFrom, o, lock);
  });
}

/**
 * Runs `body` holding the run's lock (run-lock.ts), taken before anything in the folder is written
 * and removed however the run ends: completed, stopped, failed, an exception, or process.exit.
 * Another engine's live lock throws RunLockedError before `body` runs.
 */
async function withRunLock<T>(
  runDir: string,
  command: 'train' | 'resume',
  body: (lock: HeldLock) => Promise<T>,
): Promise<T> {
  const lock = acquireRunLock(runDir, command);
  const onExit = () => lock.release();
  process.once('exit', onExit);
  try {
    return await body(lock);
  } finally {
    process.off('exit', onExit);
    lock.release();
  }
}

async function runInDirectory(
  runDir: string,
  config: ResolvedConfig,
  resumeFrom: string | undefined,
  o: FinetuneOptions,
  lock: HeldLock,
): Promise<TrainerOutcome> {
  const run = new RunDirectory(runDir, { totalSteps: 0 }, o.echo);
  if (lock.tookOver)
    run.log('warn', `took over a stale lock of ${describeLock(lock.tookOver.previous)}: ${lock.tookOver.why}`);
  let stopRequested = false;
  const onSignal = () => {
    stopRequested = true;
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // A cluster's warning before its time limit or a preemption (run-job.ts): checkpoint and stop.
  const shouldStop = () => {
    if (warningReceived()) return PREEMPTED_REASON;
    return stopRequested || existsSync(join(runDir, STOP_REQUEST_FILE));
  };
  try {
    const job = jobFromEnvironment();
    if (job) run.updateStatus({ job });
    run.setState('queued');
    return await train(run, config, resumeFrom, o, shouldStop);
  } catch (err) {
    const reason = failureReason(err, run);
    recordFailure(run, reason);
    // A storage failure's reason says more than the bare error (the checkpoint to resume from).
    throw reason === (err as Error)?.message ? err : new Error(reason, { cause: err });
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

async function train(
  run: RunDirectory,
  config: ResolvedConfig,
  resumeFrom: string | undefined,
  o: FinetuneOptions,
  shouldStop: () => boolean | string,
): Promise<TrainerOutcome> {
  const { method, optimizer, recipe, modelFolder, examples } = await prepareRun(
    run,
    config,
    resumeFrom === undefined,
    o,
  );
  try {
    return await trainOn(run, config, examples, { method, optimizer, recipe, modelFolder, resumeFrom, o, shouldStop });
  } finally {
    examples.close?.();
  }
}

async function trainOn(
  run: RunDirectory,
  config: ResolvedConfig,
  examples: RunExamples,
  x: {
    method: PreparedRun['method'];
    optimizer: PreparedRun['optimizer'];
    recipe: TaskRecipe;
    modelFolder: string;
    resumeFrom: string | undefined;
    o: FinetuneOptions;
    shouldStop: () => boolean | string;
  },
): Promise<TrainerOutcome> {
  const { method, optimizer, recipe, resumeFrom, o, shouldStop } = x;
  const t = config.training;
  const seed = t.seed;
  const { train, validation } = examples;
  const ev = config.eval;
  const metrics = ev.metrics;
  if (!validation && (ev.metrics.length || ev.early_stopping)) {
    run.log(
      'warn',
      'no validation data (data.validation or data.validation_split): evaluation settings are ignored and no evaluation runs',
    );
  }
  const bestMetric = ev.early_stopping?.metric ?? metrics[0] ?? 'loss';
  const batchSize = t.batch_size;
  const distill = t.distillation
    ? await planDistillation({
        config,
        recipe,
        model: method.model,
        examples: examples.prepared ?? [],
        encoded: train,
        unlabeled: config.data.unlabeled ? await loadUnlabeled(config.data.unlabeled, config.data) : [],
        cacheDir: run.file(TEACHER_CACHE_DIR),
        modelFolder: x.modelFolder,
        device: o.device ?? config.device,
        ...(o.threads === undefined ? {} : { threads: o.threads }),
        batchSize,
        log: (line) => run.log('info', line),
      })
    : undefined;
  try {
    return await trainWithPlan();
  } finally {
    await distill?.dispose?.();
  }

  function trainWithPlan(): Promise<TrainerOutcome> {
    return runTrainer({
      run,
      runner: runnerOptions(run, config, { method, optimizer }, o, distill?.model ?? method.model),
      settings: {
        epochs: t.epochs,
        batchSize,
        learningRate: t.learning_rate,
        scheduler: t.scheduler,
        ...(t.warmup_steps === undefined ? { warmupRatio: t.warmup_ratio } : { warmupSteps: t.warmup_steps }),
        gradientAccumulationSteps: t.gradient_accumulation_steps,
        shuffle: config.data.shuffle,
        groupByLength: t.group_by_length,
        seed,
        ...(t.save_total_limit === undefined ? {} : { saveTotalLimit: t.save_total_limit }),
        ...(t.save_steps === undefined ? {} : { saveSteps: t.save_steps }),
        saveMinutes: t.save_minutes,
        ...(validation ? { evalEvery: ev.every } : {}),
        bestMetric,
        bestMode: ev.early_stopping?.mode ?? metricDirection(bestMetric),
        ...(ev.early_stopping ? { earlyStoppingPatience: ev.early_stopping.patience } : {}),
        onNonFinite: t.on_nonfinite,
      },
      train: distill?.train ?? train,
      ...(validation ? { validation } : {}),
      collate: distill ? (items, at) => distill.collate(items, at) : examples.collate,
      ...(distill?.prepareBatch ? { prepareBatch: distill.prepareBatch } : {}),
      // A distillation batch carries the teacher's logits: only distill.collate builds it.
      ...(!distill && examples.collateStep ? { collateStep: examples.collateStep } : {}),
      tokensOf: examples.tokensOf,
      evaluate: (runner, items) => examples.evaluate(runner, items, metrics, batchSize),
      exportFinal: async (weights, best) => {
        // Into a temporary folder renamed into place: a failed export (a full disk) leaves no half model.
        writeDirAtomic(run.file(RUN_FILES.final), (dir) => {
          exportFinal(dir, { recipe, weights: method.exportWeights(weights), modelDir: x.modelFolder, metrics: best });
          method.writeFinal(dir, weights);
        });
        run.log('info', `exported the model to ${run.file(RUN_FILES.final)}`);
        // The report times encoder classifiers (their model.onnx); a causal LM's is not measured yet.
        if (t.distillation && config.task !== 'causal-lm') {
          const r = await writeDistillationReport(
            run.file(RUN_FILES.final),
            t.distillation.teacher,
            train as EncodedExample[],
          );
          const ratio = (a: number | undefined, b: number | undefined) =>
            a !== undefined && b !== undefined ? `${(a / b).toFixed(1)}x` : 'n/a';
          run.log(
            'info',
            `distillation: the student has ${ratio(r.teacher.parameters, r.student.parameters)} fewer parameters ` +
              `and runs ${ratio(r.teacher.latencyMs, r.student.latencyMs)} faster than the teacher ` +
              `(batch 1, median of ${r.latency.examples} rows; ${RUN_FILES.final}/${DISTILLATION_REPORT_FILE})`,
          );
        }
      },
      shouldStop,
      ...(resumeFrom ? { resumeFrom } : {}),
      ...(o.progress
        ? {
            onStep: (step: number, totalSteps: number, loss: number) =>
              o.progress?.(progressBar(step, totalSteps, loss)),
          }
        : {}),
    });
  }
}

function progressBar(step: number, total: number, loss: number, width = 30): string {
  const filled = Math.round((step / Math.max(1, total)) * width);
  return `[${'#'.repeat(filled)}${' '.repeat(width - filled)}] step ${step}/${total}  loss ${loss.toFixed(4)}`;
}
