/**
 * Seeded random numbers (mulberry32, src/shared/random.ts): weight init, shuffling and synthetic
 * data are reproducible from the run's seed, and a test failure can be replayed from its printed seed.
 */
export { rng } from '../../shared/random.js';

/**
 * A 32-bit hash of a few integers (murmur3's finaliser per word): the seed of a stream drawn for a
 * place in the run (seed, epoch, batch, row), which a resumed run recomputes.
 */
export function counterSeed(...words: readonly number[]): number {
  let h = 0x9e3779b9;
  for (const w of words) {
    h = Math.imul(h ^ (w >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** Standard normal samples by Box-Muller. */
export function normal(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/** Fisher-Yates shuffle in place. */
export function shuffle<T>(items: T[], rand: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}
