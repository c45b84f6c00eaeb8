import { ortBackend } from '../../engine/runtime.js';
import { buildTrainStep } from '../../engine/step/step-graph.js';
import {
  CASE_OPTIMIZER,
  caseSetup,
  DEFAULT_STEPS,
  type EngineResult,
  REAL_SIZE_CASES,
  THROUGHPUT_CASES,
  type ThroughputCase,
} from './engine-case.js';
import { type GraphCost, graphCost, isMatmulOp } from './flops.js';
import { type GemmRate, type GemmShape, measureBandwidth, measureGemm } from './machine-rates.js';
import { profileTrainStep } from './profile.js';
import { type BenchSuite, runCaseChild } from './suite.js';

/**
 * `--only roofline`: how far each case's train step is from what this machine could do. The
 * machine's GEMM rate (a MatMul session through ORT at the case's own shapes, the best of them) and
 * memory bandwidth (one large Add) bound each node of the step graph: a node takes at least
 * max(matrix FLOPs / GEMM rate, bytes / bandwidth), and the roofline is the sum over the nodes (per
 * node, not per op kind: a kind mixes compute- and memory-bound nodes). HostAdamW's updates run
 * outside the graph and are added as one memory-bound pseudo-node (7 floats moved per trained
 * element: reads p, g, m, v; writes p, m, v). The measured step comes from the throughput suite's
 * child process; ORT's profile of the step then splits the time per op kind, next to each kind's
 * roofline, so that the excess has an address.
 */
export const ROOFLINE_CASES: readonly ThroughputCase[] = [...THROUGHPUT_CASES, ...REAL_SIZE_CASES];

/** The step's principal matrix products at the case's batch and sequence. */
export function caseGemmShapes(c: ThroughputCase): GemmShape[] {
  const bt = c.batch * c.seq;
  const d = c.hidden / c.heads;
  const bh = c.batch * c.heads;
  return [
    { label: 'x·W (hidden)', a: [bt, c.hidden], b: [c.hidden, c.hidden] },
    { label: 'x·W_inter', a: [bt, c.hidden], b: [c.hidden, c.intermediate] },
    { label: 'h·W_out', a: [bt, c.intermediate], b: [c.intermediate, c.hidden] },
    { label: 'xᵀ·dy (weight grad)', a: [c.hidden, bt], b: [bt, c.intermediate] },
    { label: 'q·kᵀ (scores)', a: [bh, c.seq, d], b: [bh, d, c.seq] },
  ];
}

/** The train step graph as StepRunner builds it (frozen weights fed, AdamW on the host where ORT's backend puts it). */
export function caseStepCost(c: ThroughputCase): { cost: GraphCost; hostElements: number } {
  const setup = caseSetup(c);
  const step = buildTrainStep({
    ...setup,
    ...CASE_OPTIMIZER,
    frozenAsInputs: true,
    placeOptimizer: (p, o) => ortBackend.placeOptimizer(p, o),
  });
  const numel = (name: string) => setup.weights.get(name)?.data.length ?? 0;
  const row = (name: string) => {
    const w = setup.weights.get(name);
    return w ? w.data.length / (w.dims[0] ?? 1) : 0;
  };
  // A row-sparse table updates at most one row per token of the batch.
  const hostElements = (step.host ?? []).reduce(
    (a, h) => a + (h.kind === 'dense' ? numel(h.param) : Math.min(numel(h.param), c.batch * c.seq * row(h.param))),
    0,
  );
  return { cost: graphCost(step.graph, { batch: c.batch, seq: c.seq }), hostElements };
}

export interface KindRoofline {
  op: string;
  rooflineMs: number;
}

/** Roofline ms per op kind and in all, from the node costs and the machine's two rates. */
export function roofline(
  cost: GraphCost,
  hostElements: number,
  gemmGflops: number,
  bandwidthGBs: number,
): { totalMs: number; byOp: KindRoofline[]; computeMs: number; memoryMs: number } {
  const byOp = new Map<string, number>();
  let computeMs = 0;
  let memoryMs = 0;
  const add = (op: string, flops: number, bytes: number) => {
    const compute = flops / (gemmGflops * 1e6);
    const memory = bytes / (bandwidthGBs * 1e6);
    if (compute >= memory) computeMs += compute;
    else memoryMs += memory;
    byOp.set(op, (byOp.get(op) ?? 0) + Math.max(compute, memory));
  };
  for (const n of cost.nodes) add(n.op, n.matmulFlops, n.bytes);
  if (hostElements) add(HOST_ADAMW, 0, 7 * 4 * hostElements);
  const list = [...byOp].map(([op, rooflineMs]) => ({ op, rooflineMs })).sort((a, b) => b.rooflineMs - a.rooflineMs);
  return { totalMs: computeMs + memoryMs, byOp: list, computeMs, memoryMs };
}

const f1 = (x: number) => x.toFixed(1);
const HOST_ADAMW = 'HostAdamW';
const OUTSIDE = '(outside kernels)';

