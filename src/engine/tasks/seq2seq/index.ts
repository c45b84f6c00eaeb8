import type { TaskName } from '../../../shared/config.js';
import { FAMILIES } from '../../models/registry.js';
import type { TaskPlugin } from '../task.js';
import { seq2seqRecipe } from './recipe.js';

/** The heads the encoder-decoder families export: T5ForConditionalGeneration, …, MarianMTModel. */
const SEQ2SEQ_ARCHITECTURES: ReadonlySet<string> = new Set(
  FAMILIES.flatMap((f) =>
    f.kind === 'seq2seq' ? f.modelTypes.map((t) => f.conditionalGenerationArchitecture(t)) : [],
  ),
);

/**
 * Translation and summarization: one recipe (recipe.ts), two names, as run_translation.py and
 * run_summarization.py differ only in their data and metrics. A fine-tuned model's
 * `*ForConditionalGeneration` (or MarianMTModel) head names no task, so a folder's architectures
 * open as translation.
 */
function seq2seqTask(name: Extract<TaskName, 'translation' | 'summarization'>): TaskPlugin {
  return {
    name,
    data: { rows: 'seq2seq', reportedLength: (d) => d.max_source_length },
    evalKinds: ['seq2seq'],
    evaluateMetrics: [],
    recipe: seq2seqRecipe,
    isHead: (architecture) =>
      architecture.endsWith('ForConditionalGeneration') || SEQ2SEQ_ARCHITECTURES.has(architecture),
    inference: 'seq2seq',
    peftTaskType: 'SEQ_2_SEQ_LM',
  };
}

export const translation = seq2seqTask('translation');
export const summarization = seq2seqTask('summarization');
