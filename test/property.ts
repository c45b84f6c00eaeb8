import fc from 'fast-check';
import { testSeed } from './seed.js';

/**
 * A property-based check with fast-check for inputs that must never crash or hang a reader (the
 * config validator, the data loaders). The seed is FINETUNE_TEST_SEED when set, else random, and
 * every check prints one line with its counts,
 *   # fuzz <name>: <N> inputs tried, <C> crashes, <H> hangs (over <T> ms), slowest <S> ms (seed <seed>)
 * and on failure fast-check's shrunk counterexample and how to replay it. A crash is any exception
 * the body lets through. Inputs slower than `slowMs` are counted in that line, not failed: speed
 * is the benchmark's business, and an input that really hangs trips the test's own timeout
 * (FUZZ_HANG_GUARD).
 */
export const FUZZ_HANG_GUARD = { timeout: 600_000 };

export interface PropertyOptions {
  numRuns: number;
  /** Inputs slower than this are counted as slow in the printed line. */
  slowMs?: number;
  seed?: number;
}

export async function checkProperty<T>(
  name: string,
  arb: fc.Arbitrary<T>,
  body: (value: T) => void | Promise<void>,
  options: PropertyOptions,
): Promise<void> {
  const seed = options.seed ?? testSeed();
  const slowMs = options.slowMs ?? 2000;
  const stats = { crashes: 0, slow: 0, slowest: 0 };
  // Counted until the first failure: the runs after it are fast-check shrinking that input.
  let failed = false;
  const property = fc.asyncProperty(arb, async (value) => {
    const started = performance.now();
    try {
      await body(value);
    } catch (error) {
      if (!failed) stats.crashes++;
      failed = true;
      throw error;
    }
    const ms = performance.now() - started;
    if (failed) return;
    stats.slowest = Math.max(stats.slowest, ms);
    if (ms > slowMs) stats.slow++;
  });
  const details = await fc.check(property, { seed, numRuns: options.numRuns });
  console.log(
    `# fuzz ${name}: ${details.numRuns} inputs tried, ${stats.crashes} crashes, ${stats.slow} slow (over ${slowMs} ms), slowest ${Math.round(stats.slowest)} ms (seed ${seed})`,
  );
  if (details.failed) {
    const cause = details.errorInstance;
    const error = cause instanceof Error ? `${cause.stack ?? cause.message}\n` : '';
    throw new Error(`${name}: ${fc.defaultReportMessage(details)}\n${error}replay with FINETUNE_TEST_SEED=${seed}`, {
      cause,
    });
  }
}

/** A function (an edit an arbitrary made) that prints as `what` in fast-check's counterexamples. */
export function named<F extends object>(what: string, f: F): F {
  return Object.assign(f, { [fc.toStringMethod]: () => what });
}
