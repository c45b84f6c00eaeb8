import type { TaskName } from '../../shared/config.js';
import type { MetricName } from '../../shared/config-metrics.js';
import { causalLm } from './causal-lm/index.js';
import { maskedLm } from './masked-lm/index.js';
import { metricNamesOfKinds } from './metrics/registry.js';
import { questionAnswering } from './question-answering/index.js';
import { summarization, translation } from './seq2seq/index.js';
import type { TaskPlugin } from './task.js';
import { textClassification } from './text-classification/index.js';
import { tokenClassification } from './token-classification/index.js';

/**
 * Every task the engine trains, one line each, keyed by the config's task names (src/shared owns
 * them, in config-tasks.ts: the config file is a contract). Adding a task = its folder under
 * `tasks/` + its entry in config-tasks.ts (name, description, columns) + one line here; the
 * compiler asks for the line once the name exists.
 */
export const TASKS: Readonly<Record<TaskName, TaskPlugin>> = {
  'text-classification': textClassification,
  'token-classification': tokenClassification,
  'question-answering': questionAnswering,
  'causal-lm': causalLm,
  'masked-lm': maskedLm,
  translation,
  summarization,
};

export const TASK_NAMES = Object.keys(TASKS) as TaskName[];

/** The metrics the engine computes for a task (shared/config-metrics.ts lists the same; a test checks). */
export function metricNamesForTask(task: TaskName): MetricName[] {
  return metricNamesOfKinds(TASKS[task].evalKinds);
}

/** The task whose head a fine-tuned folder's config.json `architectures` names, if any. */
export function taskOfArchitectures(architectures: readonly string[] | undefined): TaskName | undefined {
  const arch = architectures?.[0] ?? '';
  return TASK_NAMES.find((name) => TASKS[name].isHead(arch));
}
