import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRunner, randomBatch, type ThroughputCase } from './engine-case.js';

/**
 * `--profile`: the train step of a case under ORT's profiler (`enableProfiling`), its JSON trace
 * aggregated per op type and per node (events of category 'Node' named `<node>_kernel_time`,
 * `dur` in microseconds), averaged over the profiled runs.
 */
export interface ProfileSummary {
  runs: number;
  /** Sum of kernel times per run. */
  totalMs: number;
  /** Duration of a whole run inside ORT (model_run): kernels plus the executor's own time. */
  runMs: number;
  byOp: { op: string; ms: number; count: number }[];
  byNode: { node: string; op: string; ms: number }[];
  /** Forward, backward (`grad/`), optimizer (`adamw`), clipping (`clip`), split by matrix products or not. */
  byPart: { part: string; ms: number }[];
}

interface TraceEvent {
  cat?: string;
  name?: string;
  ts?: number;
  dur?: number;
  args?: { op_name?: string };
}

export function summarizeProfile(events: readonly TraceEvent[], runs: number): ProfileSummary {
  const ops = new Map<string, { ms: number; count: number }>();
  const nodes = new Map<string, { op: string; ms: number }>();
  const parts = new Map<string, number>();
  let total = 0;
  let runUs = 0;
  for (const e of events) {
    if (e.cat === 'Session' && e.name === 'model_run') runUs += e.dur ?? 0;
    if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time')) continue;
    const ms = (e.dur ?? 0) / 1000 / runs;
    const op = e.args?.op_name ?? '?';
    const node = e.name.slice(0, -'_kernel_time'.length);
    const o = ops.get(op) ?? { ms: 0, count: 0 };
    o.ms += ms;
    o.count += 1 / runs;
    ops.set(op, o);
    nodes.set(node, { op, ms: (nodes.get(node)?.ms ?? 0) + ms });
    const stage = node.startsWith('adamw')
      ? 'optimizer'
      : node.startsWith('clip')
        ? 'clip'
        : node.startsWith('grad/')
          ? 'backward'
          : 'forward';
    const kind = /MatMul|Gemm/.test(op) ? 'matmul' : 'other';
    const part = stage === 'optimizer' || stage === 'clip' ? stage : `${stage} ${kind}`;
    parts.set(part, (parts.get(part) ?? 0) + ms);
    total += ms;
  }
  const sorted = <T extends { ms: number }>(xs: T[]) => xs.sort((a, b) => b.ms - a.ms);
  return {
    runs,
    totalMs: total,
    runMs: runUs / 1000 / runs,
    byOp: sorted([...ops].map(([op, v]) => ({ op, ...v }))),
    byNode: sorted([...nodes].map(([node, v]) => ({ node, ...v }))),
    byPart: sorted([...parts].map(([part, ms]) => ({ part, ms }))),
  };
}

/**
 * Profiles `runs` train steps of the case through a StepRunner (so the feeds are the trainer's own),
 * after one warm-up step that is in the trace too and dropped from the summary. AdamW updates that
 * run outside the graph (HostAdamW) are not in ORT's trace.
 */
export async function profileTrainStep(c: ThroughputCase, runs: number): Promise<ProfileSummary> {
  const dir = mkdtempSync(join(tmpdir(), 'finetune-profile-'));
  try {
    const runner = await createRunner(c, { profilePrefix: join(dir, 'train') });
    try {
      const batch = randomBatch(c);
      for (let i = 0; i <= runs; i++) await runner.step(batch, 2e-5);
      runner.endProfiling();
    } finally {
      await runner.dispose();
    }
    const file = readdirSync(dir).find((f) => f.endsWith('.json'));
    if (!file) throw new Error('onnxruntime wrote no profile');
    const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as TraceEvent[];
    // Drop the first run (allocation and first-touch costs): runs are delimited by model_run events.
    const first = events.find((e) => e.cat === 'Session' && e.name === 'model_run');
    const cut = (first?.ts ?? 0) + (first?.dur ?? 0);
    const later = events.filter((e) => (e.ts ?? 0) > cut);
    return summarizeProfile(later, runs);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatProfile(p: ProfileSummary, top = 25): string[] {
  const f = (ms: number) => ms.toFixed(1).padStart(8);
  return [
    `kernel time per train step: ${p.totalMs.toFixed(1)} ms of ${p.runMs.toFixed(1)} ms in ORT's run (mean of ${p.runs} profiled runs)`,
    'by part:',
    ...p.byPart.map((x) => `  ${x.part.padEnd(18)}${f(x.ms)} ms  ${((100 * x.ms) / p.totalMs).toFixed(1)}%`),
    'by op type:',
    ...p.byOp.slice(0, top).map((x) => `  ${x.op.padEnd(26)}${f(x.ms)} ms  ${x.count.toFixed(0).padStart(5)} nodes`),
    'by node:',
    ...p.byNode.slice(0, top).map((x) => `  ${x.node.padEnd(70).slice(0, 70)} ${x.op.padEnd(18)}${f(x.ms)} ms`),
  ];
}
