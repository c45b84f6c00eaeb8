import type { ResolvedConfig } from '../../../shared/config.js';
import { MAX_EVAL_SAMPLES } from '../../../shared/run-directory.js';
import type { Seq2Seq } from '../../models/seq2seq.js';
import type { Evaluator } from '../../step/batch.js';
import type { Tokenizer } from '../../tokenize/index.js';
import { computeMetrics } from '../metrics/registry.js';
import type { Seq2SeqEncoded } from './batches.js';
import { generateIds } from './generate.js';
import { resolveSearch, type Seq2SeqSearch } from './generation-config.js';
import { decoderStepGraph, encoderGraph } from './generation-graphs.js';

/**
 * The generating evaluation of translation and summarization (`eval.generate: true`), as
 * Seq2SeqTrainer with `predict_with_generate` and run_translation.py's / run_summarization.py's
 * compute_metrics do it: the validation sources are decoded with the current weights (the model's
 * generation config, eval.num_beams and eval.max_new_tokens over it), predictions and references
 * (the label ids) are decoded with special tokens skipped and stripped, and the text metrics are
 * computed over them. The first MAX_EVAL_SAMPLES rows go to the run's events as a `samples` event.
 */

/** What a generating evaluation reports when eval.metrics names none: run_translation.py's and run_summarization.py's. */
export function generatedMetricsOf(task: 'translation' | 'summarization', listed: readonly string[]): string[] {
  if (listed.length > 0) return [...listed];
  return task === 'translation' ? ['bleu', 'chrf'] : ['rouge1', 'rouge2', 'rougeL', 'rougeLsum'];
}

/** eval.* over the model's generation config: one sequence per row. */
export function evalSearch(defaults: Seq2SeqSearch, config: ResolvedConfig): Seq2SeqSearch {
  const ev = config.eval;
  return resolveSearch(defaults, {
    ...(ev.num_beams === undefined ? {} : { numBeams: ev.num_beams }),
    maxNewTokens: ev.max_new_tokens ?? Math.max(1, config.data.max_target_length - 1),
    numReturnSequences: 1,
  });
}

export async function evaluateGenerated(
  evaluator: Evaluator,
  examples: readonly Seq2SeqEncoded[],
  o: { seq2seq: Seq2Seq; tokenizer: Tokenizer; search: Seq2SeqSearch; metrics: readonly string[]; batchSize: number },
): Promise<Record<string, number>> {
  if (!evaluator.openSession) throw new Error('eval.generate: this evaluator cannot open generation sessions');
  const encoder = await evaluator.openSession((w) => encoderGraph(o.seq2seq, w));
  const decoder = await evaluator
    .openSession((w) => decoderStepGraph(o.seq2seq, w))
    .catch(async (err) => {
      await encoder.dispose();
      throw err;
    });
  const predictions: string[] = [];
  try {
    for (let i = 0; i < examples.length; i += o.batchSize) {
      const chunk = examples.slice(i, i + o.batchSize);
      const found = await generateIds(
        { encoder, decoder },
        o.seq2seq.arch,
        chunk.map((e) => e.inputIds),
        o.search,
      );
      predictions.push(...found.map((g) => o.tokenizer.decode(g.ids, true).trim()));
    }
  } finally {
    await Promise.allSettled([encoder.dispose(), decoder.dispose()]);
  }
  const references = examples.map((e) => o.tokenizer.decode(e.labels, true).trim());
  evaluator.reportSamples?.(
    examples.slice(0, MAX_EVAL_SAMPLES).map((e, i) => ({
      source: e.source,
      reference: references[i] as string,
      prediction: predictions[i] as string,
    })),
  );
  return computeMetrics({ kind: 'seq2seq', predictions, references }, o.metrics);
}
