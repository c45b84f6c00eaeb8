/**
 * The metrics: the single source of each metric's name, the tasks whose evaluation computes it, its
 * direction and its description. A config lists these names in `eval.metrics` (and names one, or
 * `loss`, in `eval.early_stopping.metric`). The engine's registry (src/engine/tasks/metrics.ts)
 * adds only how each is computed, keyed by `MetricName`, and tsc checks that it computes exactly
 * these metrics for each task.
 */
import type { TaskName } from './config.js';

/** Whether a higher (`max`) or lower (`min`) value is better: early stopping's default mode and best-checkpoint order. */
export type MetricDirection = 'max' | 'min';

export interface MetricDoc {
  /** The tasks whose evaluation computes it. */
  tasks: readonly TaskName[];
  direction: MetricDirection;
  description: string;
}

/** The eval loss: reported for every task (by the trainer, not the metric registry), not listed in `eval.metrics`, minimised. */
export const EVAL_LOSS = 'loss';

const CLASSIFICATION = ['text-classification', 'token-classification'] as const;
const SCORES = ['precision', 'recall', 'f1'] as const;
const AVERAGES = ['macro', 'micro', 'weighted'] as const;
const SCORE_WORDS = { precision: 'Precision', recall: 'Recall', f1: 'F1' };
const AVERAGE_WORDS = {
  macro: 'unweighted mean over classes (entity types for token classification)',
  micro: 'computed from the total counts over all classes (entity types for token classification)',
  weighted: 'mean over classes weighted by their support',
};

/** `precision_macro`, `f1_weighted`, ...: a score with its average named explicitly. */
export type AveragedMetricName = `${(typeof SCORES)[number]}_${(typeof AVERAGES)[number]}`;

function averagedMetrics(): Record<
  AveragedMetricName,
  { tasks: typeof CLASSIFICATION; direction: 'max'; description: string }
> {
  return Object.fromEntries(
    SCORES.flatMap((score) =>
      AVERAGES.map((average) => [
        `${score}_${average}`,
        {
          tasks: CLASSIFICATION,
          direction: 'max',
          description: `${SCORE_WORDS[score]}, ${average} average: ${AVERAGE_WORDS[average]}.`,
        },
      ]),
    ),
  ) as Record<AveragedMetricName, { tasks: typeof CLASSIFICATION; direction: 'max'; description: string }>;
}

const SEQ2SEQ = ['translation', 'summarization'] as const;
const ROUGE = {
  rouge1: 'unigram',
  rouge2: 'bigram',
  rougeL: 'longest common subsequence',
  rougeLsum: 'summary-level LCS (lines as sentences)',
} as const;

/** `rouge1`, `rouge2`, `rougeL`, `rougeLsum`: rouge-score's F-measures, as run_summarization.py reports them. */
function rougeMetrics(): Record<keyof typeof ROUGE, { tasks: typeof SEQ2SEQ; direction: 'max'; description: string }> {
  return Object.fromEntries(
    Object.entries(ROUGE).map(([name, what]) => [
      name,
      {
        tasks: SEQ2SEQ,
        direction: 'max',
        description: `ROUGE ${what} F-measure of the generated texts against the targets, as rouge-score (no stemming), mean over examples, 0-100. Needs \`eval.generate: true\`.`,
      },
    ]),
  ) as Record<keyof typeof ROUGE, { tasks: typeof SEQ2SEQ; direction: 'max'; description: string }>;
}

/** By name, in the order completion lists them. */
export const METRICS = {
  accuracy: {
    tasks: [...CLASSIFICATION, 'masked-lm'],
    direction: 'max',
    description:
      'Fraction of predictions equal to the label: per example (the whole label set for multi-label), per token for token classification, per masked token for masked-lm (run_mlm.py).',
  },
  precision: {
    tasks: CLASSIFICATION,
    direction: 'max',
    description:
      'Precision of class 1 for two labels, else the macro average over classes; entity-level (seqeval, micro) for token classification.',
  },
  recall: {
    tasks: CLASSIFICATION,
    direction: 'max',
    description:
      'Recall of class 1 for two labels, else the macro average over classes; entity-level (seqeval, micro) for token classification.',
  },
  f1: {
    tasks: [...CLASSIFICATION, 'question-answering'],
    direction: 'max',
    description:
      'Harmonic mean of precision and recall: class 1 for two labels, else macro-averaged; entity-level for token classification; token overlap with the best reference answer (SQuAD) for question answering.',
  },
  ...averagedMetrics(),
  mse: {
    tasks: ['text-classification'],
    direction: 'min',
    description: 'Mean squared error, for a regression head (a single numeric label).',
  },
  mae: {
    tasks: ['text-classification'],
    direction: 'min',
    description: 'Mean absolute error, for a regression head (a single numeric label).',
  },
  pearson: {
    tasks: ['text-classification'],
    direction: 'max',
    description: "Pearson's correlation between predictions and labels, for a regression head.",
  },
  spearmanr: {
    tasks: ['text-classification'],
    direction: 'max',
    description: "Spearman's rank correlation between predictions and labels, for a regression head.",
  },
  exact_match: {
    tasks: ['question-answering'],
    direction: 'max',
    description: 'Percentage of predicted answers that match a reference answer exactly after normalization (SQuAD).',
  },
  bleu: {
    tasks: SEQ2SEQ,
    direction: 'max',
    description:
      'Corpus BLEU of the generated texts against the targets, as sacreBLEU 2.x with its defaults (13a tokenizer, exponential smoothing, brevity penalty), 0-100. Needs `eval.generate: true`.',
  },
  chrf: {
    tasks: SEQ2SEQ,
    direction: 'max',
    description:
      'Corpus chrF (character 6-grams, β = 2) of the generated texts against the targets, as sacreBLEU, 0-100. Needs `eval.generate: true`.',
  },
  ...rougeMetrics(),
  perplexity: {
    tasks: ['causal-lm', 'masked-lm'],
    direction: 'min',
    description:
      'Exponential of the mean negative log-likelihood per token on the validation set (per masked token for masked-lm).',
  },
} as const satisfies Readonly<Record<string, MetricDoc>>;

/** A name valid in `eval.metrics`. */
export type MetricName = keyof typeof METRICS;

/** Every metric name, in the table's order. */
export const METRIC_NAMES = Object.keys(METRICS) as readonly MetricName[];

export function isMetricName(name: string): name is MetricName {
  return Object.hasOwn(METRICS, name);
}

/** The tasks each metric is computed for, by any string (for checking what a config says). */
export const METRIC_TASKS: Readonly<Record<string, readonly string[]>> = Object.fromEntries(
  METRIC_NAMES.map((name) => [name, METRICS[name].tasks]),
);

/** Whether a metric (or `loss`) improves upwards or downwards; an unknown name is an error. */
export function metricDirection(name: string): MetricDirection {
  if (name === EVAL_LOSS) return 'min';
  if (!isMetricName(name)) throw new Error(`metrics: unknown metric '${name}'`);
  return METRICS[name].direction;
}
