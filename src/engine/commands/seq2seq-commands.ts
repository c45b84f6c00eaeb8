import { modelFolderOf } from '../inference/finetuned-model.js';
import { loadSeq2Seq } from '../inference/seq2seq-model.js';
import { predictSeq2SeqRow, seq2seqTaskOf } from '../inference/seq2seq-predict.js';
import type { GeneratePredictArgs } from './causal-lm-commands.js';
import { UsageError } from './command.js';
import { predictJsonl } from './jsonl-predict.js';

/**
 * `finetune predict` on an encoder-decoder (translation, summarization): greedy generation with
 * the KV-cached decoder, one line per input line, in order. Sampling, stop strings and the
 * repetition penalty are causal-LM options; beam search is not implemented yet.
 */
export async function predictSeq2Seq(o: GeneratePredictArgs): Promise<number> {
  const g = o.generation;
  if (g.doSample || g.stopStrings || g.repetitionPenalty !== undefined || g.seed !== undefined)
    throw new UsageError(
      '--do-sample, --temperature, --top-k, --top-p, --seed, --stop and --repetition-penalty apply to causal LMs; an encoder-decoder generates greedily (--max-new-tokens, --no-cache)',
    );
  const folder = modelFolderOf(o.model);
  const { task, prefix } = seq2seqTaskOf(folder);
  const model = await loadSeq2Seq(folder);
  try {
    const generation = {
      ...(g.maxNewTokens === undefined ? {} : { maxNewTokens: g.maxNewTokens }),
      useCache: g.useCache,
    };
    await predictJsonl(o.input, o.output, (row, where) =>
      predictSeq2SeqRow(model, row, { textColumn: o.textColumn, where, prefix, task, generation }),
    );
    return 0;
  } finally {
    await model.dispose();
  }
}
