import { dimFactors } from '../../engine/graph/dims.js';
import type { Graph } from '../../engine/graph/graph.js';
import { VIEW_OPS } from '../../engine/graph/ops.js';
import type { Dim, Node } from '../../engine/graph/types.js';

/**
 * Static liveness of a step graph: which intermediate tensors are alive together, at the point
 * where their total is largest, if every tensor is freed right after its last reader runs. This is
 * the floor under what ONNX Runtime's arena must hold for one run (its planner frees on the same
 * rule; the arena then rounds chunks up and keeps them), so it shows which ops and gradients to
 * restructure, not the RSS itself.
 *
 * Node order: 'ort' replays the topological order ORT's GraphViewer executes by default
 * (ExecutionOrder::DEFAULT: Graph::ReverseDFSFrom the leaf nodes, a node's producers visited
 * highest index first, each node emitted once its producers are: onnxruntime/core/graph/
 * graph_viewer.cc and graph.cc); 'index' is the order the builder emitted the nodes in.
 * ORT's graph optimizer fuses some nodes afterwards, which this does not model.
 */
export type LivenessOrder = 'ort' | 'index';

export interface LiveTensor {
  name: string;
  bytes: number;
  /** Op type of the producing node. */
  producer: string;
  /** Op types that still read the tensor (or a view of it) after the peak; '(output)' for a graph output. */
  keptFor: string[];
}

export interface Liveness {
  nodes: number;
  peakBytes: number;
  /** The node at whose run the live set peaks. */
  peakNode: { name: string; opType: string };
  /** The tensors alive at the peak, largest first. */
  live: LiveTensor[];
}

/** Ops whose output is a view of their first input (ORT's CPU kernels alias it rather than copy). */

/** Bytes per element of each dtype. */
export const BYTES: Record<string, number> = {
  float32: 4,
  float64: 8,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  bool: 1,
};

/**
 * Element count of a graph value with its symbolic dims (`batch`, `seq`, products of them) given:
 * NaN where the shape is unknown or names a symbol not in `dims` (a run-time size nothing names).
 */
export function valueElements(graph: Graph, name: string, dims: Record<string, number>): number {
  return graph.values.get(name)?.shape?.reduce((a: number, d) => a * dimValue(d, dims), 1) ?? Number.NaN;
}

/** One dim's size with the symbols in `dims` given; NaN where it names another. */
export function dimValue(d: Dim, dims: Record<string, number>): number {
  const { coef, syms } = dimFactors(d);
  return syms.reduce((a, s) => a * (dims[s] ?? Number.NaN), coef);
}

/** ORT's default execution order (see the file comment). */
export function ortOrder(graph: Graph): Node[] {
  const index = new Map(graph.nodes.map((n, i) => [n, i]));
  const readers = new Map<string, number>();
  for (const n of graph.nodes) for (const x of n.inputs) if (x) readers.set(x, (readers.get(x) ?? 0) + 1);
  const producers = (n: Node) =>
    [...new Set(n.inputs.map((x) => graph.producer.get(x)).filter((p): p is Node => p !== undefined))].sort(
      (a, b) => (index.get(a) as number) - (index.get(b) as number),
    );
  // Leaves: nodes none of whose outputs another node reads (graph outputs are no edges).
  const leaves = graph.nodes.filter((n) => n.outputs.every((o) => !readers.has(o)));
  const stack: [Node, boolean][] = leaves.map((n) => [n, false]);
  const visited = new Set<Node>();
  const order: Node[] = [];
  while (stack.length) {
    const [n, leave] = stack.pop() as [Node, boolean];
    if (leave) {
      order.push(n);
      continue;
    }
    if (visited.has(n)) continue;
    visited.add(n);
    stack.push([n, true]);
    for (const p of producers(n)) if (!visited.has(p)) stack.push([p, false]);
  }
  return order;
}

