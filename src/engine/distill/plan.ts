import type { ResolvedConfig } from '../../shared/config.js';
import type { Example } from '../data/records.js';
import { type TensorData, tensorNumbers } from '../graph/types.js';
import { modelFolderOf } from '../inference/finetuned-model.js';
import { hashFiles } from '../io/file-hash.js';
import { isCustomArch } from '../models/encoder.js';
import type { TrainableModel } from '../models/model.js';
import type { DeviceChoice } from '../runtime.js';
import type { Batch } from '../step/batch.js';
import type { EncodedExample } from '../tasks/encoder/encoded.js';
import type { EncoderTaskModel } from '../tasks/encoder/task-models.js';
import { IGNORE_INDEX } from '../tasks/encoder/task-models.js';
import type { TaskRecipe } from '../tasks/task.js';
import { planLmDistillation } from './lm-plan.js';
import { cacheKey, hashExamples, readCachedLogits, writeCachedLogits } from './logits-cache.js';
import { KD_MASK, studentModel, TEACHER_HIDDEN, TEACHER_LOGITS } from './student-model.js';
import { openTeacher, type Teacher, type TeacherOptions } from './teacher.js';

/**
 * What a distillation run trains with, from the task's recipe and model: the student model (the
 * distillation loss, teacher logits as batch inputs), the training examples (the labelled ones,
 * then the unlabeled transfer set with IGNORE_INDEX), and a collate that adds each batch's teacher
 * logits. The logits are read from the run's cache, or computed by the teacher once and cached.
 */
export interface DistillationPlan {
  model: TrainableModel;
  train: unknown[];
  collate(examples: readonly unknown[], at?: { epoch: number; batch: number }): Batch;
  /** Causal LM: adds the teacher's logits to each batch as it is drawn (lm-plan.ts). */
  prepareBatch?: (batch: Batch) => Promise<Batch>;
  /** Releases a teacher session kept open for the whole run. */
  dispose?: () => Promise<void>;
}

export interface DistillationInputs {
  config: ResolvedConfig;
  recipe: TaskRecipe;
  /** The model the method trains (LoRA: with its adapters). */
  model: TrainableModel;
  /** The training examples as loaded, and as the recipe encoded them (one each, in order). */
  examples: readonly Example[];
  encoded: readonly unknown[];
  /** data.unlabeled's rows (text classification). */
  unlabeled: readonly Example[];
  /** The student's model folder (causal LM: its tokenizer is compared with the teacher's). */
  modelFolder?: string;
  /** Where the logits cache lives (the run directory's `teacher-logits/`). */
  cacheDir: string;
  device?: DeviceChoice;
  threads?: number;
  batchSize: number;
  log(line: string): void;
  /** The teacher's session (tests count its runs); openTeacher by default. */
  open?: (path: string, o: TeacherOptions) => Promise<Teacher>;
}

export async function planDistillation(o: DistillationInputs): Promise<DistillationPlan> {
  const d = o.config.training.distillation;
  if (!d) throw new Error('planDistillation: the config has no training.distillation');
  const task = o.config.task;
  if (task === 'causal-lm') return planLmDistillation(o);
  const perToken = task === 'token-classification';
  const problemType = (o.recipe as { problemType?: string }).problemType;
  if (task !== 'text-classification' && !perToken)
    throw new Error(
      `training.distillation trains text-classification, token-classification and causal-lm, not ${task}`,
    );
  if (!perToken && problemType !== 'single_label_classification')
    throw new Error(`training.distillation takes single-label classification; this data is ${problemType}`);
  if (o.encoded.length !== o.examples.length)
    throw new Error(`distillation: ${o.examples.length} examples encoded into ${o.encoded.length}`);
  const unlabeled = (o.recipe.encode(o.unlabeled) as EncodedExample[]).map((e) => ({ ...e, label: IGNORE_INDEX }));
  const train = [...(o.encoded as EncodedExample[]), ...unlabeled];
  const examples = [...o.examples, ...o.unlabeled];
  const labels = o.recipe.labels;
  const hiddenSize = d.hidden_loss === 'mse' ? studentHiddenSize(o.recipe) : 0;
  const folder = modelFolderOf(d.teacher);
  const key = cacheKey({
    teacher: hashFiles(folder, (n) => n === 'config.json' || n.endsWith('.safetensors')),
    data: hashExamples(examples),
    maxLength: o.config.data.max_length,
    labels,
    hidden: hiddenSize > 0,
  });
  const cached = readCachedLogits(o.cacheDir, key)?.rows;
  if (cached) o.log(`teacher logits: ${cached.length} examples read from the cache (${key})`);
  const rows = cached ?? (await computeLogits(o, { folder, key, labels, examples, hiddenSize }));
  const byExample = new Map<unknown, Float32Array>(train.map((e, i) => [e, rows[i] as Float32Array]));
  const C = labels.length;
  const model = studentModel(o.model, {
    numLabels: C,
    perToken,
    temperature: d.temperature,
    alpha: d.alpha,
    ...(hiddenSize > 0 ? { hiddenSize } : {}),
  });
  const collate = (batchExamples: readonly unknown[], at?: { epoch: number; batch: number }): Batch => {
    const batch = o.recipe.collate(batchExamples, at);
    const teacher = batchExamples.map((e) => {
      const r = byExample.get(e);
      if (!r) throw new Error('distillation: a training example has no teacher logits');
      return r;
    });
    const width = { classes: C, hidden: hiddenSize };
    return {
      ...batch,
      ...(perToken ? tokenTeacher(batch.labels as TensorData, teacher, width) : rowTeacher(teacher, width)),
    };
  };
  return { model, train, collate };
}

