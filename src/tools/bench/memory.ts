import { createRunner, randomBatch, type ThroughputCase } from './engine-case.js';
import { type BenchSuite, currentRssMb, peakRssMb, runCaseChild } from './suite.js';

/**
 * No growth over a long run: 1,000 train steps of a small BERT (each 10th step also an eval
 * forward, as the trainer interleaves them) in a child process, resident memory sampled up to step
 * 1,000. Growth past the warm-up (step 500) would show a leak per step (buffers, sessions, tensors). Each
 * sample follows a full garbage collection (the child runs with --expose-gc): otherwise it measures
 * when V8 last collected the step's output buffers, not what stays.
 */
export const MEMORY_CASE: ThroughputCase = {
  name: 'memory-small',
  layers: 2,
  hidden: 64,
  heads: 2,
  intermediate: 256,
  vocab: 1000,
  seq: 32,
  batch: 8,
  threads: 2,
};
const STEPS = 1000;
const SAMPLES = [10, 100, 250, 500, 750, STEPS];

export interface MemoryResult {
  rss_mb_at: Record<string, number>;
  peak_rss_mb: number;
  seconds: number;
}

/** The child's side: run the steps, sample RSS. */
export async function measureMemory(): Promise<MemoryResult> {
  const runner = await createRunner(MEMORY_CASE);
  const batch = randomBatch(MEMORY_CASE);
  const at: Record<string, number> = {};
  const t0 = performance.now();
  try {
    for (let step = 1; step <= STEPS; step++) {
      await runner.step(batch, 2e-5);
      if (step % 10 === 0) await runner.evaluate(batch);
      if (SAMPLES.includes(step)) {
        (globalThis as { gc?: () => void }).gc?.();
        at[step] = await currentRssMb();
      }
    }
  } finally {
    await runner.dispose();
  }
  return { rss_mb_at: at, peak_rss_mb: await peakRssMb(), seconds: (performance.now() - t0) / 1000 };
}

export const memorySuite: BenchSuite = {
  name: 'memory',
  summary: `resident memory over ${STEPS} train steps (2 layers, hidden 64, batch 8, seq 32)`,
  async run(log) {
    const r = await runCaseChild<MemoryResult>(MEMORY_CASE.name, [], ['--expose-gc']);
    const at = (s: number) => r.rss_mb_at[s] as number;
    // The allocators and V8 settle during the first few hundred steps; a leak keeps growing after.
    const growth = at(STEPS) - at(500);
    log(
      `RSS at step ${SAMPLES.map((s) => `${s} ${at(s).toFixed(0)}`).join(', ')} MiB` +
        ` (growth 500 -> ${STEPS}: ${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MiB, 100 -> ${STEPS}: ${(at(STEPS) - at(100)).toFixed(1)} MiB); peak ${r.peak_rss_mb.toFixed(0)} MiB; ${r.seconds.toFixed(0)} s`,
    );
    return [
      {
        case: 'memory-1000-steps',
        rss_mb_step_100: Math.round(at(100)),
        rss_mb_step_500: Math.round(at(500)),
        rss_mb_step_1000: Math.round(at(STEPS)),
        growth_mb: Number(growth.toFixed(1)),
        peak_rss_mb: Math.round(r.peak_rss_mb),
      },
    ];
  },
};
