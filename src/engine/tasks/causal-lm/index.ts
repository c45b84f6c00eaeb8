import type { TaskPlugin } from '../task.js';
import { causalLmRecipe } from './recipe.js';

/** Causal language modelling on a decoder (run_clm's recipe; token-weighted perplexity). */
export const causalLm: TaskPlugin = {
  name: 'causal-lm',
  data: { rows: 'sft' },
  evalKinds: ['causal-lm'],
  evaluateMetrics: ['perplexity'],
  recipe: causalLmRecipe,
  isHead: (architecture) => /LMHeadModel$|ForCausalLM$/.test(architecture),
  inference: 'generation',
  peftTaskType: 'CAUSAL_LM',
};
