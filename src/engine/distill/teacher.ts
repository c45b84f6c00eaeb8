import type { TaskName } from '../../shared/config.js';
import type { Example } from '../data/records.js';
import { type TensorData, tensorNumbers } from '../graph/types.js';
import { type FinetunedModel, loadFinetuned } from '../inference/finetuned-model.js';
import type { DeviceChoice } from '../runtime.js';
import type { EncodedExample } from '../tasks/encoder/encoded.js';
import { IGNORE_INDEX } from '../tasks/encoder/task-models.js';

/**
 * The teacher of a distillation run, opened as an inference session in the training process:
 * a run directory's final/ or a fine-tuned Hugging Face folder with the student's task and label
 * set. Its logits come out in the student's label order (a teacher may number the same labels
 * differently), one row per example (text classification) or per word (token classification: the
 * word's first sub-token, where the word's tag is predicted).
 */
export interface Teacher {
  folder: string;
  /** Its last hidden state's size: with `hidden`, each row is the C logits, then these H values. */
  hiddenSize: number;
  logits(examples: readonly Example[], batchSize: number): Promise<Float32Array[]>;
  dispose(): Promise<void>;
}

export interface TeacherOptions {
  task: TaskName;
  /** The student's labels by id (from its training data and its config.json's label2id). */
  labels: readonly string[];
  maxLength: number;
  /** Rows carry the last hidden state after the logits (hidden_loss: mse). */
  hidden?: boolean;
  device?: DeviceChoice;
  threads?: number;
}

export async function openTeacher(path: string, o: TeacherOptions): Promise<Teacher> {
  const model = await loadFinetuned(path, {
    maxLength: o.maxLength,
    ...(o.hidden ? { hidden: true } : {}),
    ...(o.device ? { device: o.device } : {}),
    ...(o.threads ? { threads: o.threads } : {}),
  });
  try {
    const order = teacherOrder(model, o);
    return {
      folder: model.folder,
      hiddenSize: model.recipe.model.arch.hidden,
      logits: (examples, batchSize) => teacherLogits(model, order, examples, batchSize),
      dispose: () => model.dispose(),
    };
  } catch (err) {
    await model.dispose();
    throw err;
  }
}

/** For each student label id, the teacher's column; an error naming both label sets when they differ. */
function teacherOrder(model: FinetunedModel, o: TeacherOptions): number[] {
  if (model.task !== o.task)
    throw new Error(`the teacher ${model.folder} is a ${model.task} model; the student trains ${o.task}`);
  if (model.recipe.problemType !== 'single_label_classification')
    throw new Error(
      `the teacher ${model.folder} is a ${model.recipe.problemType} model: distillation takes single-label classification`,
    );
  const teacher = model.recipe.labels;
  const column = new Map(teacher.map((l, i) => [l, i]));
  const same = teacher.length === o.labels.length && o.labels.every((l) => column.has(l));
  if (!same)
    throw new Error(
      `the teacher's labels differ from the student's: teacher ${model.folder}/config.json id2label [${teacher.join(', ')}], student (training data) [${o.labels.join(', ')}]`,
    );
  return o.labels.map((l) => column.get(l) as number);
}

async function teacherLogits(
  model: FinetunedModel,
  order: readonly number[],
  examples: readonly Example[],
  batchSize: number,
): Promise<Float32Array[]> {
  // Only the logits are wanted: labels the teacher does not know (or none, unlabeled rows) become
  // class 0 for its loss, which is not read; a token's -100 marks a position without a prediction.
  const encoded = model.recipe.encode(examples).map(
    (e): EncodedExample => ({
      ...e,
      label: Array.isArray(e.label) ? e.label.map((l) => (l === IGNORE_INDEX ? IGNORE_INDEX : 0)) : 0,
    }),
  );
  const out: Float32Array[] = [];
  for (let i = 0; i < encoded.length; i += batchSize) {
    const chunk = encoded.slice(i, i + batchSize);
    const batch = model.recipe.collate(chunk);
    const { logits, hidden } = await model.evaluate(batch);
    const v = tensorNumbers(logits);
    const h = hidden ? { values: hidden.data as Float32Array, size: hidden.dims[2] as number } : undefined;
    if (model.task === 'token-classification') {
      const T = logits.dims[1] as number;
      const labels = tensorNumbers(batch.labels as TensorData);
      chunk.forEach((_, b) => {
        const rows: number[] = [];
        for (let t = 0; t < T; t++) if (labels[b * T + t] !== IGNORE_INDEX) rows.push(b * T + t);
        out.push(pick(v, rows, order, h));
      });
    } else for (let b = 0; b < chunk.length; b++) out.push(pick(v, [b], order, h));
  }
  return out;
}

/**
 * Rows `rows` of a [*, C] logits array, columns reordered to the student's label ids, each followed
 * by the same row of the hidden state when there is one (a sequence head's [B, 1, H]: row b).
 */
function pick(
  v: readonly number[],
  rows: readonly number[],
  order: readonly number[],
  hidden: { values: Float32Array; size: number } | undefined,
): Float32Array {
  const C = order.length;
  const H = hidden?.size ?? 0;
  const out = new Float32Array(rows.length * (C + H));
  rows.forEach((r, k) => {
    const at = k * (C + H);
    for (let c = 0; c < C; c++) out[at + c] = v[r * C + (order[c] as number)] as number;
    if (hidden) out.set(hidden.values.subarray(r * H, (r + 1) * H), at + C);
  });
  return out;
}
