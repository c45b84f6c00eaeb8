import type { ResolvedConfig, TaskName } from '../../shared/config.js';
import type { LabelSet } from '../data/labels.js';
import type { Example } from '../data/records.js';
import type { AdapterHook } from '../models/layers.js';
import type { TrainableModel, Weights } from '../models/model.js';
import type { Tokenizer } from '../tokenize/index.js';
import type { Batch, Evaluator } from '../train/step-runner.js';

/**
 * What training needs from a task on a model family: the graph, its pretrained weights, how
 * examples become batches, how an evaluation scores, and what the exported config.json says.
 * The trainer and the CLI see only this; each task (classification, QA, causal LM) implements it.
 */
export interface TaskRecipe<E = unknown> {
  model: TrainableModel;
  weights: Weights;
  loadReport: { missing: string[]; unexpected: string[]; reinitialized: string[] };
  /** Class names by id ([] where the task has none). */
  labels: string[];
  /** `architectures[0]` of the exported config.json, e.g. BertForSequenceClassification. */
  architecture: string;
  /** Keys the exported config.json gets besides architectures and labels (e.g. problem_type). */
  exportConfig: Record<string, unknown>;
  encode(examples: readonly Example[]): E[];
  collate(examples: readonly E[]): Batch;
  /** Tokens of an example that count toward throughput (non-padding). */
  tokensOf(example: E): number;
  /** Eval loss and the named metrics over examples. */
  evaluate(
    evaluator: Evaluator,
    examples: readonly E[],
    metrics: readonly string[],
    batchSize: number,
  ): Promise<Record<string, number>>;
  /**
   * Work a new run does once before its first step (not on resume), with the prepared data: the
   * causal-lm recipe logs its n-gram baseline perplexity here.
   */
  beforeTraining?(run: RunReporter, data: { train: readonly Example[]; validation: readonly Example[] }): Promise<void>;
}

/** The part of a run directory a recipe may write to: log lines and events. */
export interface RunReporter {
  log(level: 'info' | 'warn', message: string): void;
  event(body: { type: 'eval'; step: number; metrics: Record<string, number> }): void;
}

export interface RecipeOptions {
  config: ResolvedConfig;
  modelDir: string;
  tokenizer: Tokenizer;
  labelSet: LabelSet | undefined;
  seed: number;
  /** LoRA adapters (training.method lora): the recipe hands them to its model's blocks. */
  adapters?: AdapterHook;
}

export type RecipeFactory = (o: RecipeOptions) => TaskRecipe;

/** The recipe of each task: one entry per task the engine trains. */
export function recipeFor(task: TaskName, registry: Partial<Record<TaskName, RecipeFactory>>): RecipeFactory {
  const factory = registry[task];
  if (!factory) {
    const known = Object.keys(registry).join(', ');
    throw new Error(`task '${task}' cannot be trained by this version of the engine (it trains: ${known})`);
  }
  return factory;
}
