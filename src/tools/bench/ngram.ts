import { NgramModel } from '../../engine/ngram/model.js';
import { evaluatePerplexity } from '../../engine/ngram/perplexity.js';
import { Corpus } from '../../engine/ngram/tokens.js';
import { rng } from '../../engine/util/random.js';
import { type BenchSuite, median, peakRssMb } from './suite.js';

/**
 * Order-3 modified Kneser-Ney (the causal-lm baseline every run computes) on a generated corpus of
 * 1M training tokens: training time (target < 3 s), split into reading (tokenize, vocabulary) and
 * counting (n-gram ids, continuation counts, discounts), and evaluation speed on held-out text.
 */
const TRAIN_TOKENS = 1_000_000;
const EVAL_TOKENS = 100_000;
const VOCAB = 50_000;
/** Zipf exponent: close to English word frequencies. */
const ZIPF = 1.1;
const REPEATS = 3;

/** Lines of `tokens` words drawn from a Zipf law over `VOCAB` words, 5 to 30 words a line. */
/** Draws ranks 0..n-1 with probability ∝ 1 / (rank + 1)^exponent (inverse CDF, binary search). */
export function zipfSampler(n: number, exponent: number, rand: () => number): () => number {
  const cdf = new Float64Array(n);
  let acc = 0;
  for (let r = 0; r < n; r++) {
    acc += 1 / (r + 1) ** exponent;
    cdf[r] = acc;
  }
  return () => {
    const x = rand() * acc;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cdf[mid] as number) < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

function zipfLines(tokens: number, seed: number): string[] {
  const rand = rng(seed);
  const rank = zipfSampler(VOCAB, ZIPF, rand);
  const word = (): string => `w${rank()}`;
  const lines: string[] = [];
  for (let left = tokens; left > 0; ) {
    const n = Math.min(left, 5 + Math.floor(rand() * 26));
    lines.push(Array.from({ length: n }, word).join(' '));
    left -= n;
  }
  return lines;
}

export const ngramSuite: BenchSuite = {
  name: 'ngram',
  summary: `order-3 modified Kneser-Ney, ${TRAIN_TOKENS / 1e6}M training tokens (Zipf ${ZIPF} over ${VOCAB} words)`,
  async run(log) {
    const train = zipfLines(TRAIN_TOKENS, 1);
    const held = zipfLines(EVAL_TOKENS, 2);
    const readMs: number[] = [];
    const countMs: number[] = [];
    let model: NgramModel | undefined;
    for (let i = 0; i < REPEATS; i++) {
      const t0 = performance.now();
      const corpus = new Corpus(3);
      for (const line of train) corpus.addLine(line);
      const t1 = performance.now();
      model = NgramModel.fromCorpus(corpus, { order: 3, smoothing: 'modified-kneser-ney' });
      const t2 = performance.now();
      readMs.push(t1 - t0);
      countMs.push(t2 - t1);
    }
    const trainMs = median(readMs.map((r, i) => r + (countMs[i] as number)));
    const t0 = performance.now();
    const result = await evaluatePerplexity(model as NgramModel, held);
    const evalMs = performance.now() - t0;
    const rss = await peakRssMb();
    const tokensPerSec = result.tokens / (evalMs / 1000);
    log(
      `mkn-3  train ${trainMs.toFixed(0)} ms (read ${median(readMs).toFixed(0)} + count ${median(countMs).toFixed(0)})` +
        `  eval ${result.tokens} tokens ${evalMs.toFixed(0)} ms (${tokensPerSec.toFixed(0)} tokens/s)` +
        `  perplexity ${result.perplexity.toFixed(1)}  peak RSS ${rss.toFixed(0)} MiB`,
    );
    return [
      {
        case: 'ngram-mkn3-1m',
        train_tokens: (model as NgramModel).trainTokens,
        train_ms: Math.round(trainMs),
        read_ms: Math.round(median(readMs)),
        count_ms: Math.round(median(countMs)),
        eval_tokens: result.tokens,
        eval_ms: Math.round(evalMs),
        eval_tokens_per_s: Math.round(tokensPerSec),
        perplexity: Number(result.perplexity.toFixed(3)),
        peak_rss_mb: Math.round(rss),
      },
    ];
  },
};
