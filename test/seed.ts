/**
 * The seed of a test run: FINETUNE_TEST_SEED when set (to replay a failure), else random. Free of
 * imports so that every test program (engine, extension, webview) can use it.
 */
export function testSeed(): number {
  const env = process.env.FINETUNE_TEST_SEED;
  return env ? Number(env) : Math.floor(Math.random() * 2 ** 31);
}
