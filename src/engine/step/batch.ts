import type { EvalSample } from '../../shared/run-directory.js';
import type { Session } from '../backend.js';
import type { Graph } from '../graph/graph.js';
import type { TensorData } from '../graph/types.js';
import type { Weights } from '../models/model.js';

/** One batch of named input tensors, as a task's collator builds it and a step graph takes it. */
export type Batch = Readonly<Record<string, TensorData>>;

/** Anything that runs the eval-mode forward of a batch: a StepRunner, or a loaded fine-tuned model. */
export interface Evaluator {
  evaluate(batch: Batch): Promise<{ loss: number; logits: TensorData }>;
  /** The loss alone, where the evaluator can skip copying out the logits (a causal LM's are [B, T, vocab]). */
  evaluateLoss?(batch: Batch): Promise<number>;
  /**
   * A session of a graph built over the current weights, on the evaluator's device and threads:
   * what an evaluation that is not one forward pass runs (seq2seq generation's encoder and cached
   * decoder). The caller disposes it.
   */
  openSession?(build: (weights: Weights) => Graph): Promise<Session>;
  /** Sample outputs of this evaluation for the run's events (seq2seq with eval.generate). */
  reportSamples?(samples: EvalSample[]): void;
}
