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
  /**
   * Values of other ops whose size no given dim decides (a Range's length, a shape computed at run
   * time): counted as 0 elements and 0 bytes, listed here so that a table says what it left out.
   */
  unknown: string[];
  matmulFlops: number;
  otherElements: number;
  bytes: number;
}

/** Ops that multiply matrices: their FLOPs count against the GEMM rate. */
export const isMatmulOp = (op: string): boolean => /MatMul|Gemm/.test(op);

/**
 * The given dims plus the length of each Range whose bounds the dims decide: shape inference names
 * a Range's length `<node>_len`, and the models build their aranges as Range(0, Gather(Shape(x), i), 1)
 * (a sequence length read at run time), which is x's dim i.
 */
export function withRangeLengths(graph: Graph, dims: Record<string, number>): Record<string, number> {
  const all = { ...dims };
  const scalar = (name: string | undefined): number => {
    if (!name) return Number.NaN;
    const c = graph.constantOf(name);
    if (c) return c.data.length === 1 ? Number(c.data[0]) : Number.NaN;
    const p = graph.producer.get(name);
    if (!p) return Number.NaN;
    if (['Cast', 'Squeeze', 'Unsqueeze', 'Reshape', 'Identity'].includes(p.opType)) return scalar(p.inputs[0]);
    const [a, b] = [p.inputs[0], p.inputs[1]];
    if (p.opType === 'Neg') return -scalar(a);
    if (p.opType === 'Add') return scalar(a) + scalar(b);
    if (p.opType === 'Sub') return scalar(a) - scalar(b);
    if (p.opType === 'Mul') return scalar(a) * scalar(b);
    // One element of a shape: Gather(Shape(x), i), or Slice(Shape(x), [i], [i + 1]).
    if (p.opType === 'Gather' || (p.opType === 'Slice' && scalar(p.inputs[2]) - scalar(b) === 1)) {
      const shapeOf = graph.producer.get(p.inputs[0] ?? '');
      const index = scalar(p.inputs[1]);
      const shape = shapeOf?.opType === 'Shape' ? graph.values.get(shapeOf.inputs[0] ?? '')?.shape : undefined;
      const d = shape?.[index < 0 ? index + shape.length : index];
      return d === undefined ? Number.NaN : dimValue(d, all);
    }
    return Number.NaN;
  };
  for (const n of graph.nodes) {
    if (n.opType !== 'Range') continue;
    const [start, limit, delta] = n.inputs.map(scalar) as [number, number, number];
    const len = Math.max(0, Math.ceil((limit - start) / delta));
    if (Number.isFinite(len)) all[`${n.name}_len`] = len;
  }
  return all;
}

export function graphCost(graph: Graph, givenDims: Record<string, number>): GraphCost {
  const dims = withRangeLengths(graph, givenDims);
  const unknown: string[] = [];
  // Matrix products must be sized (their FLOPs are the roofline's core); other ops may not be.
  const size = (name: string, what: string, matmul: boolean): number => {
    const n = valueElements(graph, name, dims);
    if (!Number.isFinite(n) && !matmul) {
      unknown.push(name);
      return 0;
    }
    if (!Number.isFinite(n)) {
      const v = graph.values.get(name);
      throw new Error(
        `flops: ${what} '${name}' has shape ${JSON.stringify(v?.shape)}, not known at dims ${JSON.stringify(dims)}`,
      );
    }
    return n;
  };
  const bytesOf = (name: string, what: string, matmul: boolean) =>
    size(name, what, matmul) * (BYTES[graph.values.get(name)?.dtype ?? ''] ?? 4);
  const nodes = graph.nodes.map((n): NodeCost => {
    const where = `node '${n.name}' (${n.opType})`;
    const matmul = n.opType === 'MatMul' || n.opType === 'Gemm';
    let bytes = 0;
    for (const x of n.inputs) if (x) bytes += bytesOf(x, `input of ${where}`, matmul);
    let outElements = 0;
    for (const y of n.outputs) {
      if (!y) continue;
      outElements += size(y, `output of ${where}`, matmul);
      bytes += bytesOf(y, `output of ${where}`, matmul);
    }
    let matmulFlops = 0;
    if (matmul) {
      // K is A's contracted dim: its last (MatMul, Gemm) or its first (Gemm with transA).
      const a = graph.values.get(n.inputs[0] ?? '')?.shape;
      const kDim = a?.[n.opType === 'Gemm' && attrInt(n.attrs, 'transA', 0) === 1 ? 0 : a.length - 1];
      if (kDim === undefined) throw new Error(`flops: ${where} has a first input of unknown rank`);
      const k = dimValue(kDim, dims);
      if (!Number.isFinite(k))
        throw new Error(`flops: ${where}: contracted dim '${kDim}' not known at ${JSON.stringify(dims)}`);
      // Each output element is a K-term dot product; Gemm's bias add (M·N) is negligible beside it.
      matmulFlops = 2 * size(n.outputs[0] ?? '', `output of ${where}`, true) * k;
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
    unknown: [...new Set(unknown)],
    matmulFlops: sum((c) => c.matmulFlops),
    otherElements: sum((c) => c.otherElements),
    bytes: sum((c) => c.bytes),
  };
}
