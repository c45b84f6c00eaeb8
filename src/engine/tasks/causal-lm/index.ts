import { readHfConfig } from '../../io/hf-config.js';
import { HfConfigReader } from '../../models/hf-config.js';
import type { RecipeOptions, TaskPlugin, TaskRecipe } from '../task.js';
import { permutationLmRecipe } from './permutation-recipe.js';
import { causalLmRecipe } from './recipe.js';

/** A decoder's run_clm recipe, or on XLNet its own objective: the permutation LM (XLNetLMHeadModel). */
function recipeFor(o: RecipeOptions): TaskRecipe {
  const cfg = new HfConfigReader(readHfConfig(o.modelDir), `${o.modelDir}/config.json`);
  if (cfg.str('model_type', '') === 'xlnet') return permutationLmRecipe(o, cfg) as TaskRecipe;
  return causalLmRecipe(o);
}

/**
 * Causal language modelling on a decoder (run_clm's recipe; token-weighted perplexity), and
 * continued pretraining of XLNet with the permutation LM (run_plm's recipe).
 */
export const causalLm: TaskPlugin = {
  name: 'causal-lm',
  data: { rows: 'sft' },
  evalKinds: ['causal-lm'],
  evaluateMetrics: ['perplexity'],
  recipe: recipeFor,
  isHead: (architecture) => /LMHeadModel$|ForCausalLM$/.test(architecture),
  inference: 'generation',
  peftTaskType: 'CAUSAL_LM',
  // Text rows on a decoder (data.format text); not XLNet's permutation LM nor supervised rows.
  streams: true,
};
