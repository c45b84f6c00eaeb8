import type { GraphBuilder } from '../graph/builder.js';
import type { Value } from '../graph/types.js';
import { IGNORE_INDEX } from '../tasks/encoder/task-models.js';

export interface DistillationTerms {
  /** Student logits [N, C]: one row per example (text classification) or per token. */
  student: Value;
  /** Teacher logits [N, C], an input of the step graph (never differentiated). */
  teacher: Value;
  /** float32 [N]: 1 where the row takes the KL term, 0 where it has no teacher logits (padding). */
  kdMask: Value;
  /** int64 [N]: the gold class, or IGNORE_INDEX for a row of the unlabeled transfer set (or padding). */
  labels: Value;
  temperature: number;
  alpha: number;
}

/**
 * Hinton et al. (2015) knowledge distillation, in the form transformers'
 * examples/research_projects/distillation/distiller.py and DistilBERT train with:
 *
 *   loss = α · T² · KL(softmax(z_t/T) ‖ softmax(z_s/T)) + (1 − α) · CE(z_s, y)
 *
 * The KL term is a sum over classes and a mean over the rows that have teacher logits
 * (KLDivLoss(reduction="batchmean") over the selected rows); the T² keeps its gradient's scale
 * independent of T. The cross-entropy is a mean over the rows with a gold label only, so rows of
 * the unlabeled transfer set add the KL term alone; a batch without any gold label has CE = 0.
 * Built from differentiable ops only (LogSoftmax, Exp, Mul, Sub, ReduceSum, Div,
 * SoftmaxCrossEntropyLoss), each with its own numerical gradient check; the composite has one too
 * (test/engine/distill/kd-loss.test.ts).
 */
export function distillationLoss(g: GraphBuilder, t: DistillationTerms): { loss: Value; kd: Value; ce: Value } {
  const invT = 1 / t.temperature;
  const logPs = g.logSoftmax(g.mul(t.student, invT), -1);
  const logPt = g.logSoftmax(g.mul(t.teacher, invT), -1);
  // KL(p_t ‖ p_s) per row: Σ_c p_t (log p_t − log p_s).
  const klRows = g.reduceSum(g.mul(g.exp(logPt), g.sub(logPt, logPs)), [-1], false);
  const kdCount = g.reduceSum(t.kdMask, undefined, false);
  const kdMean = g.div(g.reduceSum(g.mul(klRows, t.kdMask), undefined, false), atLeastOne(g, kdCount));
  const kd = g.mul(kdMean, t.temperature * t.temperature);
  const ceSum = g.softmaxCrossEntropy(t.student, t.labels, { reduction: 'sum', ignoreIndex: IGNORE_INDEX }).loss;
  const labelled = g.reduceSum(g.where(g.equal(t.labels, IGNORE_INDEX), 0, 1), undefined, false);
  const ce = g.div(ceSum, atLeastOne(g, labelled));
  const loss = g.add(g.mul(kd, t.alpha), g.mul(ce, 1 - t.alpha));
  return { loss, kd, ce };
}

/**
 * hidden_loss: mse, DistilBERT's alignment of the student's last hidden state with the teacher's
 * (there a cosine embedding loss, alpha_cos; here the mean squared error): over the rows the
 * head reads (a sequence's first token; the labelled tokens), the mean over the hidden units of
 * (h_s − h_t)², averaged over the rows `mask` keeps.
 */
export function hiddenMse(g: GraphBuilder, student: Value, teacher: Value, mask: Value): Value {
  const diff = g.sub(student, teacher);
  const rows = g.reduceMean(g.mul(diff, diff), [-1], false);
  return g.div(g.reduceSum(g.mul(rows, mask), undefined, false), atLeastOne(g, g.reduceSum(mask, undefined, false)));
}

/** A count, or 1 where it is 0 (the sum it divides is then 0 too): no 0/0 in an all-unlabeled batch. */
const atLeastOne = (g: GraphBuilder, count: Value): Value => g.where(g.equal(count, 0), 1, count);
