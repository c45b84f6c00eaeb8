import { GraphBuilder } from '../../engine/graph/builder.js';
import { encodeModel } from '../../engine/graph/onnx-codec.js';
import type { TensorData, Value } from '../../engine/graph/types.js';
import { ortBackend } from '../../engine/runtime.js';
import { median } from './suite.js';

/**
 * This machine's limits as ONNX Runtime reaches them: the rate of one MatMul session at a given
 * shape (GFLOP/s), and memory bandwidth through one large Add (GB/s: two inputs read, one output
 * written, each far larger than the caches). Both at the thread count the engine's sessions use.
 */
export interface GemmShape {
  /** What the shape is in the step (e.g. 'x·W_inter'). */
  label: string;
  /** A [...batch, M, K] · B [...batch, K, N]. */
  a: number[];
  b: number[];
}

export interface GemmRate extends GemmShape {
  gflops: number;
  ms: number;
}

const filled = (dims: number[]): TensorData => {
  const n = dims.reduce((x, y) => x * y, 1);
  const data = new Float32Array(n);
  // Small non-zero values: no denormals, no special cases in the kernels.
  for (let i = 0; i < n; i++) data[i] = ((i % 97) - 48) / 4096;
  return { dtype: 'float32', dims, data };
};

/** Median ms of one run over runs that fill about `budgetMs` (at least 3), after 2 warm-up runs. */
async function timeRuns(run: () => Promise<unknown>, budgetMs: number): Promise<number> {
  for (let i = 0; i < 2; i++) await run();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < 3 || performance.now() - start < budgetMs) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  return median(times);
}

/**
 * Median ms of a one-output graph's runs. The output is preallocated and filled in place, so that
 * the time is the kernel's, not the page faults of a fresh buffer per run.
 */
async function timeGraph(
  build: (g: GraphBuilder) => Value,
  feeds: Record<string, TensorData>,
  threads: number,
  budgetMs: number,
): Promise<number> {
  const g = new GraphBuilder();
  const out = g.output(build(g));
  const session = await ortBackend.createSession(encodeModel(g.graph), { device: 'cpu', threads });
  const dims = (out.shape ?? []).map(Number);
  const outputs = { [out.name]: filled(dims) };
  try {
    return await timeRuns(() => session.run(feeds, outputs), budgetMs);
  } finally {
    await session.dispose();
  }
}

export async function measureGemm(shape: GemmShape, threads: number, budgetMs = 400): Promise<GemmRate> {
  const ms = await timeGraph(
    (g) => g.matmul(g.input('a', 'float32', shape.a), g.input('b', 'float32', shape.b)),
    { a: filled(shape.a), b: filled(shape.b) },
    threads,
    budgetMs,
  );
  const batch = shape.a.slice(0, -2).reduce((x, y) => x * y, 1);
  const [m, k] = shape.a.slice(-2) as [number, number];
  const n = shape.b[shape.b.length - 1] as number;
  return { ...shape, ms, gflops: (2 * batch * m * n * k) / (ms / 1000) / 1e9 };
}

/** GB/s of an Add of two float32 vectors of `elements` (default 16M: 64 MiB each). */
export async function measureBandwidth(threads: number, elements = 1 << 24, budgetMs = 400): Promise<number> {
  const dims = [elements];
  const ms = await timeGraph(
    (g) => g.add(g.input('x', 'float32', dims), g.input('y', 'float32', dims)),
    { x: filled(dims), y: filled(dims) },
    threads,
    budgetMs,
  );
  return (3 * 4 * elements) / (ms / 1000) / 1e9;
}
