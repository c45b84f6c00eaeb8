import { encoderRecipe } from '../encoder/recipe.js';
import type { TaskPlugin } from '../task.js';

/** Token classification (BIO tags per word, seqeval metrics), as *ForTokenClassification computes it. */
export const tokenClassification: TaskPlugin = {
  name: 'token-classification',
  data: { rows: 'tagged-tokens', labels: 'tags' },
  evalKinds: ['token-classification'],
  evaluateMetrics: ['f1', 'precision', 'recall', 'accuracy'],
  recipe: encoderRecipe,
  isHead: (architecture) => architecture.endsWith('ForTokenClassification'),
  inference: 'classification',
  peftTaskType: 'TOKEN_CLS',
};
