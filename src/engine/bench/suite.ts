/** A benchmark suite of `npm run bench`: prints its own table and returns JSON result lines. */
export interface BenchSuite {
  /** Name used by `npm run bench -- --only <name>`. */
  name: string;
  summary: string;
  run(log: (line: string) => void): Promise<Record<string, unknown>[]>;
}

/** Peak resident set size of this process so far, in MiB (Linux: VmHWM). */
export async function peakRssMb(): Promise<number> {
  try {
    const { readFile } = await import('node:fs/promises');
    const status = await readFile('/proc/self/status', 'utf8');
    const match = /VmHWM:\s+(\d+) kB/.exec(status);
    if (match) return Number(match[1]) / 1024;
  } catch {
    // Not Linux: fall back to the current RSS below.
  }
  return process.memoryUsage().rss / 2 ** 20;
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};
