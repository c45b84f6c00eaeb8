import { epochBatches } from '../../engine/train/batching.js';
import { normal, rng } from '../../engine/util/random.js';
import { createRunner, randomBatch, THROUGHPUT_CASES, type ThroughputCase } from './engine-case.js';
import type { BenchSuite } from './suite.js';

/**
 * Real text has varied lengths. Training throughput in real (non-padding) tokens per second on
 * lengths drawn like real text (lognormal, median 40 tokens, capped at 128) for three ways of
 * making batches of 16: every example padded to 128; random batches padded to their longest
 * example (dynamic padding, what the trainer does); and length-grouped batches (the trainer's
 * `group_by_length`), padded to their longest.
 */
const EXAMPLES = 16 * 24;
const MEDIAN = 40;
const SIGMA = 0.7;

function lengths(n: number, max: number, seed: number): number[] {
  const rand = rng(seed);
  return Array.from({ length: n }, () =>
    Math.max(4, Math.min(max, Math.round(MEDIAN * Math.exp(SIGMA * normal(rand))))),
  );
}

type Strategy = 'pad-to-max' | 'dynamic' | 'length-grouped';

function batches(c: ThroughputCase, all: readonly number[], how: Strategy, seed: number): number[][] {
  const order = { batchSize: c.batch, stepExamples: c.batch, shuffle: true, seed, epoch: 1 };
  return epochBatches(all, { ...order, groupByLength: how === 'length-grouped' }, (len) => len);
}

export const paddingSuite: BenchSuite = {
  name: 'padding',
  summary: `padding strategies on lognormal lengths (median ${MEDIAN}, max 128), bert-h256, batch 16: real tokens/s`,
  async run(log) {
    const c = THROUGHPUT_CASES[0] as ThroughputCase;
    const all = lengths(EXAMPLES, c.seq, 3);
    const real = all.reduce((a, b) => a + b, 0);
    const runner = await createRunner(c);
    const out: Record<string, unknown>[] = [];
    try {
      const rand = rng(5);
      // Warm-up on a few shapes so the first measured strategy pays no first-run costs.
      for (const seq of [c.seq, 64, 32]) await runner.step(randomBatch(c, { lengths: [seq], rand }), 2e-5);
      // The strategies take turns step by step, so that a change of machine load hits all alike.
      const strategies = ['pad-to-max', 'dynamic', 'length-grouped'] as const;
      const plans = strategies.map((how) => batches(c, all, how, 11));
      const seconds = strategies.map(() => 0);
      const padded = strategies.map(() => 0);
      for (let i = 0; i < Math.max(...plans.map((p) => p.length)); i++) {
        for (let k = 0; k < strategies.length; k++) {
          const lens = plans[k]?.[i];
          if (!lens) continue;
          const seq = strategies[k] === 'pad-to-max' ? c.seq : Math.max(...lens);
          padded[k] = (padded[k] as number) + lens.length * seq;
          const batch = randomBatch(c, { lengths: lens, seq, rand });
          const t0 = performance.now();
          await runner.step(batch, 2e-5);
          seconds[k] = (seconds[k] as number) + (performance.now() - t0) / 1000;
        }
      }
      strategies.forEach((how, k) => {
        const s = seconds[k] as number;
        const pad = padded[k] as number;
        log(
          `${how.padEnd(15)} ${plans[k]?.length} steps  ${s.toFixed(1)} s  ${(real / s).toFixed(0)} real tokens/s  padding ${((100 * (pad - real)) / pad).toFixed(0)}% of ${pad} positions`,
        );
        out.push({
          case: `padding-${how}`,
          steps: plans[k]?.length,
          seconds: Number(s.toFixed(2)),
          real_tokens_per_s: Math.round(real / s),
          padding_fraction: Number(((pad - real) / pad).toFixed(3)),
        });
      });
    } finally {
      await runner.dispose();
    }
    return out;
  },
};
