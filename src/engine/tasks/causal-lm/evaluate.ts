import type { Evaluator } from '../../step/batch.js';
import { lmScores, type NllBatch } from '../metrics/perplexity.js';
import { computeMetrics } from '../metrics/registry.js';
import { collateWeighted, type LmExample, predictedTokens } from './batches.js';

/**
 * Token-weighted loss and perplexity of examples under an evaluator whose `loss` is the mean NLL
 * of a batch's predicted tokens: each batch contributes mean × its predicted-token count, so the
 * result is Σ NLL / Σ tokens over the whole set, whatever the batch sizes and lengths.
 */
export async function evaluateLm(
  evaluator: Evaluator,
  examples: readonly LmExample[],
  batchSize: number,
  padId: number,
): Promise<{ loss: number; perplexity: number; batches: NllBatch[] }> {
  const scored = examples.filter((e) => predictedTokens(e) > 0);
  return evaluateLmItems(evaluator, scored, (chunk) => chunk, batchSize, padId);
}

/**
 * evaluateLm over items that `load` turns into examples a batch at a time (a streamed corpus's
 * indices); every item must predict at least one token.
 */
export async function evaluateLmItems<T>(
  evaluator: Evaluator,
  items: readonly T[],
  load: (chunk: readonly T[]) => readonly LmExample[],
  batchSize: number,
  padId: number,
): Promise<{ loss: number; perplexity: number; batches: NllBatch[] }> {
  const batches: NllBatch[] = [];
  for (let i = 0; i < items.length; i += batchSize) {
    const chunk = load(items.slice(i, i + batchSize));
    const tokens = chunk.reduce((n, e) => n + predictedTokens(e), 0);
    const batch = collateWeighted(chunk, padId);
    const loss = evaluator.evaluateLoss ? await evaluator.evaluateLoss(batch) : (await evaluator.evaluate(batch)).loss;
    batches.push({ nllSum: loss * tokens, tokens });
  }
  return { ...lmScores(batches), batches };
}

/** An evaluation's loss and perplexity, with the other metrics asked for. */
export function lmMetrics(
  scores: { loss: number; perplexity: number; batches: NllBatch[] },
  metrics: readonly string[],
) {
  const others = metrics.filter((m) => m !== 'loss' && m !== 'perplexity');
  return {
    loss: scores.loss,
    perplexity: scores.perplexity,
    ...computeMetrics({ kind: 'causal-lm', batches: scores.batches }, others),
  };
}