export const rooflineSuite: BenchSuite = {
  name: 'roofline',
  onRequest: true,
  summary:
    "train step vs this machine's roofline (ORT's GEMM rate at the step's shapes, memory bandwidth), per throughput and real-size case, 2 threads",
  async run(log, args) {
    const steps = args.steps ?? DEFAULT_STEPS;
    const bandwidth = await measureBandwidth(2);
    log(`memory bandwidth through ORT (Add of 2 × 64 MiB, 2 threads): ${f1(bandwidth)} GB/s`);
    const out: Record<string, unknown>[] = [];
    for (const c of ROOFLINE_CASES) {
      const rates: GemmRate[] = [];
      for (const shape of caseGemmShapes(c)) rates.push(await measureGemm(shape, c.threads));
      const gemm = Math.max(...rates.map((r) => r.gflops));
      log(`\n${c.name}: GEMM rate through ORT (${c.threads} threads):`);
      for (const r of rates)
        log(`  ${r.label.padEnd(22)} [${r.a}]·[${r.b}]  ${f1(r.gflops).padStart(7)} GFLOP/s  (${f1(r.ms)} ms)`);
      const { cost, hostElements } = caseStepCost(c);
      const roof = roofline(cost, hostElements, gemm, bandwidth);
      const e = await runCaseChild<EngineResult>(c.name, ['--steps', String(steps)]);
      const profile = await profileTrainStep(c, Math.min(steps, 3));
      log(
        `  step graph: ${f1(cost.matmulFlops / 1e9)} GFLOP in matrix products, ${f1(cost.otherElements / 1e6)} M other elements, ` +
          `${f1(cost.bytes / 1e9)} GB moved (inputs + outputs per node, an upper bound); HostAdamW ${f1((28 * hostElements) / 1e9)} GB`,
      );
      // The matrix products alone at the best GEMM rate: a strict lower bound, unlike the byte count.
      const matmulMs = cost.matmulFlops / (gemm * 1e6);
      log(
        `  roofline ${f1(roof.totalMs)} ms (summed per node: ${f1(roof.computeMs)} ms compute-bound nodes at ${f1(gemm)} GFLOP/s, ` +
          `${f1(roof.memoryMs)} ms memory-bound at ${f1(bandwidth)} GB/s); measured step ${f1(e.step_ms)} ms: ` +
          `${(e.step_ms / roof.totalMs).toFixed(2)}× the roofline, ${(e.step_ms / matmulMs).toFixed(2)}× the matrix products' ${f1(matmulMs)} ms alone; ORT's kernels ${f1(profile.totalMs)} ms of ${f1(profile.runMs)} ms in its run`,
      );
      // Where the time beyond the roofline goes: per op kind, profiled kernel ms less its roofline.
      const kind = (op: string) => (isMatmulOp(op) ? 'MatMul/Gemm' : op === HOST_ADAMW ? OUTSIDE : op);
      const kinds = new Map<string, { profiled: number; roof: number }>();
      const at = (op: string) => kinds.get(kind(op)) ?? { profiled: 0, roof: 0 };
      for (const p of profile.byOp) kinds.set(kind(p.op), { ...at(p.op), profiled: at(p.op).profiled + p.ms });
      for (const r of roof.byOp) kinds.set(kind(r.op), { ...at(r.op), roof: at(r.op).roof + r.rooflineMs });
      // HostAdamW, feeding and fetching, ORT's executor: the step's time outside ORT's kernels.
      kinds.set(OUTSIDE, { ...at(OUTSIDE), profiled: e.step_ms - profile.totalMs });
      const excess = [...kinds]
        .map(([op, v]) => ({ op, ...v, excess: v.profiled - v.roof }))
        .sort((a, b) => b.excess - a.excess);
      log(
        `  ${'op kind'.padEnd(22)}${'profiled'.padStart(10)}${'roofline'.padStart(10)}${'excess'.padStart(10)}  (ms)`,
      );
      for (const k of excess.slice(0, 12))
        log(`  ${k.op.padEnd(22)}${f1(k.profiled).padStart(10)}${f1(k.roof).padStart(10)}${f1(k.excess).padStart(10)}`);
      out.push({
        case: c.name,
        roofline_ms: Number(roof.totalMs.toFixed(1)),
        roofline_compute_ms: Number(roof.computeMs.toFixed(1)),
        roofline_memory_ms: Number(roof.memoryMs.toFixed(1)),
        step_ms: Math.round(e.step_ms),
        step_over_roofline: Number((e.step_ms / roof.totalMs).toFixed(2)),
        matmul_bound_ms: Number(matmulMs.toFixed(1)),
        step_over_matmul_bound: Number((e.step_ms / matmulMs).toFixed(2)),
        gemm_gflops: Math.round(gemm),
        gemm_gflops_by_shape: Object.fromEntries(rates.map((r) => [r.label, Math.round(r.gflops)])),
        bandwidth_gb_s: Number(bandwidth.toFixed(1)),
        matmul_gflop: Number((cost.matmulFlops / 1e9).toFixed(2)),
        other_melements: Number((cost.otherElements / 1e6).toFixed(1)),
        bytes_gb: Number((cost.bytes / 1e9).toFixed(2)),
        host_adamw_gb: Number(((28 * hostElements) / 1e9).toFixed(2)),
        excess_by_op: Object.fromEntries(excess.slice(0, 8).map((k) => [k.op, Number(k.excess.toFixed(1))])),
        steps,
      });
    }
    return out;
  },
};
