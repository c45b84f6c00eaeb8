import { dimFactors } from './dims.js';
import { Graph } from './graph.js';
import type { OpType } from './ops.js';
import { seededKeepMask } from './seeded-dropout.js';
import { shapeInference } from './shape-inference.js';
import {
  type Attr,
  type Dim,
  type DType,
  ONNX_DTYPE_CODE,
  type Shape,
  type TensorData,
  tensorOf,
  type Value,
} from './types.js';

/** Typed attribute constructors: ONNX distinguishes 1 (INT) from 1.0 (FLOAT); JS numbers do not. */
export const attr = {
  int: (value: number): Attr => ({ type: 'int', value }),
  float: (value: number): Attr => ({ type: 'float', value }),
  string: (value: string): Attr => ({ type: 'string', value }),
  ints: (value: readonly number[]): Attr => ({ type: 'ints', value }),
  floats: (value: readonly number[]): Attr => ({ type: 'floats', value }),
  tensor: (value: TensorData): Attr => ({ type: 'tensor', value }),
};

type Operand = Value | number;

export interface OpOptions {
  /** Number of outputs the node produces (default 1). */
  outputs?: number;
  /** Stem for the node and output names (default: op type in lower case). */
  name?: string;
  /** Exact output value names (graph outputs users see, e.g. `logits`). */
  outputNames?: readonly string[];
  /** Operator domain: '' (ONNX) by default, `com.microsoft` for ONNX Runtime's contrib ops. */
  domain?: string;
}

/**
 * Records ONNX nodes into a Graph with shape and dtype inference, so model code reads like the math:
 * `g.add(g.matmul(x, w), b)`. Numbers passed as operands become scalar constants of the builder's
 * float dtype. Names are scoped (`g.scope('layer.0', () => ...)`) so errors and graphs are legible.
 */
export class GraphBuilder {
  private readonly prefixes: string[] = [];
  private readonly scalarCache = new Map<string, Value>();
  /** Where each input's symbolic dim can be read at run time: symbol → [input, axis]. */
  private readonly dimSources = new Map<string, [Value, number]>();
  /** Run-time int64 [1] tensors of symbols and [rank] tensors of shapes, built once each. */
  private readonly shapeCache = new Map<string, Value>();

  constructor(
    readonly graph: Graph = new Graph(),
    /** Float dtype of constants the builder makes (float64 in gradient checks). */
    readonly floatType: DType = 'float32',
  ) {}

  scope<T>(name: string, body: () => T): T {
    this.prefixes.push(name);
    try {
      return body();
    } finally {
      this.prefixes.pop();
    }
  }

  private scoped(stem: string): string {
    return this.graph.uniqueName([...this.prefixes, stem].join('/'));
  }

  /** A graph input (fed at run time). */
  input(name: string, dtype: DType, shape: Shape): Value {
    const v = this.graph.addValue({ name, dtype, shape });
    this.graph.inputs.push(name);
    shape.forEach((d, axis) => {
      if (typeof d === 'string' && !d.includes('*') && !this.dimSources.has(d)) this.dimSources.set(d, [v, axis]);
    });
    return v;
  }

  /**
   * Records a shape that inference could not derive but the math guarantees (e.g. a gradient padded
   * back to its input's extent with run-time pads).
   */
  withShape(value: Value, shape: Shape): Value {
    const known = { ...value, shape };
    this.graph.values.set(value.name, known);
    return known;
  }

  /** Marks a value as a graph output. */
  output(value: Value): Value {
    this.graph.outputs.push(value.name);
    return value;
  }

  /** A constant tensor stored in the model (frozen weights, constant operands). */
  initializer(name: string, tensor: TensorData): Value {
    const v = this.graph.addValue({ name, dtype: tensor.dtype, shape: [...tensor.dims] });
    this.graph.addInitializer(name, tensor);
    return v;
  }

  constant(values: ArrayLike<number>, dims: readonly number[], dtype: DType = this.floatType): Value {
    return this.initializer(this.scoped('const'), tensorOf(dtype, dims, values));
  }

  /** Scalar constants are shared: one initializer per (value, dtype). */
  scalar(value: number, dtype: DType = this.floatType): Value {
    const key = `${dtype}:${Object.is(value, -0) ? '-0' : value}`;
    let v = this.scalarCache.get(key);
    if (!v) {
      v = this.initializer(this.graph.uniqueName(`scalar_${dtype}`), tensorOf(dtype, [], [value]));
      this.scalarCache.set(key, v);
    }
    return v;
  }

  ints(values: readonly number[]): Value {
    return this.constant(values, [values.length], 'int64');
  }

