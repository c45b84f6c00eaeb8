import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedConfig } from '../../shared/config.js';
import { MAX_MODEL_JSON_BYTES } from '../../shared/limits.js';
import { BACK_TRANSLATION_CACHE, prepareAndAugment } from '../augment/augment.js';
import { DataError } from '../data/errors.js';
import { renderReport, reportJson } from '../data/report.js';
import { STUDENT_INIT_DIR, studentFromTeacher } from '../distill/init-student.js';
import { writeTextAtomic } from '../io/atomic.js';
import { resolveModel } from '../io/hub-download.js';
import { loraFor, prepareMethod } from '../methods/method.js';
import type { DeviceChoice } from '../runtime.js';
import { TASKS } from '../tasks/registry.js';
import type { TaskRecipe } from '../tasks/task.js';
import { Tokenizer } from '../tokenize/index.js';
import { readJsonBounded } from '../util/bounded-read.js';
import type { RunDirectory } from './run-dir.js';
import { inMemoryExamples, type RunExamples, streamedExamples } from './run-examples.js';
import type { StepRunnerOptions } from './step-runner.js';
import { runsCacheDir, streamsData } from './streamed-data.js';

/**
 * What a run trains with, built once for `finetune train` (finetune.ts) and `finetune estimate`
 * (estimate.ts), so that the step an estimate times is the step a run takes.
 */
export interface PreparedRun {
  method: ReturnType<typeof prepareMethod>;
  optimizer: { kind: 'adamw'; weightDecay: number };
  recipe: TaskRecipe;
  modelFolder: string;
  examples: RunExamples;
}

/**
 * The model resolved and loaded, the data prepared and encoded, the task's recipe and the training
 * method's graphs: everything the trainer needs but the step runner. `newRun`: the recipe's
 * before-training work runs (a resumed run did it already).
 */
export async function prepareRun(
  run: RunDirectory,
  config: ResolvedConfig,
  newRun: boolean,
  o: { device?: DeviceChoice; threads?: number } = {},
): Promise<PreparedRun> {
  const t = config.training;
  const seed = t.seed;
  const model = await studentModelFolder(config, await resolveModel(config.model), run, !newRun);
  run.log('info', `model: ${config.model} -> ${model.folder}`);
  const tokenizer = Tokenizer.fromFolder(model.folder);
  const modelConfig = readJsonBounded(
    join(model.folder, 'config.json'),
    MAX_MODEL_JSON_BYTES,
    "a model's config.json",
  ) as {
    label2id?: Record<string, number>;
    model_type?: string;
  };
  const modelType = modelConfig.model_type ?? '';
  const lora = loraFor(config, modelType);
  const task = TASKS[config.task];
  const streamed = streamsData(config);
  if (streamed && !task.streams) {
    throw new DataError(
      'config',
      `task ${config.task} reads its data in memory: data.streaming (and a folder as data.train) is for masked-lm and causal-lm`,
      undefined,
      'a data file and data.streaming: false',
    );
  }
  const data = streamed
    ? undefined
    : await prepareAndAugment(config.data, {
        task: config.task,
        format: task.data,
        baseDir: process.cwd(), // unused: the data paths are absolute by now
        seed,
        ...(modelConfig.label2id ? { label2id: modelConfig.label2id } : {}),
        tokens: {
          counter: { countTokens: (text, pair) => tokenizer.encode(text, pair ?? null).ids.length },
          name: 'model tokenizer',
        },
        runtime: {
          cacheDir: runsCacheDir(run.path, BACK_TRANSLATION_CACHE),
          device: o.device ?? config.device,
          ...(o.threads === undefined ? {} : { threads: o.threads }),
          log: (line) => run.log('info', line),
        },
      });
  if (data) {
    for (const line of renderReport(data.report).split('\n')) if (line) run.log('info', line);
    writeTextAtomic(run.file('data-report.json'), `${JSON.stringify(reportJson(data.report), null, 2)}\n`);
  }
  const recipe = task.recipe({
    config,
    modelDir: model.folder,
    tokenizer,
    labelSet: data?.labels,
    seed,
    ...(lora ? { adapters: lora.hook } : {}),
  });
  const report = recipe.loadReport;
  if (t.init === 'scratch')
    run.log('info', `training.init: scratch: all ${report.missing.length} parameters initialised from config.json`);
  else if (report.missing.length > 0)
    run.log('info', `initialised (not in the checkpoint): ${report.missing.join(', ')}`);
  if (report.unexpected.length > 0)
    run.log('info', `unused weights in the checkpoint: ${report.unexpected.join(', ')}`);
  if (report.reinitialized.length > 0)
    run.log('warn', `re-initialised (shape differs from the checkpoint): ${report.reinitialized.join(', ')}`);

  const optimizer = { kind: 'adamw', weightDecay: t.weight_decay } as const;
  const method = prepareMethod(config, recipe, {
    modelType,
    seed,
    optimizer,
    accumulation: t.gradient_accumulation_steps,
    ...(lora ? { lora } : {}),
  });
  for (const line of method.logLines) run.log('info', line);
  const examples = data
    ? await inMemoryExamples(run, config, recipe, data, newRun)
    : await streamedExamples(run, config, recipe, model.folder);
  return { method, optimizer, recipe, modelFolder: model.folder, examples };
}

/** The step runner's options for a run's method (the trainer's and `finetune estimate`'s). */
export function runnerOptions(
  run: RunDirectory,
  config: ResolvedConfig,
  prepared: Pick<PreparedRun, 'method' | 'optimizer'>,
  o: { device?: DeviceChoice; threads?: number },
  model = prepared.method.model,
): StepRunnerOptions {
  const t = config.training;
  return {
    model,
    weights: prepared.method.weights,
    trainable: prepared.method.trainable,
    optimizer: prepared.optimizer,
    maxGradNorm: t.max_grad_norm,
    gradientAccumulationSteps: t.gradient_accumulation_steps,
    seed: t.seed,
    device: o.device ?? config.device,
    ...(o.threads === undefined ? {} : { threads: o.threads }),
    log: (line) => run.log('info', line),
  };
}

/**
 * The model folder the run trains: the config's, or with distillation's student_layers_from_teacher
 * the teacher's every other layer in the config model's layer count (run directory's student-init/).
 */
async function studentModelFolder(
  config: ResolvedConfig,
  model: { folder: string },
  run: RunDirectory,
  resuming: boolean,
): Promise<{ folder: string }> {
  const d = config.training.distillation;
  if (!d?.student_layers_from_teacher) return model;
  const folder = run.file(STUDENT_INIT_DIR);
  // Written atomically by the first start; a resumed run's weights come from its checkpoint anyway.
  if (resuming && existsSync(join(folder, 'config.json'))) return { folder };
  const made = studentFromTeacher(model.folder, d.teacher, folder);
  run.log(
    'info',
    `student_layers_from_teacher: the student starts from teacher layers ${made.teacherLayers.join(', ')}`,
  );
  return { folder };
}