/** hidden_loss: mse aligns the last hidden states: BERT-shaped encoders, whose sequence head reads the first token. */
function studentHiddenSize(recipe: TaskRecipe): number {
  const arch = (recipe.model as Partial<EncoderTaskModel>).arch;
  if (!arch || isCustomArch(arch))
    throw new Error(
      'training.distillation.hidden_loss: mse takes BERT-shaped encoders (BERT, RoBERTa, DistilBERT, ALBERT, ELECTRA)',
    );
  return arch.hidden;
}

/** The teacher's logits of every example, by a session opened for them alone, then cached under `key`. */
async function computeLogits(
  o: DistillationInputs,
  c: { folder: string; key: string; labels: readonly string[]; examples: readonly Example[]; hiddenSize: number },
): Promise<Float32Array[]> {
  const started = Date.now();
  const teacher = await (o.open ?? openTeacher)(c.folder, {
    task: o.config.task,
    labels: c.labels,
    maxLength: o.config.data.max_length,
    ...(c.hiddenSize > 0 ? { hidden: true } : {}),
    ...(o.device ? { device: o.device } : {}),
    ...(o.threads ? { threads: o.threads } : {}),
  });
  let rows: Float32Array[];
  try {
    if (c.hiddenSize > 0 && teacher.hiddenSize !== c.hiddenSize)
      throw new Error(
        `hidden_loss: mse aligns hidden states of one size: the teacher ${c.folder} has hidden size ${teacher.hiddenSize}, the student ${c.hiddenSize}`,
      );
    rows = await teacher.logits(c.examples, o.batchSize);
  } finally {
    await teacher.dispose();
  }
  // One row is the C logits, then (hidden_loss) the H hidden values: the cache's row width.
  writeCachedLogits(o.cacheDir, c.key, { classes: c.labels.length + c.hiddenSize, rows });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  o.log(`teacher logits: computed for ${rows.length} examples by ${c.folder} in ${seconds} s, cached (${c.key})`);
  return rows;
}

/** A teacher row's width: C logits, then `hidden` values of its last hidden state (0: none). */
interface RowWidth {
  classes: number;
  hidden: number;
}

/** The logits and hidden tensors of positions [lead...], from the teacher row given to each position. */
function teacherTensors(
  lead: number[],
  width: RowWidth,
  rowAt: (position: number) => Float32Array | undefined,
): Record<string, TensorData> {
  const n = lead.reduce((a, b) => a * b, 1);
  const { classes: C, hidden: H } = width;
  const logits = new Float32Array(n * C);
  const hidden = new Float32Array(n * H);
  const mask = new Float32Array(n);
  for (let p = 0; p < n; p++) {
    const r = rowAt(p);
    if (!r) continue;
    logits.set(r.subarray(0, C), p * C);
    if (H > 0) hidden.set(r.subarray(C, C + H), p * H);
    mask[p] = 1;
  }
  return {
    [TEACHER_LOGITS]: { dtype: 'float32', dims: [...lead, C], data: logits },
    [KD_MASK]: { dtype: 'float32', dims: lead, data: mask },
    ...(H > 0 ? { [TEACHER_HIDDEN]: { dtype: 'float32', dims: [...lead, H], data: hidden } } : {}),
  };
}

/** Text classification: one teacher row per example, every row in the KL term. */
function rowTeacher(rows: readonly Float32Array[], width: RowWidth): Record<string, TensorData> {
  return teacherTensors([rows.length], width, (b) => rows[b]);
}

/**
 * Token classification: the teacher's row of word k goes to the student's k-th labelled position
 * (its first sub-token of word k, the only positions with a label other than -100), in whichever
 * padding side the batch has; positions without a teacher row stay out of the KL term.
 */
function tokenTeacher(labels: TensorData, rows: readonly Float32Array[], width: RowWidth): Record<string, TensorData> {
  const [B, T] = labels.dims as [number, number];
  const gold = tensorNumbers(labels);
  const W = width.classes + width.hidden;
  const byPosition = new Map<number, Float32Array>();
  for (let b = 0; b < B; b++) {
    const r = rows[b] as Float32Array;
    let word = 0;
    for (let t = 0; t < T; t++) {
      if (gold[b * T + t] === IGNORE_INDEX) continue;
      if ((word + 1) * W <= r.length) byPosition.set(b * T + t, r.subarray(word * W, (word + 1) * W));
      word++;
    }
  }
  return teacherTensors([B, T], width, (p) => byPosition.get(p));
}