  private operand(x: Operand, like?: Value): Value {
    return typeof x === 'number' ? this.scalar(x, like?.dtype ?? this.floatType) : x;
  }

  /**
   * Adds a node; shapes and dtypes of its outputs come from shape inference. Only op types of
   * OP_TYPES (ops.ts) are accepted: each has a shape rule and a gradient entry by construction.
   */
  op(
    opType: OpType,
    inputs: readonly (Value | undefined)[],
    attrs: Record<string, Attr> = {},
    opts: OpOptions = {},
  ): Value[] {
    const infer = shapeInference[opType];
    const name = this.scoped(opts.name ?? opType.toLowerCase());
    // Unreachable from typed code; kept for callers that cast a string to OpType.
    if (!infer) throw new Error(`node '${name}': op type '${opType}' has no shape inference entry`);
    const outputCount = opts.outputs ?? 1;
    const inferred = infer({ graph: this.graph, opType, nodeName: name, inputs, attrs, outputCount });
    const outputs = inferred.slice(0, outputCount).map((o, i) =>
      this.graph.addValue({
        name: opts.outputNames?.[i] ?? (outputCount === 1 ? `${name}_out` : `${name}_out${i}`),
        dtype: o.dtype,
        shape: o.shape,
      }),
    );
    this.graph.addNode({
      name,
      opType,
      inputs: inputs.map((v) => v?.name ?? ''),
      outputs: outputs.map((o) => o.name),
      attrs,
      domain: opts.domain ?? '',
    });
    return outputs;
  }

  private op1(opType: OpType, inputs: readonly (Value | undefined)[], attrs: Record<string, Attr> = {}): Value {
    return this.op(opType, inputs, attrs)[0] as Value;
  }

  private binary(opType: OpType, a: Operand, b: Operand): Value {
    const av = this.operand(a, typeof b === 'number' ? undefined : b);
    return this.op1(opType, [av, this.operand(b, av)]);
  }

  // Elementwise arithmetic (numpy broadcasting).
  add = (a: Operand, b: Operand): Value => this.binary('Add', a, b);
  sub = (a: Operand, b: Operand): Value => this.binary('Sub', a, b);
  mul = (a: Operand, b: Operand): Value => this.binary('Mul', a, b);
  div = (a: Operand, b: Operand): Value => this.binary('Div', a, b);
  pow = (a: Operand, b: Operand): Value => this.binary('Pow', a, b);
  max = (a: Operand, b: Operand): Value => this.binary('Max', a, b);
  min = (a: Operand, b: Operand): Value => this.binary('Min', a, b);
  neg = (x: Value): Value => this.op1('Neg', [x]);
  sqrt = (x: Value): Value => this.op1('Sqrt', [x]);
  reciprocal = (x: Value): Value => this.op1('Reciprocal', [x]);
  exp = (x: Value): Value => this.op1('Exp', [x]);
  log = (x: Value): Value => this.op1('Log', [x]);
  tanh = (x: Value): Value => this.op1('Tanh', [x]);
  erf = (x: Value): Value => this.op1('Erf', [x]);
  sin = (x: Value): Value => this.op1('Sin', [x]);
  cos = (x: Value): Value => this.op1('Cos', [x]);
  sigmoid = (x: Value): Value => this.op1('Sigmoid', [x]);
  relu = (x: Value): Value => this.op1('Relu', [x]);
  identity = (x: Value): Value => this.op1('Identity', [x]);
  equal = (a: Operand, b: Operand): Value => this.binary('Equal', a, b);
  greater = (a: Operand, b: Operand): Value => this.binary('Greater', a, b);
  where = (cond: Value, a: Operand, b: Operand): Value => {
    const av = this.operand(a, typeof b === 'number' ? undefined : b);
    return this.op1('Where', [cond, av, this.operand(b, av)]);
  };
  cast = (x: Value, to: DType): Value =>
    x.dtype === to ? x : this.op1('Cast', [x], { to: attr.int(ONNX_DTYPE_CODE[to]) });

  // Linear algebra.
  matmul = (a: Value, b: Value): Value => this.op1('MatMul', [a, b]);
  gemm(
    a: Value,
    b: Value,
    c?: Value,
    o: { alpha?: number; beta?: number; transA?: boolean; transB?: boolean } = {},
  ): Value {
    const attrs: Record<string, Attr> = {};
    if (o.alpha !== undefined) attrs.alpha = attr.float(o.alpha);
    if (o.beta !== undefined) attrs.beta = attr.float(o.beta);
    if (o.transA) attrs.transA = attr.int(1);
    if (o.transB) attrs.transB = attr.int(1);
    return this.op1('Gemm', [a, b, c], attrs);
  }

