import type { TaskPlugin } from '../task.js';
import { maskedLmRecipe } from './recipe.js';

/**
 * Masked language modelling on an encoder (run_mlm.py's recipe): pre-training from scratch
 * (training.init: scratch) or continued pre-training on domain text, before fine-tuning.
 */
export const maskedLm: TaskPlugin = {
  name: 'masked-lm',
  data: { rows: 'text', grouped: (d) => d.line_by_line !== true },
  evalKinds: ['masked-lm'],
  evaluateMetrics: ['perplexity', 'accuracy'],
  recipe: maskedLmRecipe,
  isHead: (architecture) => architecture.endsWith('ForMaskedLM'),
  inference: 'fill-mask',
  // PEFT has no masked-LM task type: get_peft_model without one writes task_type null.
  peftTaskType: null,
  streams: true,
};
