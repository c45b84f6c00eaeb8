import type { QaExample } from '../data/records.js';
import type { QaFinetunedModel } from '../inference/qa-model.js';
import { codePointIndex } from '../tasks/question-answering/windows.js';
import { invalidRequest } from './api-error.js';
import { isObj, predictBody, type TaskPipeline } from './task-pipeline.js';

/**
 * Extractive question answering in the shape of transformers' QuestionAnsweringPipeline:
 * `{"inputs": {"question", "context"}}` (or a list of them) -> `{answer, score, start, end}`,
 * start/end character offsets in the context (end exclusive). The span is the one `finetune
 * predict` gives (run_qa.py's post-processing over the context's windows); its score is that
 * span's probability among the n-best (softmax of start_logit + end_logit), and an unanswerable
 * question gives an empty answer with score 0.
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

export function questionAnswering(model: QaFinetunedModel): TaskPipeline<QaInput, QaResult> {
  return {
    parse(body) {
      const { inputs, single } = predictBody(body, qaInput, []);
      return { inputs, single, format: (r) => r };
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
      const { answers } = await model.recipe.answers(model, model.recipe.encode(examples), 32);
      return examples.map((e) => {
        const best = answers.get(e)?.[0];
        if (!best) return { answer: '', score: 0, start: 0, end: 0 };
        return {
          answer: best.text,
          score: best.probability,
          start: codePointIndex(e.context, best.start),
          end: codePointIndex(e.context, best.end),
        };
      });
    },
  };
}
