import type { JsonValue } from '../shared/messages.js';

/**
 * The Charts tab's titles. They name what a language-modelling run's curves measure: its training
 * loss is the masked-LM (or causal-LM) loss, and a masked-LM evaluation's `accuracy` is over the
 * masked tokens only (run_mlm.py's metric), which "Evaluation accuracy" would hide. Runs of mixed
 * tasks overlaid keep the plain titles. No DOM: tested in Node.
 */
const LM_TASKS: Readonly<Record<string, string>> = { 'masked-lm': 'masked LM', 'causal-lm': 'causal LM' };

/**
 * Generation metrics of translation and summarization runs, as their references name them:
 * sacreBLEU's BLEU and chrF, rouge-score's ROUGE-1/2/L and ROUGE-Lsum (the keys are
 * run_translation.py's and run_summarization.py's: bleu, chrf, rouge1, rouge2, rougeL, rougeLsum).
 */
const GENERATION_METRICS: Readonly<Record<string, string>> = {
  bleu: 'BLEU',
  chrf: 'chrF',
  rouge1: 'ROUGE-1',
  rouge2: 'ROUGE-2',
  rougeL: 'ROUGE-L',
  rougeLsum: 'ROUGE-Lsum',
};

/** The task of a run's resolved config, when it names one. */
export function taskOf(config: JsonValue | undefined): string | undefined {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) return undefined;
  const task = config.task;
  return typeof task === 'string' ? task : undefined;
}

/** The task every run shown shares, or undefined when they differ or none says. */
export function sharedTask(configs: readonly (JsonValue | undefined)[]): string | undefined {
  const tasks = new Set(configs.map(taskOf));
  return tasks.size === 1 ? [...tasks][0] : undefined;
}

/** The title of a chart: `loss`, `lr`, or `eval-<metric>` (the eval loss is `eval-loss`). */
export function chartTitle(id: string, task: string | undefined): string {
  const lm = task === undefined ? undefined : LM_TASKS[task];
  const suffix = lm ? ` (${lm})` : '';
  if (id === 'loss') return `Training loss${suffix}`;
  if (id === 'lr') return 'Learning rate';
  const metric = id.replace(/^eval-/, '');
  if (metric === 'loss') return `Evaluation loss${suffix}`;
  if (metric === 'accuracy' && task === 'masked-lm') return 'Masked-token accuracy';
  return `Evaluation ${GENERATION_METRICS[metric] ?? metric}`;
}