  // Normalisation and activations over an axis.
  softmax = (x: Value, axis = -1): Value => this.op1('Softmax', [x], { axis: attr.int(axis) });
  logSoftmax = (x: Value, axis = -1): Value => this.op1('LogSoftmax', [x], { axis: attr.int(axis) });
  layerNorm(x: Value, scale: Value, bias: Value | undefined, epsilon = 1e-5, axis = -1): Value {
    // float32: also the Mean and InvStdDev outputs, which the gradient reuses instead of
    // recomputing them from x (ORT computes them anyway; they are float32-only there).
    const outputs = x.dtype === 'float32' ? 3 : 1;
    const attrs = { axis: attr.int(axis), epsilon: attr.float(epsilon) };
    return this.op('LayerNormalization', [x, scale, bias], attrs, { outputs })[0] as Value;
  }
  /**
   * Exact GELU, x Φ(x), as ONNX Runtime's contrib op (float32): one pass instead of five, and its
   * gradient keeps only x alive. Training graphs use it; exported graphs keep standard ops.
   */
  gelu = (x: Value): Value => this.op('Gelu', [x], {}, { domain: 'com.microsoft' })[0] as Value;
  /**
   * SiLU, x·sigmoid(x), as ONNX Runtime's contrib QuickGelu at alpha 1 (float32), the kernel ORT
   * itself fuses x·sigmoid(x) into: one pass, and its gradient recomputes the sigmoid from x, so a
   * training graph keeps only x alive (not x, the sigmoid and the product).
   */
  silu = (x: Value): Value =>
    this.op('QuickGelu', [x], { alpha: attr.float(1) }, { domain: 'com.microsoft' })[0] as Value;
  /**
   * RMSNorm over the last axis, w · x / sqrt(mean(x²) + eps), as ONNX Runtime's
   * SimplifiedLayerNormalization (float32): one pass, and its gradient needs only x and w.
   */
  rmsNormalization = (x: Value, scale: Value, epsilon: number): Value =>
    this.op1('SimplifiedLayerNormalization', [x, scale], { axis: attr.int(-1), epsilon: attr.float(epsilon) });

  // Reductions. Empty/omitted axes reduce everything.
  reduceSum(x: Value, axes?: readonly number[], keepdims = true): Value {
    return this.op1('ReduceSum', [x, axes ? this.ints(axes) : undefined], { keepdims: attr.int(keepdims ? 1 : 0) });
  }
  reduceMean(x: Value, axes?: readonly number[], keepdims = true): Value {
    const attrs: Record<string, Attr> = { keepdims: attr.int(keepdims ? 1 : 0) };
    if (axes) attrs.axes = attr.ints(axes);
    return this.op1('ReduceMean', [x], attrs);
  }
  argMax = (x: Value, axis = -1, keepdims = false): Value =>
    this.op1('ArgMax', [x], { axis: attr.int(axis), keepdims: attr.int(keepdims ? 1 : 0) });

  // Shape manipulation. Shape arguments may be constant lists or int64 values (e.g. `g.shape(x)`).
  private shapeOperand = (s: readonly Dim[] | Value): Value =>
    Array.isArray(s) ? this.ints(s as number[]) : (s as Value);
  shape = (x: Value): Value => this.op1('Shape', [x]);

  /**
   * x's shape as a run-time int64 tensor, computed from the graph inputs' dims (and constants) when
   * every dim of x's inferred shape is a product of input symbols, else `Shape(x)`. Gradients take
   * shapes this way so that a forward activation is not kept alive until the backward pass only to
   * be measured: ONNX Runtime frees a tensor after its last reader, and a Shape op scheduled in the
   * backward pass is one (≈40% of a decoder's live memory at its peak was held for that alone).
   */
  shapeOf(x: Value): Value {
    const dims = x.shape;
    const resolvable = (d: Dim) => typeof d === 'number' || dimFactors(d).syms.every((s) => this.dimSources.has(s));
    if (!dims?.every(resolvable)) return this.shape(x);
    if (dims.every((d) => typeof d === 'number')) return this.ints(dims as number[]);
    const key = `shape:${dims.join(',')}`;
    const cached = this.shapeCache.get(key);
    if (cached) return cached;
    const parts = dims.map((d) => {
      const { coef, syms } = dimFactors(d);
      let v = syms.length === 0 || coef !== 1 ? this.ints([coef]) : undefined;
      for (const sym of syms) {
        const s = this.symbolDim(sym);
        v = v ? this.op1('Mul', [v, s]) : s;
      }
      return v as Value;
    });
    const out = this.concat(parts, 0);
    this.shapeCache.set(key, out);
    return out;
  }

