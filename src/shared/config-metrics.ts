/**
 * The metric names a config may list in `eval.metrics` (and name in `eval.early_stopping.metric`),
 * with the tasks that compute them and their direction. It mirrors the engine's metric registry
 * (src/engine/tasks/metrics.ts), which src/shared can't import; a test holds the two together.
 */
export interface MetricDoc {
  /** The tasks whose evaluation computes it. */
  tasks: readonly string[];
  /** Whether a higher value is better: early stopping's default mode and best-checkpoint order. */
  direction: 'max' | 'min';
  description: string;
}

const CLASSIFICATION = ['text-classification', 'token-classification'];
const AVERAGE_WORDS = {
  macro: 'unweighted mean over classes (entity types for token classification)',
  micro: 'computed from the total counts over all classes (entity types for token classification)',
  weighted: 'mean over classes weighted by their support',
};
const SCORE_WORDS = { precision: 'Precision', recall: 'Recall', f1: 'F1' };

/** By name, in the engine registry's order (completion lists them in this order). */
export const METRICS: Readonly<Record<string, MetricDoc>> = {
  accuracy: {
    tasks: CLASSIFICATION,
    direction: 'max',
    description:
      'Fraction of predictions equal to the label: per example (the whole label set for multi-label), per token for token classification.',
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
  ...Object.fromEntries(
    (['precision', 'recall', 'f1'] as const).flatMap((score) =>
      (['macro', 'micro', 'weighted'] as const).map((average) => [
        `${score}_${average}`,
        {
          tasks: CLASSIFICATION,
          direction: 'max',
          description: `${SCORE_WORDS[score]}, ${average} average: ${AVERAGE_WORDS[average]}.`,
        } satisfies MetricDoc,
      ]),
    ),
  ),
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
  perplexity: {
    tasks: ['causal-lm'],
    direction: 'min',
    description: 'Exponential of the mean negative log-likelihood per token on the validation set.',
  },
};

/** The tasks each metric is computed for. */
export const METRIC_TASKS: Readonly<Record<string, readonly string[]>> = Object.fromEntries(
  Object.entries(METRICS).map(([name, m]) => [name, m.tasks]),
);
