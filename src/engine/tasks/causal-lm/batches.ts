import type { GraphBuilder } from '../../graph/builder.js';
import { type TensorData, tensorOf } from '../../graph/types.js';
import { type CausalLmModel, LM_IGNORE_INDEX } from '../../models/decoder.js';
import type { Batch } from '../../step/batch.js';

/**
 * Causal-LM examples and their batches: right padding, labels shifted by the collator, the loss
 * mask of supervised fine-tuning, and the token-weighted loss of an optimizer step.
 */
export interface LmExample {
  inputIds: number[];
  /**
   * 1 on each token the loss covers (the model learns to predict it from the tokens before), 0
   * elsewhere (a prompt, a user turn). Absent: every token. Position 0 is never predicted.
   */
  lossMask?: number[];
  line?: number;
}

/** A token the loss covers: any but the first, where the mask (if any) allows it. */
const target = (e: LmExample, t: number): boolean => t > 0 && (e.lossMask?.[t] ?? 1) === 1;

/**
 * Right-padded batch with shifted labels: labels[b, t] = input_ids[b, t + 1] where token t + 1 is a
 * real token the loss covers, -100 elsewhere (padding, masked tokens, each row's last position).
 */
export function collateLm(examples: readonly LmExample[], padId: number): Batch {
  const T = Math.max(1, ...examples.map((e) => e.inputIds.length));
  const B = examples.length;
  const ids = new Array<number>(B * T).fill(padId);
  const mask = new Array<number>(B * T).fill(0);
  const labels = new Array<number>(B * T).fill(LM_IGNORE_INDEX);
  examples.forEach((e, b) => {
    const n = e.inputIds.length;
    for (let t = 0; t < n; t++) {
      ids[b * T + t] = e.inputIds[t] as number;
      mask[b * T + t] = 1;
      if (t + 1 < n && target(e, t + 1)) labels[b * T + t] = e.inputIds[t + 1] as number;
    }
  });
  return {
    input_ids: tensorOf('int64', [B, T], ids),
    attention_mask: tensorOf('int64', [B, T], mask),
    labels: tensorOf('int64', [B, T], labels),
  };
}

/** Tokens an example predicts: the tokens its loss covers, the first never. */
export function predictedTokens(e: LmExample): number {
  let n = 0;
  for (let t = 1; t < e.inputIds.length; t++) if (target(e, t)) n++;
  return n;
}

/** Batch input of a training model: the factor its micro-batch's mean loss is scaled by. */
export const LM_LOSS_WEIGHT = 'loss_weight';

const weight = (w: number): TensorData => ({ dtype: 'float32', dims: [], data: new Float32Array([w]) });

/**
 * The model with its mean loss scaled by the `loss_weight` batch input. The step graphs average
 * the k micro-batches of an optimizer step (each gradient sum is scaled by 1/k), so a micro-batch
 * holding n_i of the step's N label tokens, weighted k·n_i/N, contributes its summed NLL over N:
 * the step's loss and gradient are the mean over all of its label tokens, as transformers ≥ 4.46
 * computes them with num_items_in_batch, whatever the lengths and masks of the micro-batches.
 */
export function tokenWeighted(model: CausalLmModel): CausalLmModel {
  return {
    ...model,
    batchInputs: [...model.batchInputs, { name: LM_LOSS_WEIGHT, dtype: 'float32', shape: [] }],
    forward(g: GraphBuilder, param, inputs, mode) {
      const out = model.forward(g, param, inputs, mode);
      const w = inputs[LM_LOSS_WEIGHT];
      return w ? { ...out, loss: g.scope('loss', () => g.mul(out.loss, w)) } : out;
    },
  };
}

/** One batch on its own (evaluation, or a step of one micro-batch without accumulation): weight 1. */
export function collateWeighted(examples: readonly LmExample[], padId: number): Batch {
  return { ...collateLm(examples, padId), [LM_LOSS_WEIGHT]: weight(1) };
}

/**
 * The micro-batches of one optimizer step, each weighted k·n_i/N (see tokenWeighted), with k the
 * configured accumulation (what the graphs divide by, also for an epoch's shorter last step).
 */
export function collateStep(micro: readonly (readonly LmExample[])[], padId: number, accumulation: number): Batch[] {
  const counts = micro.map((m) => m.reduce((n, e) => n + predictedTokens(e), 0));
  const total = counts.reduce((a, b) => a + b, 0);
  return micro.map((m, i) => ({
    ...collateLm(m, padId),
    [LM_LOSS_WEIGHT]: weight(total > 0 ? (accumulation * (counts[i] as number)) / total : 0),
  }));
}
