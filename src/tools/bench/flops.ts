import type { Graph } from '../../engine/graph/graph.js';
import { attrInt } from '../../engine/graph/shape-inference.js';
import { BYTES, dimValue, valueElements } from './liveness.js';

/**
 * The static cost of one run of a graph at given symbolic dims (`batch`, `seq`): per node, the
 * matrix-product FLOPs (MatMul and Gemm, 2·M·N·K: a multiply and an add per term), the other ops'
 * element count (one per output element: a rough measure, reported apart, never mixed with the
 * FLOPs), and the bytes the node reads and writes (every input and output once: an upper bound on
 * memory traffic, since a cache-resident operand is not re-read from memory; views such as Reshape
 * count too, though ORT aliases them).
 */
export interface NodeCost {
  node: string;
  op: string;
  matmulFlops: number;
  otherElements: number;
  bytes: number;
}

export interface GraphCost {
  nodes: NodeCost[];
  matmulFlops: number;
  otherElements: number;
  bytes: number;
}

/** Ops that multiply matrices: their FLOPs count against the GEMM rate. */
export const isMatmulOp = (op: string): boolean => /MatMul|Gemm/.test(op);

export function graphCost(graph: Graph, dims: Record<string, number>): GraphCost {
  const size = (name: string, what: string): number => {
    const n = valueElements(graph, name, dims);
    if (!Number.isFinite(n)) {
      const v = graph.values.get(name);
      throw new Error(
        `flops: ${what} '${name}' has shape ${JSON.stringify(v?.shape)}, not known at dims ${JSON.stringify(dims)}`,
      );
    }
    return n;
  };
  const bytesOf = (name: string, what: string) => size(name, what) * (BYTES[graph.values.get(name)?.dtype ?? ''] ?? 4);
  const nodes = graph.nodes.map((n): NodeCost => {
    const where = `node '${n.name}' (${n.opType})`;
    let bytes = 0;
    for (const x of n.inputs) if (x) bytes += bytesOf(x, `input of ${where}`);
    let outElements = 0;
    for (const y of n.outputs) {
      if (!y) continue;
      outElements += size(y, `output of ${where}`);
      bytes += bytesOf(y, `output of ${where}`);
    }
    let matmulFlops = 0;
    if (n.opType === 'MatMul' || n.opType === 'Gemm') {
      // K is A's contracted dim: its last (MatMul, Gemm) or its first (Gemm with transA).
      const a = graph.values.get(n.inputs[0] ?? '')?.shape;
      const kDim = a?.[n.opType === 'Gemm' && attrInt(n.attrs, 'transA', 0) === 1 ? 0 : a.length - 1];
      if (kDim === undefined) throw new Error(`flops: ${where} has a first input of unknown rank`);
      const k = dimValue(kDim, dims);
      if (!Number.isFinite(k))
        throw new Error(`flops: ${where}: contracted dim '${kDim}' not known at ${JSON.stringify(dims)}`);
      // Each output element is a K-term dot product; Gemm's bias add (M·N) is negligible beside it.
      matmulFlops = 2 * size(n.outputs[0] ?? '', `output of ${where}`) * k;
    }
    return {
      node: n.name,
      op: n.opType,
      matmulFlops,
      otherElements: matmulFlops ? 0 : outElements,
      bytes,
    };
  });
  const sum = (f: (c: NodeCost) => number) => nodes.reduce((a, c) => a + f(c), 0);
  return {
    nodes,
    matmulFlops: sum((c) => c.matmulFlops),
    otherElements: sum((c) => c.otherElements),
    bytes: sum((c) => c.bytes),
  };
}
