/** Seeded PRNG (mulberry32) so every failure can be replayed from the printed seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed of a test run: FINETUNE_TEST_SEED when set (to replay a failure), else random. */
export function testSeed(): number {
  const env = process.env.FINETUNE_TEST_SEED;
  return env ? Number(env) : Math.floor(Math.random() * 2 ** 31);
}
