/**
 * Runs a CLI command with its stdout text captured. Binary writes pass through: under
 * `node --test` the runner's reporter talks to the parent process over this same stdout.
 */
export async function captureStdout(run: () => Promise<number>): Promise<{ code: number; out: string }> {
  const write = process.stdout.write;
  let out = '';
  process.stdout.write = function (this: typeof process.stdout, chunk: unknown, ...rest: unknown[]) {
    if (typeof chunk === 'string') {
      out += chunk;
      return true;
    }
    return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof process.stdout.write;
  try {
    return { code: await run(), out };
  } finally {
    process.stdout.write = write;
  }
}
