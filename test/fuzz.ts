import fc from 'fast-check';
import { testSeed } from './seed.js';

/**
 * Property-based tests with fast-check, the project's way: the seed is FINETUNE_TEST_SEED when
 * set (to replay a failure), else random, and every property prints one line with its counts,
 *   # fuzz <name>: <N> inputs tried, <K> failed (seed S)
 * and on failure fast-check's report (the shrunk counterexample) and how to replay it.
 */

export interface FuzzOptions {
  numRuns?: number;
  seed?: number;
}

/** Checks `predicate` (throws or returns false on failure) on `numRuns` inputs of `arb`. */
export function fuzz<T>(
  name: string,
  arb: fc.Arbitrary<T>,
  predicate: (value: T) => boolean | undefined,
  options: FuzzOptions = {},
): void {
  const seed = options.seed ?? testSeed();
  const details = fc.check(fc.property(arb, predicate), { seed, numRuns: options.numRuns ?? 200 });
  report(name, seed, details);
}

/** The same for an async predicate. */
export async function fuzzAsync<T>(
  name: string,
  arb: fc.Arbitrary<T>,
  predicate: (value: T) => Promise<boolean | undefined>,
  options: FuzzOptions = {},
): Promise<void> {
  const seed = options.seed ?? testSeed();
  const details = await fc.check(fc.asyncProperty(arb, predicate), { seed, numRuns: options.numRuns ?? 200 });
  report(name, seed, details);
}

function report<T>(name: string, seed: number, details: fc.RunDetails<[T]>): void {
  // numRuns counts the inputs tried up to and including the first failing one (not the shrinks).
  console.log(`# fuzz ${name}: ${details.numRuns} inputs tried, ${details.failed ? 1 : 0} failed (seed ${seed})`);
  if (details.failed)
    throw new Error(`${name}: ${fc.defaultReportMessage(details)}\nreplay with FINETUNE_TEST_SEED=${seed}`);
}
