import { execFile } from 'node:child_process';
import type { LivenessOrder } from './liveness.js';

/** Options of `npm run bench` that suites read (all optional). */
export interface BenchArgs {
  /** Rounds of each throughput case (engine and PyTorch alternate within a round). */
  rounds?: number;
  /** Measured steps per run, after the warm-up steps. */
  steps?: number;
  /** Skip the PyTorch reference even where it is installed. */
  noTorch?: boolean;
  /** Print ORT's per-op and per-node profile of the engine's train step. */
  profile?: boolean;
  /** Size of a generated corpus in MB, for the suites that generate one (tokenize-corpus). */
  mb?: number;
  /** The corpus suites' short runs (pretrain, distill: fewer epochs on shorter texts). */
  quick?: boolean;
  /** `--liveness`: print a decoder case's static peak live set (liveness.ts) instead of measuring it. */
  liveness?: { order: LivenessOrder; top: number };
}

/** A benchmark suite of `npm run bench`: prints its own table and returns JSON result lines. */
export interface BenchSuite {
  /** Name used by `npm run bench -- --only <name>`. */
  name: string;
  summary: string;
  /** Run only when named by `--only` (a long measurement, not part of the default set). */
  onRequest?: boolean;
  /** Measures a PyTorch peer (bench/torch/): the run first checks which BLAS torch loads. */
  comparesWithTorch?: boolean;
  run(log: (line: string) => void, args: BenchArgs): Promise<Record<string, unknown>[]>;
}

/** Peak resident set size of this process so far, in MiB (Linux: VmHWM). */
export async function peakRssMb(): Promise<number> {
  return (await procStatusMb('VmHWM')) ?? process.memoryUsage().rss / 2 ** 20;
}

/** Current resident set size in MiB (Linux: VmRSS, which counts native memory as well). */
export async function currentRssMb(): Promise<number> {
  return (await procStatusMb('VmRSS')) ?? process.memoryUsage().rss / 2 ** 20;
}

async function procStatusMb(field: string): Promise<number | undefined> {
  try {
    const { readFile } = await import('node:fs/promises');
    const status = await readFile('/proc/self/status', 'utf8');
    const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status);
    if (match) return Number(match[1]) / 1024;
  } catch {
    // Not Linux: the caller falls back to process.memoryUsage().
  }
  return undefined;
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

/**
 * Runs `bench.js --case <name> --json ...extraArgs` in a fresh Node process (this process's
 * execArgv, then extraExecArgv, e.g. --expose-gc) and parses the last line it prints.
 */
export async function runCaseChild<T>(
  name: string,
  extraArgs: readonly string[] = [],
  extraExecArgv: readonly string[] = [],
): Promise<T> {
  const argv = [
    ...process.execArgv,
    ...extraExecArgv,
    process.argv[1] as string,
    '--case',
    name,
    '--json',
    ...extraArgs,
  ];
  const stdout = await new Promise<string>((ok, fail) =>
    execFile(process.execPath, argv, { maxBuffer: 1 << 24 }, (err, out, errOut) =>
      err ? fail(new Error(`bench case ${name} failed: ${err.message}\n${errOut}`)) : ok(out),
    ),
  );
  return JSON.parse(stdout.trim().split('\n').pop() ?? '') as T;
}
