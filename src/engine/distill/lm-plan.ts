import { type TensorData, tensorNumbers, tensorOf } from '../graph/types.js';
import type { CausalLmModel } from '../models/decoder.js';
import type { Batch } from '../step/batch.js';
import { IGNORE_INDEX } from '../tasks/encoder/task-models.js';
import { openLmTeacher } from './lm-teacher.js';
import type { DistillationInputs, DistillationPlan } from './plan.js';
import { KD_MASK, studentModel, TEACHER_LOGITS } from './student-model.js';

/**
 * Causal-LM distillation: the KL term per token over the vocabulary, at the positions the
 * language-model loss predicts (labels ≠ -100: the collator's labels are already shifted, so the
 * logits at position t predict labels[t] for student and teacher alike), with the teacher's
 * logits computed for each batch as it is drawn by a session kept open for the run (no cache:
 * B·T·V floats per batch). The teacher is deterministic (eval mode, no dropout), so a resumed run
 * sees the same logits. No unlabeled set (every text is its own target) and no hidden loss.
 */
export async function planLmDistillation(o: DistillationInputs): Promise<DistillationPlan> {
  const d = o.config.training.distillation;
  if (!d) throw new Error('planLmDistillation: the config has no training.distillation');
  if (d.hidden_loss !== 'none')
    throw new Error('training.distillation.hidden_loss: mse is for encoders; causal-lm distillation has none');
  if (o.unlabeled.length > 0) throw new Error('data.unlabeled is for text-classification distillation');
  const vocabSize = (o.recipe.model as Partial<CausalLmModel>).decoder?.arch.vocabSize;
  if (vocabSize === undefined) throw new Error('causal-lm distillation: the student is not a decoder');
  const teacher = await openLmTeacher(
    d.teacher,
    { folder: o.modelFolder ?? o.config.model, vocabSize },
    {
      ...(o.device ? { device: o.device } : {}),
      ...(o.threads ? { threads: o.threads } : {}),
    },
  );
  o.log(`teacher: ${teacher.folder} (same tokenizer, ${vocabSize} tokens); its logits are computed per batch`);
  const model = studentModel(o.model, {
    numLabels: vocabSize,
    perToken: true,
    temperature: d.temperature,
    alpha: d.alpha,
  });
  return {
    model,
    train: [...o.encoded],
    collate: (examples, at) => o.recipe.collate(examples, at),
    prepareBatch: async (batch: Batch) => ({
      ...batch,
      [TEACHER_LOGITS]: await teacher.logits(batch),
      [KD_MASK]: predictedMask(batch.labels as TensorData),
    }),
    dispose: () => teacher.dispose(),
  };
}

/** float32 [B, T]: 1 where the language-model loss predicts a token (label ≠ -100). */
export function predictedMask(labels: TensorData): TensorData {
  const values = tensorNumbers(labels).map((l) => (l === IGNORE_INDEX ? 0 : 1));
  return tensorOf('float32', [...labels.dims], values);
}
