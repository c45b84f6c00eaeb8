import type { ResolvedConfig, TaskName } from '../../shared/config.js';
import type { MetricName } from '../../shared/config-metrics.js';
import type { CorpusEncoding } from '../corpus/protocol.js';
import type { TokenCorpus } from '../corpus/store.js';
import type { BadRows } from '../data/errors.js';
import type { LabelSet } from '../data/labels.js';
import type { DataFormat, Example } from '../data/records.js';
import type { LoadedPretrained } from '../io/pretrained.js';
import type { AdapterHook } from '../models/layers.js';
import type { TrainableModel, Weights } from '../models/model.js';
import type { Batch, Evaluator } from '../step/batch.js';
import type { Tokenizer } from '../tokenize/index.js';
import type { EvalKind } from './metrics/registry.js';

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
  /**
   * The examples as the model takes them. A row found bad only now (causal-lm: a conversation the
   * chat template refuses) goes to `badRows`, which drops it with `data.on_bad_rows: skip` and
   * throws the located error otherwise; without `badRows` the error is thrown.
   */
  encode(examples: readonly Example[], badRows?: BadRows): E[];
  /**
   * One batch; `at` (the epoch and the batch's index in it) is where training draws it, for
   * recipes whose batches are random (masked-lm's masks): a resumed run draws the same.
   */
  collate(examples: readonly E[], at?: { epoch: number; batch: number }): Batch;
  /**
   * The micro-batches of one optimizer step collated together, where the task's loss is a mean
   * over the whole step rather than over each micro-batch (causal LM: over every label token of
   * the step, transformers' num_items_in_batch). Each micro-batch's loss is then its share of the
   * step's, and the step's loss is their sum over the configured gradient accumulation.
   */
  collateStep?(micro: readonly (readonly E[])[]): Batch[];
  /**
   * What encoding did beyond the data report, as report lines (causal-lm: supervised rows cut to
   * max_length or left out); empty when there is nothing to say.
   */
  encodeReport?(): string[];
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
  /** How the task reads a corpus streamed from a tokenized-corpus cache (data.streaming); absent: it can't. */
  streaming?: CorpusStreaming;
}

/**
 * A task's side of a streamed corpus: how the cache tokenizes the texts, and the examples over a
 * selection of them. An example is an index, read from the cache a batch at a time.
 */
export interface CorpusStreaming {
  encoding: CorpusEncoding;
  open(corpus: TokenCorpus, texts: Uint32Array): StreamedExamples;
}

export interface StreamedExamples {
  count: number;
  collate(items: readonly number[], at?: { epoch: number; batch: number }): Batch;
  /** The micro-batches of one optimizer step together (TaskRecipe.collateStep). */
  collateStep?(micro: readonly (readonly number[])[]): Batch[];
  tokensOf(item: number): number;
  evaluate(
    evaluator: Evaluator,
    items: readonly number[],
    metrics: readonly string[],
    batchSize: number,
  ): Promise<Record<string, number>>;
}

/** A recipe's load report from what loadPretrained found; `ignored` tensors are left out of `unexpected`. */
export function loadReportOf(
  loaded: LoadedPretrained,
  ignored: (name: string) => boolean = () => false,
): TaskRecipe['loadReport'] {
  return {
    missing: loaded.missing,
    unexpected: loaded.unexpected.filter((n) => !ignored(n)),
    reinitialized: loaded.reinitialized.map((r) => r.name),
  };
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

/**
 * How a fine-tuned model of the task is opened for predict, evaluate and export (inference/):
 * `classification` (an encoder with a sequence or token head), `extractive-qa` (an encoder with
 * start/end logits over context windows), `generation` (a decoder LM with a KV cache), `fill-mask`
 * (a masked LM: a pre-trained encoder to fine-tune, which predict and evaluate do not run),
 * `seq2seq` (an encoder-decoder: its exported model.onnx gives the logits of decoder_input_ids;
 * predict generates with it, greedy, beam search or sampling; evaluate does not run it).
 */
export type InferenceKind = 'classification' | 'extractive-qa' | 'generation' | 'fill-mask' | 'seq2seq';

/**
 * One task the engine trains: one folder under `tasks/`, registered once in `registry.ts`. The
 * trainer, the data pipeline, the CLI and LoRA's adapter export read a task only through this.
 */
export interface TaskPlugin {
  name: TaskName;
  /** How its data files read and which labels they fix. */
  data: DataFormat;
  /** The kinds of eval output its heads produce (text classification: single-label, multi-label, regression). */
  evalKinds: readonly EvalKind[];
  /** The metrics `finetune evaluate` prints when `--metrics` is absent. */
  evaluateMetrics: readonly MetricName[];
  /** Builds what training needs (graph, weights, encoding, evaluation). */
  recipe: RecipeFactory;
  /** Whether a config.json `architectures[0]` is this task's head (BertForTokenClassification, ...). */
  isHead(architecture: string): boolean;
  inference: InferenceKind;
  /** PEFT's `task_type` written into a LoRA adapter's adapter_config.json (null: none, masked-lm). */
  peftTaskType: string | null;
  /** Whether its recipe reads a streamed corpus (TaskRecipe.streaming, data.streaming). */
  streams?: boolean;
}
