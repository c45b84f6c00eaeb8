import type { TaskPlugin } from '../task.js';
import { qaRecipe } from './recipe.js';

/**
 * Extractive question answering (SQuAD rows, doc_stride windows, EM/F1), as *ForQuestionAnswering
 * and XLNetForQuestionAnsweringSimple (the same qa_outputs head; XLNet's beam-search head is not).
 */
export const questionAnswering: TaskPlugin = {
  name: 'question-answering',
  data: { rows: 'squad' },
  evalKinds: ['question-answering'],
  evaluateMetrics: ['exact_match', 'f1'],
  recipe: qaRecipe,
  isHead: (architecture) => /ForQuestionAnswering(Simple)?$/.test(architecture),
  inference: 'extractive-qa',
  peftTaskType: 'QUESTION_ANS',
};