  /** A symbol's run-time size as int64 [1], read from the input that declared it. */
  private symbolDim(sym: string): Value {
    const key = `sym:${sym}`;
    const cached = this.shapeCache.get(key);
    if (cached) return cached;
    const [input, axis] = this.dimSources.get(sym) as [Value, number];
    const out = this.gather(this.shape(input), this.ints([axis]));
    this.shapeCache.set(key, out);
    return out;
  }
  reshape = (x: Value, shape: readonly number[] | Value): Value => this.op1('Reshape', [x, this.shapeOperand(shape)]);
  expand = (x: Value, shape: readonly number[] | Value): Value => this.op1('Expand', [x, this.shapeOperand(shape)]);
  transpose = (x: Value, perm: readonly number[]): Value => this.op1('Transpose', [x], { perm: attr.ints(perm) });
  unsqueeze = (x: Value, axes: readonly number[]): Value => this.op1('Unsqueeze', [x, this.ints(axes)]);
  squeeze = (x: Value, axes: readonly number[]): Value => this.op1('Squeeze', [x, this.ints(axes)]);
  flatten = (x: Value, axis = 1): Value => this.op1('Flatten', [x], { axis: attr.int(axis) });
  gather = (data: Value, indices: Value, axis = 0): Value =>
    this.op1('Gather', [data, indices], { axis: attr.int(axis) });
  concat = (xs: readonly Value[], axis: number): Value => this.op1('Concat', xs, { axis: attr.int(axis) });
  split(x: Value, sizes: readonly number[], axis: number): Value[] {
    return this.op('Split', [x, this.ints(sizes)], { axis: attr.int(axis) }, { outputs: sizes.length });
  }
  slice(
    x: Value,
    starts: readonly number[],
    ends: readonly number[],
    axes?: readonly number[],
    steps?: readonly number[],
  ): Value {
    const ins = [
      x,
      this.ints(starts),
      this.ints(ends),
      axes ? this.ints(axes) : undefined,
      steps ? this.ints(steps) : undefined,
    ];
    return this.op1('Slice', ins);
  }
  pad = (x: Value, pads: readonly number[]): Value => this.op1('Pad', [x, this.ints(pads)]);
  /** A tensor of `shape` filled with `value` (dtype defaults to the builder's float type). */
  constantOfShape(shape: readonly number[] | Value, value: number, dtype: DType = this.floatType): Value {
    return this.op1('ConstantOfShape', [this.shapeOperand(shape)], {
      value: attr.tensor(tensorOf(dtype, [1], [value])),
    });
  }
  /** data with `updates` added at `indices` (duplicates accumulate): the embedding gradient. */
  scatterNDAdd = (data: Value, indices: Value, updates: Value): Value =>
    this.op1('ScatterND', [data, indices, updates], { reduction: attr.string('add') });

  // Training ops.
  /** Training-mode dropout; the mask output is what the backward pass reuses. */
  dropout(x: Value, ratio: number, seed: number): { y: Value; mask: Value } {
    const [y, mask] = this.op(
      'Dropout',
      [x, this.scalar(ratio, x.dtype), this.scalar(1, 'bool')],
      { seed: attr.int(seed) },
      { outputs: 2 },
    );
    return { y: y as Value, mask: mask as Value };
  }
  /**
   * Dropout whose mask is a pure function of (`seed`, `salt`, element position): unlike ONNX
   * Dropout, whose generator lives inside the session, the same seed gives the same mask in any
   * session, so a resumed run replays exactly the masks an uninterrupted one would draw (the
   * hash: seeded-dropout.ts). Differentiable as a product with a constant mask.
   */
  seededDropout(x: Value, ratio: number, seed: Value, salt: number): Value {
    return this.mul(x, this.where(seededKeepMask(this, x, ratio, seed, salt), 1 / (1 - ratio), 0));
  }

  /** Cross-entropy of logits [N, C, ...] against int64 labels [N, ...]; also returns log-probabilities. */
  softmaxCrossEntropy(
    scores: Value,
    labels: Value,
    o: { reduction?: 'mean' | 'sum' | 'none'; ignoreIndex?: number } = {},
  ) {
    const attrs: Record<string, Attr> = { reduction: attr.string(o.reduction ?? 'mean') };
    if (o.ignoreIndex !== undefined) attrs.ignore_index = attr.int(o.ignoreIndex);
    const [loss, logProb] = this.op('SoftmaxCrossEntropyLoss', [scores, labels], attrs, { outputs: 2 });
    return { loss: loss as Value, logProb: logProb as Value };
  }
}