/** Peak live set of one run of `graph` with its symbolic dims (`batch`, `seq`, products of them) given. */
export function liveness(graph: Graph, dims: Record<string, number>, order: LivenessOrder = 'ort'): Liveness {
  const nodes = order === 'ort' ? ortOrder(graph) : graph.nodes;
  // A value of unknown size counts as size 0.
  const sizeOf = (name: string): number => {
    const n = valueElements(graph, name, dims);
    return Number.isFinite(n) ? n * (BYTES[graph.values.get(name)?.dtype ?? 'float32'] ?? 4) : 0;
  };
  // A view shares its source's buffer: the buffer lives until the last reader of any of its views.
  const root = new Map<string, string>();
  const rootOf = (name: string) => root.get(name) ?? name;
  for (const n of nodes) if (VIEW_OPS.has(n.opType) && n.outputs[0]) root.set(n.outputs[0], rootOf(n.inputs[0] ?? ''));
  const external = new Set([...graph.inputs, ...graph.initializers.keys()]);
  const lastUse = new Map<string, number>();
  nodes.forEach((n, i) => {
    for (const x of n.inputs) if (x) lastUse.set(rootOf(x), i);
  });
  for (const o of graph.outputs) lastUse.set(rootOf(o), nodes.length);

  const live = new Map<string, number>();
  let current = 0;
  let peak = { bytes: -1, at: 0, set: [] as [string, number][] };
  nodes.forEach((n, i) => {
    for (const o of n.outputs) {
      if (!o || external.has(o) || root.has(o)) continue;
      const bytes = sizeOf(o);
      live.set(o, bytes);
      current += bytes;
    }
    if (current > peak.bytes) peak = { bytes: current, at: i, set: [...live] };
    for (const name of new Set([...n.inputs, ...n.outputs].map(rootOf))) {
      if (live.has(name) && (lastUse.get(name) ?? -1) <= i) {
        current -= live.get(name) as number;
        live.delete(name);
      }
    }
  });

  const keptFor = new Map<string, Set<string>>();
  for (const n of nodes.slice(peak.at + 1)) {
    for (const x of n.inputs) if (x) keptFor.set(rootOf(x), (keptFor.get(rootOf(x)) ?? new Set()).add(n.opType));
  }
  for (const o of graph.outputs) keptFor.set(rootOf(o), (keptFor.get(rootOf(o)) ?? new Set()).add('(output)'));
  const at = nodes[peak.at] as Node;
  return {
    nodes: nodes.length,
    peakBytes: peak.bytes,
    peakNode: { name: at.name, opType: at.opType },
    live: peak.set
      .map(([name, bytes]) => ({
        name,
        bytes,
        producer: graph.producer.get(name)?.opType ?? '?',
        keptFor: [...(keptFor.get(name) ?? [])].sort(),
      }))
      .sort((a, b) => b.bytes - a.bytes),
  };
}

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

/** A printable report: the peak, totals by producing op and by what keeps tensors alive, the `top` largest tensors. */
export function formatLiveness(title: string, l: Liveness, top = 20): string[] {
  const total = (key: (t: LiveTensor) => string) => {
    const sums = new Map<string, number>();
    for (const t of l.live) sums.set(key(t), (sums.get(key(t)) ?? 0) + t.bytes);
    return [...sums]
      .sort((a, b) => b[1] - a[1])
      .filter(([, b]) => b >= 2 ** 20)
      .map(([k, b]) => `${k} ${mib(b)}`)
      .join(', ');
  };
  return [
    `${title}: ${l.nodes} nodes, peak live ${mib(l.peakBytes)} MiB at ${l.peakNode.opType} ${l.peakNode.name}`,
    `  by producer (MiB): ${total((t) => t.producer)}`,
    `  kept for (MiB): ${total((t) => t.keptFor.join('+') || '(last read by the peak node)')}`,
    ...l.live
      .slice(0, top)
      .map((t) => `  ${mib(t.bytes).padStart(8)} ${t.producer} ${t.name} <- ${t.keptFor.join('+')}`),
  ];
}
