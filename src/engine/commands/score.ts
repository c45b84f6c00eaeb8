import { parseArgs } from 'node:util';
import { corpusBleu, SMOOTH_METHODS } from '../tasks/metrics/bleu.js';
import { BLEU_TOKENIZERS } from '../tasks/metrics/bleu-tokenizers.js';
import { corpusChrf } from '../tasks/metrics/chrf.js';
import { pyRstrip } from '../tasks/metrics/python-text.js';
import { DEFAULT_ROUGE_TYPES, isRougeType, type RougeType, rouge } from '../tasks/metrics/rouge.js';
import { TextMetricError } from '../tasks/metrics/text-metric-input.js';
import { fileLines } from '../util/text-lines.js';
import { type Command, choiceOption, intOption, numberOption, requiredOption, UsageError } from './command.js';

const METRICS = ['bleu', 'chrf', 'rouge'] as const;
type Metric = (typeof METRICS)[number];

// Which metric each metric-specific option belongs to, to refuse one given to another metric.
const OPTION_METRICS: Record<string, readonly Metric[]> = {
  tokenize: ['bleu'],
  'smooth-method': ['bleu'],
  'smooth-value': ['bleu'],
  lowercase: ['bleu', 'chrf'],
  'char-order': ['chrf'],
  'word-order': ['chrf'],
  beta: ['chrf'],
  whitespace: ['chrf'],
  'eps-smoothing': ['chrf'],
  'rouge-types': ['rouge'],
  newline: ['rouge'],
};

export const scoreCommand: Command = {
  summary: 'score predictions against references: BLEU and chrF as sacreBLEU, ROUGE as rouge-score',
  usage: `usage: finetune score --metric bleu|chrf|rouge --predictions FILE --references FILE [--references FILE ...] [options]

Scores a system's output the way sacreBLEU (BLEU, chrF) and Google's rouge-score (ROUGE) do, and
prints one JSON line. Files are UTF-8 text, one segment per line; each --references file holds one
reference per prediction line (repeat --references for several references per segment). As on
sacreBLEU's command line, trailing whitespace is stripped from every line; a leading byte-order
mark is ignored.

  --metric bleu     corpus BLEU of sacreBLEU 2.x (rules of 2.6.0): n-grams 1..4, exponential
                    smoothing, brevity penalty from the closest reference length. Prints name,
                    score (0..100), signature, counts, totals, precisions, bp, sys_len, ref_len
  --metric chrf     corpus chrF of sacreBLEU 2.x: character 6-grams, whitespace removed, beta 2.
                    Prints name, score (0..100), signature
  --metric rouge    rouge1, rouge2, rougeL, rougeLsum of rouge-score (no stemmer): precision, recall
                    and fmeasure in 0..1, each the plain mean over lines of the best reference's
                    score ("aggregate": "mean"; rouge-score's bootstrap "mid" estimates this mean)

BLEU options:
  --tokenize T        ${BLEU_TOKENIZERS.join(' | ')} (default 13a)
  --lowercase         lower-case before scoring (also chrF)
  --smooth-method M   ${SMOOTH_METHODS.join(' | ')} (default exp)
  --smooth-value X    the value of floor (default 0.1) or add-k (default 1)
chrF options:
  --char-order N      character n-gram orders 1..N (default 6)
  --word-order N      word n-gram orders 1..N (default 0; 2 is chrF++)
  --beta B            recall's weight (default 2)
  --whitespace        keep whitespace in character n-grams
  --eps-smoothing     chrF++.py's epsilon smoothing (signature eff:no) instead of sacreBLEU's
                      default effective-order averaging (eff:yes)
ROUGE options:
  --rouge-types LIST  comma-separated rouge1..rouge9, rougeL, rougeLsum (default
                      ${DEFAULT_ROUGE_TYPES.join(',')})
  --newline S         S inside a line is a sentence break: rougeLsum splits summaries on these
                      (e.g. '<n>'); without it each line is one sentence and rougeLsum = rougeL
`,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      options: {
        metric: { type: 'string' },
        predictions: { type: 'string' },
        references: { type: 'string', multiple: true },
        tokenize: { type: 'string' },
        lowercase: { type: 'boolean' },
        'smooth-method': { type: 'string' },
        'smooth-value': { type: 'string' },
        'char-order': { type: 'string' },
        'word-order': { type: 'string' },
        beta: { type: 'string' },
        whitespace: { type: 'boolean' },
        'eps-smoothing': { type: 'boolean' },
        'rouge-types': { type: 'string' },
        newline: { type: 'string' },
      },
      strict: true,
      allowPositionals: true,
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const metric = choiceOption(requiredOption(values.metric, 'metric'), 'metric', METRICS) as Metric;
    const predictionsPath = requiredOption(values.predictions, 'predictions');
    const referencePaths = values.references ?? [];
    if (referencePaths.length === 0) throw new UsageError('--references is required');
    for (const [option, metrics] of Object.entries(OPTION_METRICS)) {
      if (values[option as keyof typeof values] !== undefined && !metrics.includes(metric)) {
        throw new UsageError(`--${option} applies to --metric ${metrics.join(' or ')}, not ${metric}`);
      }
    }
    const compute = scorer(metric, values);
    try {
      const predictions = await readLines(predictionsPath, '--predictions');
      const references: string[][] = [];
      for (const path of referencePaths) {
        const lines = await readLines(path, '--references');
        if (lines.length !== predictions.length) {
          throw new TextMetricError(
            `--references file '${path}' has ${lines.length} lines but --predictions file '${predictionsPath}' has ${predictions.length}`,
          );
        }
        references.push(lines);
      }
      if (predictions.length === 0) throw new TextMetricError(`--predictions file '${predictionsPath}' has no lines`);
      process.stdout.write(`${JSON.stringify(compute(predictions, references))}\n`);
      return 0;
    } catch (err) {
      if (!(err instanceof TextMetricError)) throw err;
      process.stderr.write(`finetune score: ${err.message}\n`);
      return 1;
    }
  },
};

