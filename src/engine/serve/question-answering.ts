import type { QaExample } from '../data/records.js';
import type { QaFinetunedModel } from '../inference/qa-model.js';
import {
  PIPELINE_DEFAULTS,
  type PipelineOptions,
  type PipelineWindow,
  pipelineAnswers,
} from '../tasks/question-answering/pipeline-decode.js';
import { codePointIndex } from '../tasks/question-answering/windows.js';
import { invalidRequest } from './api-error.js';
import { isObj, type Obj, predictBody, type TaskPipeline } from './task-pipeline.js';

/**
 * Extractive question answering in the shape of transformers' QuestionAnsweringPipeline:
 * `{"inputs": {"question", "context"}}` (or a list of them) -> `{answer, score, start, end}`
 * (a list of them when top_k > 1), start/end character offsets in the context (end exclusive).
 * The context is cut into the model's windows (the run's max_length and doc_stride, run_qa.py's
 * defaults for a bare folder) and the answer is decoded as the pipeline decodes it
 * (pipeline-decode.ts): score = p_start × p_end of the softmaxed start/end logits over the
 * context (and CLS), with the pipeline's parameters top_k (1), max_answer_len (15),
 * handle_impossible_answer (false) and align_to_words (true).
 */
interface QaInput {
  question: string;
  context: string;
}

export interface QaResult {
  answer: string;
  score: number;
  start: number;
  end: number;
}

function qaInput(v: unknown, where: string): QaInput {
  if (!isObj(v)) throw invalidRequest(`${where} must be an object {"question", "context"}`, where);
  for (const key of ['question', 'context'] as const)
    if (typeof v[key] !== 'string' || (v[key] as string).trim() === '')
      throw invalidRequest(`${where}.${key} must be a non-empty string`, `${where}.${key}`);
  return { question: v.question as string, context: v.context as string };
}

function options(parameters: Obj): PipelineOptions {
  const int = (key: 'top_k' | 'max_answer_len', dflt: number) => {
    const v = parameters[key];
    if (v === undefined) return dflt;
    if (!Number.isSafeInteger(v) || (v as number) < 1)
      throw invalidRequest(`parameters.${key} must be an integer >= 1`, `parameters.${key}`);
    return v as number;
  };
  const flag = (key: 'handle_impossible_answer' | 'align_to_words', dflt: boolean) => {
    const v = parameters[key];
    if (v === undefined) return dflt;
    if (typeof v !== 'boolean') throw invalidRequest(`parameters.${key} must be true or false`, `parameters.${key}`);
    return v;
  };
  return {
    topK: int('top_k', PIPELINE_DEFAULTS.topK),
    maxAnswerLen: int('max_answer_len', PIPELINE_DEFAULTS.maxAnswerLen),
    handleImpossibleAnswer: flag('handle_impossible_answer', PIPELINE_DEFAULTS.handleImpossibleAnswer),
    alignToWords: flag('align_to_words', PIPELINE_DEFAULTS.alignToWords),
  };
}

/** What one question's windows gave: decoded per request, since its parameters are its own. */
interface QaWindows {
  context: string;
  windows: PipelineWindow[];
}

export function questionAnswering(model: QaFinetunedModel): TaskPipeline<QaInput, QaWindows> {
  const cls = model.tokenizer.clsTokenId;
  return {
    parse(body) {
      const { inputs, single, parameters } = predictBody(body, qaInput, [
        'top_k',
        'max_answer_len',
        'handle_impossible_answer',
        'align_to_words',
      ]);
      const o = options(parameters);
      return {
        inputs,
        single,
        format(r) {
          const answers: QaResult[] = pipelineAnswers(r.context, r.windows, o).map((a) => ({
            answer: a.answer,
            score: a.score,
            start: codePointIndex(r.context, a.start),
            end: codePointIndex(r.context, a.end),
          }));
          // The pipeline answers one dict when one answer remains, else the list.
          return answers.length === 1 ? answers[0] : answers;
        },
      };
    },
    async run(inputs) {
      // Every question's windows through the forward together: one batched run for the batch.
      const examples: QaExample[] = inputs.map((q, i) => ({
        kind: 'qa',
        question: q.question,
        context: q.context,
        answers: { text: [], answer_start: [] },
        source: { file: 'request', line: i + 1 },
      }));
      const { perExample } = await model.recipe.windowLogits(model, model.recipe.encode(examples), 32);
      return examples.map((e) => ({
        context: e.context,
        windows: (perExample.get(e) ?? []).map((w) => ({
          ...w,
          cls: w.window.inputIds.flatMap((id, t) => (id === cls ? [t] : [])),
          wordIds: w.window.wordIds,
        })),
      }));
    },
  };
}
