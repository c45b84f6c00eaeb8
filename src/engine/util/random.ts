/**
 * Seeded random numbers (mulberry32, src/shared/random.ts): weight init, shuffling and synthetic
 * data are reproducible from the run's seed, and a test failure can be replayed from its printed seed.
 */
export { rng } from '../../shared/random.js';

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
