import type { TensorData } from '../graph/types.js';

/** One batch of named input tensors, as a task's collator builds it and a step graph takes it. */
export type Batch = Readonly<Record<string, TensorData>>;

/** Anything that runs the eval-mode forward of a batch: a StepRunner, or a loaded fine-tuned model. */
export interface Evaluator {
  evaluate(batch: Batch): Promise<{ loss: number; logits: TensorData }>;
  /** The loss alone, where the evaluator can skip copying out the logits (a causal LM's are [B, T, vocab]). */
  evaluateLoss?(batch: Batch): Promise<number>;
}
