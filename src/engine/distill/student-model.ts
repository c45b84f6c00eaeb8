import type { Value } from '../graph/types.js';
import type { TrainableModel } from '../models/model.js';
import { distillationLoss, hiddenMse } from './kd-loss.js';

/** The step graph's input that carries the teacher's logits, shaped like the student's. */
export const TEACHER_LOGITS = 'teacher_logits';
/** float32, the logits' shape without the class axis: 1 where a row or token has teacher logits. */
export const KD_MASK = 'kd_mask';
/** hidden_loss: the teacher's last hidden state at the same rows, [..., H]. */
export const TEACHER_HIDDEN = 'teacher_hidden';

export interface StudentOptions {
  /** Classes of the head (the last axis of the logits). */
  numLabels: number;
  /** Token classification: logits [batch, seq, C]; else [batch, C]. */
  perToken: boolean;
  temperature: number;
  alpha: number;
  /** hidden_loss: mse: the hidden size shared by student and teacher; absent, no hidden term. */
  hiddenSize?: number;
}

/**
 * The student as the trainer sees it: the task model with the teacher's logits (and their mask)
 * as two more batch inputs, and the distillation loss (kd-loss.ts) in place of the task's loss in
 * training. Evaluation runs the task model unchanged (eval mode: its own loss on gold labels, no
 * teacher input), so the student's eval metrics compare with the teacher's as they are.
 */
export function studentModel(task: TrainableModel, o: StudentOptions): TrainableModel {
  const lead = o.perToken ? ['batch', 'seq'] : ['batch'];
  return {
    params: task.params,
    batchInputs: [
      ...task.batchInputs,
      { name: TEACHER_LOGITS, dtype: 'float32', shape: [...lead, o.numLabels] },
      { name: KD_MASK, dtype: 'float32', shape: lead },
      ...(o.hiddenSize ? [{ name: TEACHER_HIDDEN, dtype: 'float32' as const, shape: [...lead, o.hiddenSize] }] : []),
    ],
    inferenceInputs: task.inferenceInputs,
    trainOnlyInputs: [
      ...(task.trainOnlyInputs ?? []),
      TEACHER_LOGITS,
      KD_MASK,
      ...(o.hiddenSize ? [TEACHER_HIDDEN] : []),
    ],
    forward(g, param, inputs, mode) {
      const out = task.forward(g, param, inputs, mode);
      if (mode === 'eval') return out;
      const input = (name: string) => {
        const v = inputs[name];
        if (!v) throw new Error(`the distillation loss needs the batch input '${name}'`);
        return v;
      };
      const rows = (v: Value) => g.reshape(v, [-1, o.numLabels]);
      const flat = (v: Value) => g.reshape(v, [-1]);
      const hiddenSize = o.hiddenSize;
      const loss = g.scope('distillation', () => {
        const kdMask = flat(input(KD_MASK));
        const kd = distillationLoss(g, {
          student: rows(out.logits),
          teacher: rows(input(TEACHER_LOGITS)),
          kdMask,
          labels: flat(input('labels')),
          temperature: o.temperature,
          alpha: o.alpha,
        }).loss;
        if (!hiddenSize) return kd;
        if (!out.hidden) throw new Error('hidden_loss: mse: the student model has no hidden state');
        const hidden = (v: Value) => g.reshape(v, [-1, hiddenSize]);
        // Rows of [B, 1, H] (the first token, a sequence head) or [B, T, H]: the logits' rows.
        return g.add(kd, hiddenMse(g, hidden(out.hidden), hidden(input(TEACHER_HIDDEN)), kdMask));
      });
      return { ...out, loss };
    },
  };
}
