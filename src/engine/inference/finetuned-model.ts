import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { ResolvedConfig, TaskName } from '../../shared/config.js';
import { applyDefaults, resolveConfig } from '../../shared/config-validate.js';
import { RUN_FILES } from '../../shared/run-directory.js';
import type { LabelSet } from '../data/labels.js';
import { encodeModel } from '../graph/onnx-codec.js';
import { quantizeDynamicInt8 } from '../graph/quantize-int8.js';
import type { TensorData } from '../graph/types.js';
import { readHfConfig } from '../io/hf-config.js';
import type { HfConfig } from '../models/hf-config.js';
import type { Weights } from '../models/model.js';
import { findFamily } from '../models/registry.js';
import { createSession, type DeviceChoice, type Session } from '../runtime.js';
import type { Batch } from '../step/batch.js';
import { buildForward, type StepGraph } from '../step/step-graph.js';
import { type EncoderRecipe, encoderRecipe } from '../tasks/encoder/recipe.js';
import type { EncoderTaskModel, ProblemType } from '../tasks/encoder/task-models.js';
import { TASKS, taskOfArchitectures } from '../tasks/registry.js';
import { Tokenizer } from '../tokenize/index.js';

/**
 * A fine-tuned model folder (a run's final/, or any Hugging Face folder with a trained head) ready
 * for predict, evaluate and export: the task comes from `architectures`, the labels from
 * `id2label`, and every weight becomes an initializer of a forward graph.
 */
export interface FinetunedModel {
  folder: string;
  task: TaskName;
  recipe: EncoderRecipe;
  tokenizer: Tokenizer;
  /** Eval-mode forward (loss and logits) over collated batches. */
  session: Session;
  lossName: string;
  logitsName: string;
  evaluate(batch: Batch): Promise<{ loss: number; logits: TensorData; hidden?: TensorData }>;
  dispose(): Promise<void>;
}

/** A run directory means its final/ folder. */
export function modelFolderOf(path: string): string {
  const abs = resolve(path);
  if (existsSync(join(abs, RUN_FILES.status)) && existsSync(join(abs, RUN_FILES.final, 'config.json')))
    return join(abs, RUN_FILES.final);
  if (existsSync(join(abs, RUN_FILES.status)))
    throw new Error(`${abs} is a run directory without a final model (the run has not completed)`);
  return abs;
}

/**
 * The resolved config of the run a final/ folder comes from (undefined for a bare model folder):
 * what the model was trained with (QA's windows, a seq2seq run's source_prefix and task).
 */
export function runConfigOf(folder: string): ResolvedConfig | undefined {
  const file = join(dirname(folder), RUN_FILES.config);
  if (basename(folder) !== RUN_FILES.final || !existsSync(file)) return undefined;
  return resolveConfig(readFileSync(file, 'utf8'), 'yaml').config;
}

/**
 * The task of a fine-tuned folder, from config.json's `architectures[0]` (the task plugins' heads);
 * a decoder's base model (GPT2Model, no head) runs as a causal LM through its tied head.
 */
export function taskOf(config: HfConfig, folder: string): TaskName {
  const task = taskOfArchitectures(config.architectures);
  if (task) return task;
  if (findFamily(config.model_type ?? '')?.kind === 'decoder') return 'causal-lm';
  throw new Error(
    `${folder}/config.json: architectures ${JSON.stringify(config.architectures ?? [])} has no task head to run (expected *ForSequenceClassification, *ForTokenClassification, *ForQuestionAnswering(Simple) or a causal LM)`,
  );
}

/** How a model's linear layers run: float32 as trained, or int8 dynamic quantization (quantize-int8.ts). */
export type Quantize = 'int8';

export async function loadFinetuned(
  path: string,
  o: { device?: DeviceChoice; maxLength?: number; quantize?: Quantize; threads?: number; hidden?: boolean } = {},
): Promise<FinetunedModel> {
  const folder = modelFolderOf(path);
  const config = readHfConfig(folder);
  const task = taskOf(config, folder);
  if (TASKS[task].inference !== 'classification')
    throw new Error(`${folder}: a ${task} model, not a classification model (open it with openModel)`);
  const problemType = (config.problem_type as ProblemType | undefined) ?? 'single_label_classification';
  const id2label = config.id2label ?? {};
  const labels = Object.keys(id2label)
    .sort((a, b) => Number(a) - Number(b))
    .map((k) => id2label[k] as string);
  const labelSet: LabelSet | undefined =
    problemType === 'regression'
      ? undefined
      : { labels, ids: new Map(labels.map((l, i) => [l, i])), order: 'model-config' };
  const tokenizer = Tokenizer.fromFolder(folder);
  const recipe = encoderRecipe({
    config: applyDefaults({ model: folder, task, data: { train: '', max_length: o.maxLength ?? 512 } }),
    modelDir: folder,
    tokenizer,
    labelSet,
    seed: 0,
    problemType,
  });
  const { session, spec, evaluate } = await forwardSession(folder, recipe, o);
  return {
    folder,
    task,
    recipe,
    tokenizer,
    session,
    lossName: spec.loss,
    logitsName: spec.logits as string,
    evaluate,
    dispose: () => session.dispose(),
  };
}

/**
 * The eval-mode forward of a fine-tuned encoder model with every weight baked in, and `evaluate`,
 * its loss (NaN when absent) and logits for a batch; refuses a folder whose task head is missing
 * (a base model that was never fine-tuned). `quantize: 'int8'` runs its linear layers through the
 * same int8 rewrite `export --quantize int8` writes.
 */
export async function forwardSession(
  folder: string,
  recipe: { model: EncoderTaskModel; weights: Weights; loadReport: { missing: string[] } },
  o: { device?: DeviceChoice; quantize?: Quantize; threads?: number; hidden?: boolean },
): Promise<{
  session: Session;
  spec: StepGraph;
  evaluate: (batch: Batch) => Promise<{ loss: number; logits: TensorData; hidden?: TensorData }>;
}> {
  const heads = recipe.loadReport.missing.filter(
    (n) => !n.includes('.embeddings.') && !n.startsWith(`${recipe.model.arch.basePrefix}.`),
  );
  if (heads.length > 0)
    throw new Error(`${folder}: the model has no trained head (${heads.join(', ')} missing): fine-tune it first`);
  const spec = buildForward({
    model: recipe.model,
    weights: recipe.weights,
    trainable: new Set(),
    optimizer: { kind: 'adamw', weightDecay: 0 },
    ...(o.hidden ? { outputHidden: true } : {}),
  });
  const graph = o.quantize === 'int8' ? quantizeDynamicInt8(spec.graph).graph : spec.graph;
  const session = await createSession(encodeModel(graph), {
    device: o.device ?? 'auto',
    ...(o.threads ? { threads: o.threads } : {}),
  });
  const lossName = spec.loss;
  const logitsName = spec.logits as string;
  const evaluate = async (batch: Batch) => {
    const out = await session.run(batch);
    const hidden = spec.hidden ? out[spec.hidden] : undefined;
    return {
      loss: (out[lossName]?.data[0] as number) ?? Number.NaN,
      logits: out[logitsName] as TensorData,
      ...(hidden ? { hidden } : {}),
    };
  };
  return { session, spec, evaluate };
}
