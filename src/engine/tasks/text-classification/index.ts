import { encoderRecipe } from '../encoder/recipe.js';
import type { TaskPlugin } from '../task.js';

/**
 * Sequence classification on an encoder (single-label; multi-label when the label column holds
 * lists; regression from the model's `problem_type`), as *ForSequenceClassification computes it.
 */
export const textClassification: TaskPlugin = {
  name: 'text-classification',
  data: { rows: 'labelled-text', labels: 'classes' },
  evalKinds: ['single-label', 'multi-label', 'regression'],
  evaluateMetrics: ['accuracy', 'f1'],
  recipe: encoderRecipe,
  isHead: (architecture) => architecture.endsWith('ForSequenceClassification'),
  inference: 'classification',
  peftTaskType: 'SEQ_CLS',
};
