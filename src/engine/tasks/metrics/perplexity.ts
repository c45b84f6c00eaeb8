/**
 * Causal-LM evaluation: loss and perplexity aggregated over tokens, not over batches. Batches
 * hold different numbers of scored tokens (padding, the shifted last position), so averaging
 * per-batch means would overweight short batches; summing NLL and tokens gives the exact mean
 * NLL per token of the whole eval set.
 */

export interface NllBatch {
  /** Sum of the negative log-likelihoods (nats) of the batch's scored tokens. */
  nllSum: number;
  /** Number of scored tokens (labels other than the ignore index). */
  tokens: number;
}

export interface LmScores {
  /** Mean NLL per token, in nats. */
  loss: number;
  /** exp(loss). */
  perplexity: number;
}

/**
 * exp(loss). Past e^709 the value overflows to Infinity, which is what Hugging Face's run_clm
 * reports (`float("inf")`) for a diverged model.
 */
export function perplexityOf(loss: number): number {
  return Math.exp(loss);
}

/** Token-weighted loss and perplexity over every batch of an evaluation. */
export function lmScores(batches: Iterable<NllBatch>): LmScores {
  let nll = 0;
  let tokens = 0;
  for (const b of batches) {
    if (!Number.isInteger(b.tokens) || b.tokens < 0) {
      throw new Error(`perplexity: token count must be a non-negative integer, got ${b.tokens}`);
    }
    nll += b.nllSum;
    tokens += b.tokens;
  }
  if (tokens === 0) throw new Error('perplexity: no scored tokens');
  const loss = nll / tokens;
  return { loss, perplexity: perplexityOf(loss) };
}
