import { TASK_NAMES, type TaskName } from './config-tasks.js';

/**
 * Which `model_type`s the engine trains for each task, for the model picker and the guided config:
 * src/shared can't import the engine's family registry (src/engine/models/registry.ts), so the
 * table is here and test/engine/model-support.test.ts holds it equal to the registry (encoder
 * families: the three encoder tasks; those with a masked-LM head: masked-lm; decoders and XLNet's
 * permutation LM: causal-lm; encoder-decoders: translation and summarization).
 */
const ENCODERS = ['bert', 'roberta', 'xlm-roberta', 'camembert', 'distilbert', 'albert', 'electra', 'xlnet'] as const;
const MASKED_LM = ['bert', 'roberta', 'xlm-roberta', 'camembert', 'distilbert', 'albert', 'electra'] as const;
const CAUSAL_LM = ['gpt2', 'llama', 'mistral', 'qwen2', 'qwen3', 'phi3', 'xlnet'] as const;
const SEQ2SEQ = ['t5', 'mt5', 'bart', 'mbart', 'marian'] as const;

export const TASK_MODEL_TYPES: Readonly<Record<TaskName, readonly string[]>> = {
  'text-classification': ENCODERS,
  'token-classification': ENCODERS,
  'question-answering': ENCODERS,
  'causal-lm': CAUSAL_LM,
  'masked-lm': MASKED_LM,
  translation: SEQ2SEQ,
  summarization: SEQ2SEQ,
};

/** The tasks the engine trains a `model_type` for, in TASK_NAMES order (none: not supported). */
export function tasksOf(modelType: string): TaskName[] {
  return TASK_NAMES.filter((t) => TASK_MODEL_TYPES[t].includes(modelType));
}

export interface ModelSupport {
  supported: boolean;
  /** Why not, in words for the picker; absent when supported. */
  reason?: string;
}

/**
 * Whether the engine trains a model of this `model_type` (for `task`, when given). The reason
 * names what is supported instead, as the engine's own error does.
 */
export function modelSupport(modelType: string | undefined, task?: TaskName): ModelSupport {
  if (modelType === undefined || modelType === '')
    return { supported: false, reason: 'config.json has no model_type: the family is unknown' };
  const tasks = tasksOf(modelType);
  if (tasks.length === 0) {
    const known = [...new Set(Object.values(TASK_MODEL_TYPES).flat())].join(', ');
    return { supported: false, reason: `model_type '${modelType}' is not a family this engine trains (${known})` };
  }
  if (task !== undefined && !tasks.includes(task))
    return {
      supported: false,
      reason: `${task} is not trained on '${modelType}' (its tasks: ${tasks.join(', ')}); ${task} takes ${TASK_MODEL_TYPES[task].join(', ')}`,
    };
  return { supported: true };
}

/**
 * The language-modelling task for plain text on a model: causal-lm where the family generates
 * (decoders, and XLNet's permutation LM), else masked-lm on an encoder with an MLM head; causal-lm
 * when the family is unknown (a typed Hub id), the common case for text.
 */
export function languageModellingTask(modelType: string | undefined): 'causal-lm' | 'masked-lm' {
  const masked = modelType !== undefined && TASK_MODEL_TYPES['masked-lm'].includes(modelType);
  return masked && !TASK_MODEL_TYPES['causal-lm'].includes(modelType) ? 'masked-lm' : 'causal-lm';
}
