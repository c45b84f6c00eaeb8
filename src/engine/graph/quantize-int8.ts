import { attr, GraphBuilder } from './builder.js';
import { Graph, pruneToOutputs } from './graph.js';
import { attrInt } from './shape-inference.js';
import { type Node, ONNX_DTYPE_CODE, type TensorData, type Value } from './types.js';

/**
 * int8 dynamic quantization of an inference graph, as ONNX Runtime's `quantize_dynamic(...,
 * per_channel=True, weight_type=QInt8)` rewrites a MatMul whose B is a constant
 * (onnxruntime/python/tools/quantization/operators/matmul.py, class MatMulInteger):
 *
 *   x ──DynamicQuantizeLinear──> x_quantized (uint8), x_scale, x_zero_point
 *   MatMulInteger(x_quantized, W_quantized, x_zero_point, W_zero_point) ──Cast(float)──> acc
 *   Mul(acc, Mul(x_scale, W_scale)) (+ the bias Add) ──> the original output
 *
 * Our linear layers are Gemm(x, W, b, transB=1) with W in Linear's [out, in] layout; ONNX
 * exporters write nn.Linear as MatMul(x, Wᵀ) + Add(b), which is what ORT's quantizer sees, so a
 * Gemm is quantized as that MatMul (its weight transposed to [in, out]) followed by the bias Add.
 * Weights are quantized per output channel (axis 1 of B), symmetric int8 in [-127, 127] with zero
 * point 0 (onnx_quantizer.quantize_weight_per_channel -> quant_utils.quantize_data with
 * symmetric=True, reduce_range=False): scale = max|w| / 127 over the channel (1 for an all-zero
 * channel), q = round_half_even(w / scale). Activations get a fresh uint8 scale per run from
 * DynamicQuantizeLinear. Embedding Gathers, attention's activation×activation MatMuls and
 * everything else stay float32 (MatMulConstBOnly, quantize_dynamic's default for MatMul).
 */
export interface QuantizedGraph {
  graph: Graph;
  /** The float weights that were replaced by int8 ones, in graph order. */
  quantized: string[];
}

/** A weight column-quantized for MatMulInteger: int8 B [K, N], its per-column scales and zero points. */
export interface QuantizedWeight {
  q: TensorData;
  scale: TensorData;
  zeroPoint: TensorData;
}

