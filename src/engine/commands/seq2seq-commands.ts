import { modelFolderOf } from '../inference/finetuned-model.js';
import { loadSeq2Seq, type Seq2SeqGenerationOptions } from '../inference/seq2seq-model.js';
import { predictSeq2SeqRow, seq2seqTaskOf } from '../inference/seq2seq-predict.js';
import type { GeneratePredictArgs } from './causal-lm-commands.js';
import { intOption, numberOption, UsageError } from './command.js';
import { predictJsonl } from './jsonl-predict.js';

/**
 * `finetune predict` on an encoder-decoder (translation, summarization): greedy search, beam
 * search (--num-beams) or sampling (--do-sample) with the KV-cached decoder, one line per input
 * line, in order. The flags below are the encoder-decoder's; predict's other generation flags
 * (causal-lm-commands.ts) are shared, and those that only a causal LM reads are refused here.
 */

/** The beam-search flags of `finetune predict`, for parseArgs (encoder-decoders only). */
export const SEQ2SEQ_GENERATION_OPTIONS = {
  'num-beams': { type: 'string' },
  'length-penalty': { type: 'string' },
  'early-stopping': { type: 'string' },
  'no-repeat-ngram-size': { type: 'string' },
  'min-length': { type: 'string' },
  'min-new-tokens': { type: 'string' },
} as const;

export const SEQ2SEQ_GENERATION_USAGE = `  encoder-decoder generation (defaults: the model's generation_config.json, else config.json):
                           --num-beams N (beam search when N > 1), --length-penalty P (beam score =
                           sum of log-probabilities / length^P), --early-stopping true|false|never,
                           --no-repeat-ngram-size N, --min-length N (counts the decoder start
                           token, as transformers), --min-new-tokens N, --max-new-tokens N;
                           --do-sample, --temperature, --top-k (default 50), --top-p, --seed sample
                           instead (with one beam); --no-cache recomputes the prefix per token.
`;

type FlagValues = Record<string, string | string[] | boolean | undefined>;

/** The flags an encoder-decoder reads and a causal LM does not, given on the command line. */
export function seq2seqOnlyFlags(values: FlagValues): string[] {
  return Object.keys(SEQ2SEQ_GENERATION_OPTIONS)
    .filter((k) => values[k] !== undefined)
    .map((k) => `--${k}`);
}

function earlyStoppingOption(value: string | undefined): boolean | 'never' | undefined {
  if (value === undefined) return undefined;
  if (value === 'true' || value === 'false') return value === 'true';
  if (value === 'never') return 'never';
  throw new UsageError(`--early-stopping must be true, false or never, got '${value}'`);
}

/** The search options of the beam flags (the shared flags are read by generationOptions). */
export function seq2seqSearchFlags(values: FlagValues): Seq2SeqGenerationOptions {
  const str = (k: string) => values[k] as string | undefined;
  const numBeams = intOption(str('num-beams'), 'num-beams');
  if (numBeams === 0) throw new UsageError('--num-beams must be at least 1');
  const out: Seq2SeqGenerationOptions = {
    numBeams,
    lengthPenalty: numberOption(str('length-penalty'), 'length-penalty'),
    earlyStopping: earlyStoppingOption(str('early-stopping')),
    noRepeatNgramSize: intOption(str('no-repeat-ngram-size'), 'no-repeat-ngram-size'),
    minLength: intOption(str('min-length'), 'min-length'),
    minNewTokens: intOption(str('min-new-tokens'), 'min-new-tokens'),
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined));
}

export async function predictSeq2Seq(o: GeneratePredictArgs & { search: Seq2SeqGenerationOptions }): Promise<number> {
  const g = o.generation;
  if (g.stopStrings || g.repetitionPenalty !== undefined)
    throw new UsageError(
      '--stop and --repetition-penalty apply to causal LMs; an encoder-decoder takes --num-beams, --length-penalty, --early-stopping, --no-repeat-ngram-size, --min-length, --min-new-tokens, --max-new-tokens and the sampling flags',
    );
  const folder = modelFolderOf(o.model);
  const { task, prefix } = seq2seqTaskOf(folder);
  const model = await loadSeq2Seq(folder);
  try {
    // Only what the command line gives: the rest comes from the model's generation config.
    const sampling = g.doSample
      ? {
          doSample: true,
          ...(g.temperature === undefined ? {} : { temperature: g.temperature }),
          ...(g.topK === undefined ? {} : { topK: g.topK }),
          ...(g.topP === undefined ? {} : { topP: g.topP }),
        }
      : {};
    const generation: Seq2SeqGenerationOptions = {
      ...o.search,
      ...sampling,
      ...(g.seed === undefined ? {} : { seed: g.seed }),
      ...(g.maxNewTokens === undefined ? {} : { maxNewTokens: g.maxNewTokens }),
      useCache: g.useCache ?? true,
    };
    await predictJsonl(o.input, o.output, (row, where) =>
      predictSeq2SeqRow(model, row, { textColumn: o.textColumn, where, prefix, task, generation }),
    );
    return 0;
  } finally {
    await model.dispose();
  }
}