type Values = Partial<Record<string, string | boolean | string[]>>;
type Scorer = (predictions: string[], references: string[][]) => Record<string, unknown>;

/** The metric with its options checked (before any file is read), as a function of the lines. */
function scorer(metric: Metric, values: Values): Scorer {
  const str = (name: string) => values[name] as string | undefined;
  const lowercase = values.lowercase === true;
  if (metric === 'bleu') {
    const options = {
      tokenize: choiceOption(str('tokenize'), 'tokenize', BLEU_TOKENIZERS),
      lowercase,
      smoothMethod: choiceOption(str('smooth-method'), 'smooth-method', SMOOTH_METHODS),
      smoothValue: numberOption(str('smooth-value'), 'smooth-value'),
    };
    if (options.smoothValue !== undefined && options.smoothMethod !== 'floor' && options.smoothMethod !== 'add-k') {
      throw new UsageError('--smooth-value applies to --smooth-method floor or add-k only');
    }
    return (predictions, references) => {
      const s = corpusBleu(predictions, references, options);
      return {
        name: 'BLEU',
        score: s.score,
        signature: s.signature,
        counts: s.counts,
        totals: s.totals,
        precisions: s.precisions,
        bp: s.bp,
        sys_len: s.sysLen,
        ref_len: s.refLen,
      };
    };
  }
  if (metric === 'chrf') {
    const beta = numberOption(str('beta'), 'beta');
    if (beta !== undefined && !(beta > 0)) throw new UsageError(`--beta must be positive, got '${str('beta')}'`);
    const options = {
      charOrder: intOption(str('char-order'), 'char-order'),
      wordOrder: intOption(str('word-order'), 'word-order'),
      beta,
      lowercase,
      whitespace: values.whitespace === true,
      epsSmoothing: values['eps-smoothing'] === true,
    };
    if ((options.charOrder ?? 6) + (options.wordOrder ?? 0) === 0) {
      throw new UsageError('--char-order and --word-order cannot both be 0');
    }
    return (predictions, references) => {
      const s = corpusChrf(predictions, references, options);
      return { name: s.name, score: s.score, signature: s.signature };
    };
  }
  const types = rougeTypes(str('rouge-types'));
  const newline = str('newline');
  if (newline === '') throw new UsageError('--newline must not be empty');
  const split = (line: string) => (newline === undefined ? line : line.replaceAll(newline, '\n'));
  return (predictions, references) => ({
    name: 'ROUGE',
    aggregate: 'mean',
    examples: predictions.length,
    nrefs: references.length,
    stemmer: false,
    ...rouge(
      predictions.map(split),
      references.map((stream) => stream.map(split)),
      types,
    ),
  });
}

function rougeTypes(value: string | undefined): RougeType[] {
  if (value === undefined) return [...DEFAULT_ROUGE_TYPES];
  const names = value.split(',').map((s) => s.trim());
  for (const name of names) {
    if (!isRougeType(name)) {
      throw new UsageError(`--rouge-types: '${name}' is not one of rouge1..rouge9, rougeL, rougeLsum`);
    }
  }
  return [...new Set(names as RougeType[])];
}

/** The lines of a text file, right-stripped as sacreBLEU's command line reads them. */
async function readLines(path: string, what: string): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of fileLines(path, what, (m) => new TextMetricError(m))) lines.push(pyRstrip(line));
  return lines;
}
