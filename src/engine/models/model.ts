import type { GraphBuilder } from '../graph/builder.js';
import type { DType, Shape, TensorData, Value } from '../graph/types.js';

/**
 * How a parameter starts when no pretrained weight exists for it (transformers' `_init_weights`):
 * `paddingRow` is an embedding's `padding_idx`, whose row starts at zero.
 */
export type ParamInit = { kind: 'normal'; std: number; paddingRow?: number } | { kind: 'zeros' } | { kind: 'ones' };

export interface ParamSpec {
  /** Hugging Face name, e.g. `encoder.layer.0.attention.self.query.weight`. */
  name: string;
  /** Hugging Face layout: Linear weights are [out, in]. */
  shape: number[];
  init: ParamInit;
  /**
   * A persistent buffer (transformers' `register_buffer`, e.g. BART's `final_logits_bias`): loaded
   * and saved with the weights, never trained by any method.
   */
  buffer?: boolean;
}

/** A tensor the collator feeds per batch (`input_ids`, `attention_mask`, `labels`, ...). */
export interface BatchInput {
  name: string;
  dtype: DType;
  shape: Shape;
}

export type ForwardMode = 'train' | 'eval';

export interface ForwardResult {
  loss: Value;
  logits: Value;
  /**
   * The outputs of the exported inference graph by name, in order, where the task has several
   * (question answering: start_logits, end_logits, Optimum's layout); without it the export has
   * one output, `logits`.
   */
  inferenceOutputs?: Readonly<Record<string, Value>>;
  /**
   * The last hidden state the head reads ([B, T, H]; [B, 1, H] where it reads the first token
   * only), where the model has one: distillation's hidden-state alignment (hidden_loss: mse).
   */
  hidden?: Value;
}

/**
 * A model + task as the trainer sees it: its parameters, its batch tensors, and a forward pass
 * written against the graph builder. `param(name)` gives the parameter's graph value (a graph
 * input when trained, an initializer when frozen).
 */
export interface TrainableModel {
  readonly params: readonly ParamSpec[];
  readonly batchInputs: readonly BatchInput[];
  /** The batch inputs the exported inference graph takes (the training ones minus labels). */
  readonly inferenceInputs: readonly string[];
  /**
   * Batch inputs only the train and accumulate graphs take (distillation's teacher logits): the
   * eval-mode forward of evaluation never reads them, so its graph has no such input.
   */
  readonly trainOnlyInputs?: readonly string[];
  forward(
    g: GraphBuilder,
    param: (name: string) => Value,
    inputs: Readonly<Record<string, Value>>,
    mode: ForwardMode,
  ): ForwardResult;
}

export type Weights = Map<string, TensorData>;

/** A graph with every weight as an initializer (created on first use): the inference graphs' `param`. */
export function frozenParams(g: GraphBuilder, weights: Weights) {
  return (name: string): Value => {
    const existing = g.graph.values.get(name);
    if (existing) return existing;
    const tensor = weights.get(name);
    if (!tensor) throw new Error(`no weights for '${name}'`);
    return g.initializer(name, tensor);
  };
}
