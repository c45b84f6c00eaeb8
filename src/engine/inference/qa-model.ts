import { applyDefaults } from '../../shared/config-validate.js';
import type { QaExample } from '../data/records.js';
import type { TensorData } from '../graph/types.js';
import type { DeviceChoice, Session } from '../runtime.js';
import type { Batch } from '../step/batch.js';
import { type QaRecipe, type QaSettings, qaRecipe } from '../tasks/question-answering/recipe.js';
import { codePointIndex } from '../tasks/question-answering/windows.js';
import { Tokenizer } from '../tokenize/index.js';
import { forwardSession, modelFolderOf, type Quantize, runConfigOf } from './finetuned-model.js';

/**
 * A fine-tuned question-answering folder (architectures *ForQuestionAnswering) ready for predict,
 * evaluate and export, and the `predict` output of one question.
 */
export interface QaFinetunedModel {
  folder: string;
  task: 'question-answering';
  recipe: QaRecipe;
  tokenizer: Tokenizer;
  session: Session;
  evaluate(batch: Batch): Promise<{ loss: number; logits: TensorData }>;
  dispose(): Promise<void>;
}

/** run_qa.py's max_seq_length; the model's positions cap it. */
const DEFAULT_MAX_LENGTH = 384;

export async function loadQaModel(
  path: string,
  o: { device?: DeviceChoice; settings?: Partial<QaSettings>; quantize?: Quantize; threads?: number } = {},
): Promise<QaFinetunedModel> {
  const folder = modelFolderOf(path);
  const tokenizer = Tokenizer.fromFolder(folder);
  // The run's windows (max_length, doc_stride, max_answer_length, n_best), as trained and evaluated.
  const qaRun = runConfigOf(folder);
  const run = qaRun?.task === 'question-answering' ? qaRun : undefined;
  const recipe = qaRecipe({
    config: applyDefaults({ model: folder, task: 'question-answering', data: { ...run?.data, train: '' } }),
    modelDir: folder,
    tokenizer,
    labelSet: undefined,
    seed: 0,
    settings: { maxLength: run?.data.max_length ?? DEFAULT_MAX_LENGTH, ...o.settings },
  });
  const { session, evaluate } = await forwardSession(folder, recipe, o);
  return { folder, task: 'question-answering', recipe, tokenizer, session, evaluate, dispose: () => session.dispose() };
}

/**
 * `predict` of one question: the best span over the context's windows. `start`/`end` are
 * character offsets in the context (code points, as SQuAD's answer_start; `end` exclusive),
 * `score` is start_logit + end_logit and `probability` its softmax over the n-best answers. When
 * no span qualifies (every top logit outside the context), the answer is "" and the numbers null.
 */
export interface QaPrediction {
  answer: string;
  score: number | null;
  start: number | null;
  end: number | null;
  probability: number | null;
}

const BATCH = 32;

export async function predictQa(model: QaFinetunedModel, row: unknown, where: string): Promise<QaPrediction> {
  if (row === null || typeof row !== 'object') throw new Error(`${where}: expected a JSON object`);
  const fields = row as Record<string, unknown>;
  for (const key of ['question', 'context'])
    if (typeof fields[key] !== 'string' || (fields[key] as string).trim() === '')
      throw new Error(`${where}: expected a non-empty string in "${key}"`);
  const [file = where, line = '0'] = where.split(/:(?=\d+$)/);
  const example: QaExample = {
    kind: 'qa',
    question: fields.question as string,
    context: fields.context as string,
    answers: { text: [], answer_start: [] },
    source: { file, line: Number(line) },
  };
  const windows = model.recipe.encode([example]);
  const { answers } = await model.recipe.answers(model, windows, BATCH);
  const best = answers.get(example)?.[0];
  if (!best) return { answer: '', score: null, start: null, end: null, probability: null };
  return {
    answer: best.text,
    score: best.score,
    start: codePointIndex(example.context, best.start),
    end: codePointIndex(example.context, best.end),
    probability: best.probability,
  };
}
