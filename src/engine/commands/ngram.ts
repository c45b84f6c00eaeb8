import { parseArgs } from 'node:util';
import { ngramPerplexity, type PerplexityResult } from '../ngram/perplexity.js';
import { checkOptions, MAX_ORDER, SMOOTHINGS, type Smoothing } from '../ngram/smoothing.js';
import { NgramError } from '../ngram/tokens.js';
import { fileLines } from '../util/text-lines.js';
import { type Command, choiceOption, numberOption, UsageError } from './command.js';

const FORMATS = ['json', 'text'] as const;

export const ngramCommand: Command = {
  summary: 'train an n-gram language model (MLE, add-k, Kneser-Ney) and print its perplexity',
  usage: `usage: finetune ngram --order N --smoothing S --train FILE --eval FILE [--discount D] [--k K] [--format json]

Trains an n-gram model on the lines of --train (one sentence per line, lower-cased, split on
whitespace) and prints its perplexity on --eval, counting every word and each sentence's </s>;
words outside the training vocabulary are scored as <unk>.

  --order N        1 to ${MAX_ORDER}
  --smoothing S    mle | laplace (add-one, or add-k with --k) | kneser-ney (interpolated, one
                   discount) | modified-kneser-ney (interpolated, three discounts per order
                   estimated from counts of counts, Chen & Goodman 1998)
  --train FILE     training text, UTF-8
  --eval FILE      evaluation text, UTF-8
  --discount D     kneser-ney's absolute discount, in [0, 1] (default 0.75)
  --k K            laplace's added count, > 0 (default 1)
  --format json    one JSON line {"smoothing","order","perplexity","tokens","oov"}; perplexity is the
                   string "inf" (with "zero_prob_tokens") when some token has probability 0
`,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      options: {
        order: { type: 'string' },
        smoothing: { type: 'string' },
        train: { type: 'string' },
        eval: { type: 'string' },
        discount: { type: 'string' },
        k: { type: 'string' },
        format: { type: 'string' },
      },
      strict: true,
      allowPositionals: true,
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const order = orderOption(values.order);
    const smoothing = choiceOption(required(values.smoothing, 'smoothing'), 'smoothing', SMOOTHINGS) as Smoothing;
    const train = required(values.train, 'train');
    const evalPath = required(values.eval, 'eval');
    const discount = numberOption(values.discount, 'discount');
    const k = numberOption(values.k, 'k');
    const format = choiceOption(values.format, 'format', FORMATS) ?? 'text';
    if (discount !== undefined && smoothing !== 'kneser-ney') {
      throw new UsageError(`--discount applies to --smoothing kneser-ney only, not ${smoothing}`);
    }
    if (k !== undefined && smoothing !== 'laplace') {
      throw new UsageError(`--k applies to --smoothing laplace only, not ${smoothing}`);
    }
    try {
      checkOptions({ order, smoothing, discount, k });
    } catch (err) {
      throw err instanceof NgramError ? new UsageError(err.message) : err;
    }
    let result: PerplexityResult;
    try {
      result = await ngramPerplexity({
        order,
        smoothing,
        discount,
        k,
        trainLines: fileLines(train, '--train', (m) => new NgramError(m)),
        evalLines: fileLines(evalPath, '--eval', (m) => new NgramError(m)),
      });
    } catch (err) {
      if (!(err instanceof NgramError)) throw err;
      process.stderr.write(`finetune ngram: ${err.message}\n`);
      return 1;
    }
    process.stdout.write(
      `${format === 'json' ? formatJson(smoothing, order, result) : formatText(smoothing, order, result)}\n`,
    );
    return 0;
  },
};

/** The `--format json` line; JSON has no Infinity, so an infinite perplexity is the string "inf". */
export function formatJson(smoothing: Smoothing, order: number, r: PerplexityResult): string {
  const infinite = !Number.isFinite(r.perplexity);
  return JSON.stringify({
    smoothing,
    order,
    perplexity: infinite ? 'inf' : r.perplexity,
    tokens: r.tokens,
    oov: r.oov,
    ...(infinite ? { zero_prob_tokens: r.zeroProbTokens } : {}),
  });
}

export function formatText(smoothing: Smoothing, order: number, r: PerplexityResult): string {
  const ppl = Number.isFinite(r.perplexity)
    ? r.perplexity.toFixed(4)
    : `inf (${r.zeroProbTokens} token${r.zeroProbTokens === 1 ? '' : 's'} with probability 0)`;
  return `${order}-gram ${smoothing}: perplexity ${ppl} over ${r.tokens} tokens, ${r.oov} OOV`;
}

function required(value: string | undefined, name: string): string {
  if (value === undefined) throw new UsageError(`--${name} is required`);
  return value;
}

function orderOption(value: string | undefined): number {
  const order = Number(required(value, 'order'));
  if (!Number.isInteger(order) || order < 1 || order > MAX_ORDER) {
    throw new UsageError(`--order must be an integer from 1 to ${MAX_ORDER}, got '${value}'`);
  }
  return order;
}