/** Round half to even, as numpy's `round` (which ORT's quantize_nparray uses). */
const roundHalfEven = (x: number): number => {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

/**
 * Per-column symmetric int8 quantization of B [K, N] (`transposed`: W is stored [N, K], as Gemm's
 * transB reads it, and B = Wᵀ).
 */
export function quantizeWeightPerColumn(w: TensorData, transposed: boolean): QuantizedWeight {
  const [d0, d1] = w.dims as [number, number];
  const [k, n] = transposed ? [d1, d0] : [d0, d1];
  const data = w.data as Float32Array;
  const at = (row: number, col: number) =>
    transposed ? (data[col * d1 + row] as number) : (data[row * d1 + col] as number);
  const q = new Int8Array(k * n);
  const scales = new Float32Array(n);
  for (let col = 0; col < n; col++) {
    let absmax = 0;
    for (let row = 0; row < k; row++) absmax = Math.max(absmax, Math.abs(at(row, col)));
    // compute_scale_zp: (rmax - rmin) / (qmax - qmin) with the range made symmetric: 2·absmax / 254.
    const scale = absmax > 0 ? Math.fround((2 * absmax) / 254) : 1;
    scales[col] = scale;
    for (let row = 0; row < k; row++)
      q[row * n + col] = Math.max(-127, Math.min(127, roundHalfEven(Math.fround(at(row, col) / scale))));
  }
  return {
    q: { dtype: 'int8', dims: [k, n], data: q },
    scale: { dtype: 'float32', dims: [n], data: scales },
    zeroPoint: { dtype: 'int8', dims: [n], data: new Int8Array(n) },
  };
}

/** The weight and bias of a MatMul or Gemm that quantizes (a constant float32 2-D B), or undefined. */
function linearOf(graph: Graph, node: Node): { weight: string; transposed: boolean; bias?: string } | undefined {
  const [a, b, c] = node.inputs;
  if (!a || !b) return undefined;
  const w = graph.initializers.get(b);
  if (w?.dtype !== 'float32' || w.dims.length !== 2) return undefined;
  if (node.opType === 'MatMul') return { weight: b, transposed: false };
  if (node.opType !== 'Gemm') return undefined;
  // Only y = x·op(B) + c as linear layers build it: no scaling, no transposed activation.
  if (attrInt(node.attrs, 'transA', 0) !== 0) return undefined;
  if (attrInt(node.attrs, 'alpha', 1) !== 1 || attrInt(node.attrs, 'beta', 1) !== 1) return undefined;
  return { weight: b, transposed: attrInt(node.attrs, 'transB', 0) === 1, ...(c ? { bias: c } : {}) };
}

/** The graph with every quantizable linear layer rewritten into ORT's MatMulInteger pattern. */
export function quantizeDynamicInt8(source: Graph): QuantizedGraph {
  const graph = new Graph(source.name);
  const g = new GraphBuilder(graph);
  // The source's names are taken first, so the names made below never collide with a later one.
  for (const name of source.values.keys()) graph.uniqueName(name);
  for (const name of source.inputs) g.input(name, source.value(name).dtype, source.value(name).shape ?? []);
  for (const [name, t] of source.initializers) g.initializer(name, t);
  const weights = new Map<string, { q: Value; scale: Value; zeroPoint: Value }>();
  const activations = new Map<string, Value[]>();
  const quantized: string[] = [];
  for (const node of source.nodes) {
    const linear = linearOf(source, node);
    if (!linear) {
      for (const o of node.outputs) if (o !== '') graph.addValue(source.value(o));
      graph.addNode(node);
      continue;
    }
    const key = `${linear.weight}:${linear.transposed ? 'T' : ''}`;
    let w = weights.get(key);
    if (!w) {
      const stem = linear.transposed ? `${linear.weight}_transposed` : linear.weight;
      const qw = quantizeWeightPerColumn(source.initializers.get(linear.weight) as TensorData, linear.transposed);
      w = {
        q: g.initializer(graph.uniqueName(`${stem}_quantized`), qw.q),
        scale: g.initializer(graph.uniqueName(`${stem}_scale`), qw.scale),
        zeroPoint: g.initializer(graph.uniqueName(`${stem}_zero_point`), qw.zeroPoint),
      };
      weights.set(key, w);
      quantized.push(linear.weight);
    }
    const x = node.inputs[0] as string;
    let xq = activations.get(x);
    if (!xq) {
      xq = g.op(
        'DynamicQuantizeLinear',
        [graph.value(x)],
        {},
        {
          name: `${x}_QuantizeLinear`,
          outputs: 3,
          outputNames: [`${x}_quantized`, `${x}_scale`, `${x}_zero_point`].map((n) => graph.uniqueName(n)),
        },
      );
      activations.set(x, xq);
    }
    const [xQuant, xScale, xZero] = xq as [Value, Value, Value];
    const out = node.outputs[0] as string;
    const name = `${node.name}_quant`;
    const [acc] = g.op('MatMulInteger', [xQuant, w.q, xZero, w.zeroPoint], {}, { name });
    const [accFloat] = g.op(
      'Cast',
      [acc as Value],
      { to: attr.int(ONNX_DTYPE_CODE.float32) },
      { name: `${name}_cast` },
    );
    const [scales] = g.op('Mul', [xScale, w.scale], {}, { name: `${name}_scales_mul` });
    const scaledName = linear.bias ? undefined : [out];
    const [scaled] = g.op(
      'Mul',
      [accFloat as Value, scales as Value],
      {},
      {
        name: `${name}_output_scale_mul`,
        ...(scaledName ? { outputNames: scaledName } : {}),
      },
    );
    if (linear.bias)
      g.op('Add', [scaled as Value, graph.value(linear.bias)], {}, { name: `${name}_bias_add`, outputNames: [out] });
  }
  graph.outputs.push(...source.outputs);
  return { graph: pruneToOutputs(graph), quantized };
}
