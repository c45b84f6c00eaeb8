import { attr, type GraphBuilder } from './builder.js';
import { normAxis } from './dims.js';
import { isOpType, type OpType } from './ops.js';
import { sumRowsById } from './segment-sum.js';
import { attrFloat, attrInt, shapeTensorDims } from './shape-inference.js';
import { formatShape, type Node, tensorNumbers, type Value } from './types.js';

/** What a gradient builder sees of one forward node. */
export interface GradContext {
  readonly g: GraphBuilder;
  readonly node: Node;
  /** Forward input / output values. */
  x(i: number): Value;
  y(i: number): Value;
  /** Gradient flowing into output i (undefined when that output does not reach the loss). */
  dy(i: number): Value | undefined;
  dyOrZeros(i: number): Value;
  /** Whether input i needs a gradient (builders may skip work for the others). */
  needs(i: number): boolean;
  hasInput(i: number): boolean;
}

/**
 * Returns one gradient per input (undefined where not needed or not differentiable). Gradients may
 * have the broadcast output shape: the autodiff driver reduces them to each input's shape.
 */
export type GradientBuilder = (ctx: GradContext) => (Value | undefined)[];

/**
 * An op's gradient entry. 'not-differentiable': its outputs carry no gradient (integer or boolean
 * results, constants), so autodiff stops there. 'not-implemented': differentiable in principle but
 * no builder is written yet, so autodiff fails naming the op if one lies between a trained
 * parameter and the loss (ops used only on integer data, or only outside autodiff, need none).
 */
export type GradientEntry = GradientBuilder | 'not-differentiable' | 'not-implemented';

const fail = (node: Node, why: string): never => {
  throw new Error(`autodiff: ${node.opType} node '${node.name}': ${why}`);
};

/** The int list held by a constant input (axes, starts, ...), or a clear error naming the node. */
function constInts(ctx: GradContext, i: number, what: string): number[] | undefined {
  if (!ctx.hasInput(i)) return undefined;
  const dims = shapeTensorDims(ctx.g.graph, ctx.node.inputs[i]);
  if (!dims || dims.some((d) => typeof d !== 'number')) fail(ctx.node, `${what} must be a constant to differentiate`);
  return dims as number[];
}

const rankOf = (ctx: GradContext, v: Value): number => v.shape?.length ?? fail(ctx.node, `rank of '${v.name}' unknown`);

/** Swaps the last two axes (the transpose inside MatMul's gradients). */
function transposeLast2(ctx: GradContext, v: Value): Value {
  const r = rankOf(ctx, v);
  const perm = Array.from({ length: r }, (_, i) => i);
  perm[r - 1] = r - 2;
  perm[r - 2] = r - 1;
  return ctx.g.transpose(v, perm);
}

/** dY reshaped back to X's shape: the gradient of every op that only reinterprets the layout. */
const reshapeBack: GradientBuilder = ({ g, x, dy }) => [g.reshape(dy(0) as Value, g.shapeOf(x(0)))];

/** Gradient of ReduceSum/ReduceMean: dY with the reduced axes restored, expanded to X's shape. */
function expandReduced(ctx: GradContext, axes: number[] | undefined): Value {
  const { g, x, dy, node } = ctx;
  const rank = rankOf(ctx, x(0));
  let grad = dy(0) as Value;
  const all = axes === undefined || axes.length === 0;
  if (attrInt(node.attrs, 'keepdims', 1) === 0) {
    const ax = all
      ? Array.from({ length: rank }, (_, i) => i)
      : axes.map((a) => normAxis(a, rank)).sort((a, b) => a - b);
    grad = g.unsqueeze(grad, ax);
  }
  return g.expand(grad, g.shapeOf(x(0)));
}

/**
 * Number of input elements averaged into each output element: a constant when the reduced dims are
 * known when the graph is built (e.g. a norm's hidden axis), so X need not stay alive for a `Size` in
 * the backward pass; else computed at run time.
 */
function countRatio(ctx: GradContext, axes: number[] | undefined): Value {
  const { g, x, y } = ctx;
  const shape = x(0).shape;
  if (shape) {
    const reduced = axes?.length ? axes.map((a) => shape[normAxis(a, shape.length)]) : shape;
    if (reduced.every((d) => typeof d === 'number')) return g.scalar((reduced as number[]).reduce((p, d) => p * d, 1));
  }
  const n = g.cast(g.op('Size', [x(0)])[0] as Value, x(0).dtype);
  const m = g.cast(g.op('Size', [y(0)])[0] as Value, x(0).dtype);
  return g.div(n, m);
}

function softmaxCrossEntropy(ctx: GradContext): (Value | undefined)[] {
  const { g, node, x, y, dy } = ctx;
  if (ctx.hasInput(2)) fail(node, 'class weights are not supported by the gradient');
  if (node.outputs.length < 2 || node.outputs[1] === '') fail(node, 'the log_prob output is needed by the gradient');
  const scores = x(0);
  const labels = x(1);
  const classes = scores.shape?.[1];
  if (typeof classes !== 'number')
    fail(node, `class dimension must be static, scores are ${formatShape(scores.shape)}`);
  const logProb = y(1);
  const probs = g.exp(logProb); // [N, C, ...]
  const reduction = node.attrs.reduction?.type === 'string' ? node.attrs.reduction.value : 'mean';
  const ignore = node.attrs.ignore_index;
  let valid: Value | undefined;
  let index = labels;
  if (ignore?.type === 'int') {
    const keep = g.op('Not', [g.equal(labels, g.scalar(ignore.value, 'int64'))])[0] as Value;
    valid = g.cast(keep, scores.dtype);
    index = g.where(keep, labels, g.scalar(0, 'int64')); // an ignored row's index is only a placeholder
  }
  // probs − onehot, by adding −1 at each label (−0 on ignored rows, zeroed below): the same floats
  // as a subtraction, without an [N, C] one-hot tensor (at a decoder's vocabulary, 192 MiB each).
  const minusOne = valid ? g.neg(valid) : g.constantOfShape(g.shapeOf(labels), -1, scores.dtype);
  let grad = g.op('ScatterElements', [probs, g.unsqueeze(index, [1]), g.unsqueeze(minusOne, [1])], {
    axis: attr.int(1),
    reduction: attr.string('add'),
  })[0] as Value;
  if (valid) grad = g.mul(grad, g.unsqueeze(valid, [1]));
  const dLoss = dy(0);
  if (dLoss) {
    if (reduction === 'none') grad = g.mul(grad, g.unsqueeze(dLoss, [1]));
    else if (reduction === 'sum') grad = g.mul(grad, dLoss);
    else {
      const count = valid
        ? g.reduceSum(valid, undefined, false)
        : g.cast(g.op('Size', [labels])[0] as Value, scores.dtype);
      grad = g.mul(grad, g.div(dLoss, count));
    }
  } else {
    grad = g.mul(grad, 0);
  }
  const dLogProb = dy(1);
  if (dLogProb) grad = g.add(grad, g.sub(dLogProb, g.mul(probs, g.reduceSum(dLogProb, [1], true))));
  return [grad];
}

/** The axes a LayerNormalization-like node normalises over: `axis` (default -1) to the last. */
function normalizedAxes(ctx: GradContext, X: Value): number[] {
  const rank = rankOf(ctx, X);
  const axis = normAxis(attrInt(ctx.node.attrs, 'axis', -1), rank);
  return Array.from({ length: rank - axis }, (_, i) => axis + i);
}

function layerNorm(ctx: GradContext): (Value | undefined)[] {
  const { g, node, x, dy } = ctx;
  const X = x(0);
  const axes = normalizedAxes(ctx, X);
  const eps = attrFloat(node.attrs, 'epsilon', 1e-5);
  const dY = dy(0) as Value;
  // The forward's Mean and InvStdDev outputs where the node has them (float32, see layerNorm);
  // otherwise recomputed from X (float64 in the gradient checks).
  const saved = node.outputs[1] && node.outputs[2] ? [ctx.y(1), ctx.y(2)] : undefined;
  const mean = saved ? (saved[0] as Value) : g.reduceMean(X, axes);
  const xc = g.sub(X, mean);
  const inv = saved ? (saved[1] as Value) : g.reciprocal(g.sqrt(g.add(g.reduceMean(g.mul(xc, xc), axes), eps)));
  const xhat = g.mul(xc, inv);
  const dxhat = g.mul(dY, x(1));
  const dX = ctx.needs(0)
    ? g.mul(inv, g.sub(g.sub(dxhat, g.reduceMean(dxhat, axes)), g.mul(xhat, g.reduceMean(g.mul(dxhat, xhat), axes))))
    : undefined;
  return [dX, ctx.needs(1) ? g.mul(dY, xhat) : undefined, ctx.needs(2) ? dY : undefined];
}

/**
 * ONNX Runtime's RMSNorm, y = w · x̂ with x̂ = x · inv and inv = 1 / sqrt(mean(x²) + eps) over the
 * trailing axes from `axis`: dx = inv · (dx̂ − x̂ · mean(dx̂ · x̂)) with dx̂ = dy · w, dw = dy · x̂.
 * inv and x̂ are recomputed from x (a reduction and a product), so only x and w stay alive.
 */
function simplifiedLayerNorm(ctx: GradContext): (Value | undefined)[] {
  const { g, node, x, dy } = ctx;
  const X = x(0);
  const axes = normalizedAxes(ctx, X);
  const inv = g.reciprocal(g.sqrt(g.add(g.reduceMean(g.mul(X, X), axes), attrFloat(node.attrs, 'epsilon', 1e-5))));
  const xhat = g.mul(X, inv);
  const dY = dy(0) as Value;
  const dxhat = g.mul(dY, x(1));
  const dX = ctx.needs(0) ? g.mul(inv, g.sub(dxhat, g.mul(xhat, g.reduceMean(g.mul(dxhat, xhat), axes)))) : undefined;
  return [dX, ctx.needs(1) ? g.mul(dY, xhat) : undefined];
}

function gemm(ctx: GradContext): (Value | undefined)[] {
  const { g, node, x, dy } = ctx;
  const dY = dy(0) as Value;
  const alpha = attrFloat(node.attrs, 'alpha', 1);
  const beta = attrFloat(node.attrs, 'beta', 1);
  const tA = attrInt(node.attrs, 'transA', 0) === 1;
  const tB = attrInt(node.attrs, 'transB', 0) === 1;
  const [A, B] = [x(0), x(1)];
  // Y = alpha * op(A) op(B): each case is one more Gemm with the right transposes.
  const dA = !ctx.needs(0)
    ? undefined
    : tA
      ? g.gemm(B, dY, undefined, { alpha, transA: tB, transB: true })
      : g.gemm(dY, B, undefined, { alpha, transB: !tB });
  const dB = !ctx.needs(1)
    ? undefined
    : tB
      ? g.gemm(dY, A, undefined, { alpha, transA: true, transB: tA })
      : g.gemm(A, dY, undefined, { alpha, transA: !tA });
  const dC = ctx.needs(2) ? (beta === 1 ? dY : g.mul(dY, beta)) : undefined;
  return [dA, dB, dC];
}

function slice(ctx: GradContext): (Value | undefined)[] {
  const { g, node, x, dy } = ctx;
  const shape = x(0).shape ?? fail(node, 'input shape unknown');
  const rank = shape.length;
  const starts = constInts(ctx, 1, 'starts') as number[];
  const endDims = shapeTensorDims(g.graph, node.inputs[2]);
  if (!endDims || endDims.some((d) => typeof d !== 'number')) return sliceToRuntimeEnds(ctx, starts, rank);
  const ends = endDims as number[];
  const axes = constInts(ctx, 3, 'axes') ?? starts.map((_, i) => i);
  const steps = constInts(ctx, 4, 'steps') ?? starts.map(() => 1);
  // The gradient is dY padded with zeros back to X's extent: `before` and `after` per axis.
  const before = new Array<number>(rank).fill(0);
  const after = new Array<number>(rank).fill(0);
  const symbolicEnds = new Array<number>(rank).fill(0); // end of the slice on symbolic axes
  axes.forEach((a, i) => {
    const axis = normAxis(a, rank);
    const size = shape[axis];
    const [s, e] = [starts[i] as number, ends[i] as number];
    if (steps[i] !== 1) fail(node, 'only step 1 is differentiable');
    if (typeof size !== 'number') {
      if (s < 0 || e < s)
        fail(node, `axis ${axis} has symbolic size ${size}: only non-negative starts/ends are differentiable`);
      before[axis] = s;
      symbolicEnds[axis] = e;
      return;
    }
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + size : v, 0), size);
    const b = clamp(s);
    before[axis] = b;
    after[axis] = size - Math.max(b, clamp(e));
  });
  if (symbolicEnds.every((e) => e === 0)) return [g.pad(dy(0) as Value, [...before, ...after])];
  // after = size - end on symbolic axes, computed from X's run-time shape.
  const isSymbolic = symbolicEnds.map((e) => (e > 0 ? 1 : 0));
  const dynamicAfter = g.add(g.mul(g.sub(g.shapeOf(x(0)), g.ints(symbolicEnds)), g.ints(isSymbolic)), g.ints(after));
  const pads = g.concat([g.ints(before), dynamicAfter], 0);
  return [g.withShape(g.op('Pad', [dy(0) as Value, pads])[0] as Value, shape)];
}

/**
 * Slice whose ends are known only at run time (e.g. XLNet's rel_shift keeps the first T columns of
 * [.., T, 2T-1] with T the sequence length): dY padded back to X's extent with `starts` before each
 * axis and shape(X) - shape(dY) - starts after it, so starts must be constant and non-negative.
 */
function sliceToRuntimeEnds(ctx: GradContext, starts: readonly number[], rank: number): (Value | undefined)[] {
  const { g, node, x, dy } = ctx;
  const axes = constInts(ctx, 3, 'axes') ?? starts.map((_, i) => i);
  const steps = constInts(ctx, 4, 'steps') ?? starts.map(() => 1);
  if (steps.some((s) => s !== 1)) fail(node, 'only step 1 is differentiable');
  const before = new Array<number>(rank).fill(0);
  axes.forEach((a, i) => {
    const s = starts[i] as number;
    if (s < 0) fail(node, 'with run-time ends, only non-negative constant starts are differentiable');
    before[normAxis(a, rank)] = s;
  });
  const grad = dy(0) as Value;
  const after = g.sub(g.sub(g.shapeOf(x(0)), g.shape(grad)), g.ints(before));
  const pads = g.concat([g.ints(before), after], 0);
  return [g.withShape(g.op('Pad', [grad, pads])[0] as Value, x(0).shape ?? [])];
}

/**
 * The gradient of every op type in OP_TYPES (ops.ts): a builder, or one of the explicit markers of
 * GradientEntry. Typed as a Record over OpType so that the compiler refuses an op without one.
 */
export const gradientRegistry: Readonly<Record<OpType, GradientEntry>> = {
  Add: ({ dy }) => [dy(0), dy(0)],
  Sub: ({ g, dy, needs }) => [dy(0), needs(1) ? g.neg(dy(0) as Value) : undefined],
  Mul: ({ g, x, dy, needs }) => [
    needs(0) ? g.mul(dy(0) as Value, x(1)) : undefined,
    needs(1) ? g.mul(dy(0) as Value, x(0)) : undefined,
  ],
  Div: ({ g, x, y, dy, needs }) => [
    needs(0) ? g.div(dy(0) as Value, x(1)) : undefined,
    needs(1) ? g.neg(g.div(g.mul(dy(0) as Value, y(0)), x(1))) : undefined,
  ],
  Pow: ({ g, x, y, dy, needs }) => [
    needs(0) ? g.mul(g.mul(dy(0) as Value, x(1)), g.pow(x(0), g.sub(x(1), 1))) : undefined,
    needs(1) ? g.mul(g.mul(dy(0) as Value, y(0)), g.log(x(0))) : undefined,
  ],
  Sum: ({ node, dy }) => node.inputs.map(() => dy(0)),
  Neg: ({ g, dy }) => [g.neg(dy(0) as Value)],
  Sqrt: ({ g, y, dy }) => [g.div(g.mul(dy(0) as Value, 0.5), y(0))],
  Reciprocal: ({ g, y, dy }) => [g.neg(g.mul(dy(0) as Value, g.mul(y(0), y(0))))],
  Exp: ({ g, y, dy }) => [g.mul(dy(0) as Value, y(0))],
  Log: ({ g, x, dy }) => [g.div(dy(0) as Value, x(0))],
  Tanh: ({ g, y, dy }) => [g.mul(dy(0) as Value, g.sub(1, g.mul(y(0), y(0))))],
  Sin: ({ g, x, dy }) => [g.mul(dy(0) as Value, g.cos(x(0)))],
  Cos: ({ g, x, dy }) => [g.neg(g.mul(dy(0) as Value, g.sin(x(0))))],
  Erf: ({ g, x, dy }) => [g.mul(g.mul(dy(0) as Value, 2 / Math.sqrt(Math.PI)), g.exp(g.neg(g.mul(x(0), x(0)))))],
  // d/dx x Φ(x) = Φ(x) + x φ(x) = (1 + erf(a) + (2/√π) a e^(-a²)) / 2 with a = x/√2. Nine passes over
  // x's shape instead of eleven: e^(-a²) is a division by e^(a²) (no negation pass), one Sum adds three.
  Gelu: ({ g, x, dy }) => {
    const X = x(0);
    const a = g.mul(X, Math.SQRT1_2);
    const aPdf = g.mul(g.div(a, g.exp(g.mul(a, a))), 2 / Math.sqrt(Math.PI));
    const twice = g.op('Sum', [g.erf(a), aPdf, g.scalar(1, X.dtype)])[0] as Value;
    return [g.mul(g.mul(dy(0) as Value, twice), 0.5)];
  },
  // d/dx x·σ(αx) = σ(αx) · (1 + αx · (1 − σ(αx))), the sigmoid recomputed from x.
  QuickGelu: ({ g, node, x, dy }) => {
    const alpha = attrFloat(node.attrs, 'alpha', 1.702);
    const ax = alpha === 1 ? x(0) : g.mul(x(0), alpha);
    const s = g.sigmoid(ax);
    return [g.mul(dy(0) as Value, g.mul(s, g.add(g.mul(ax, g.sub(1, s)), 1)))];
  },
  Sigmoid: ({ g, y, dy }) => [g.mul(dy(0) as Value, g.mul(y(0), g.sub(1, y(0))))],
  Relu: ({ g, x, dy }) => [g.where(g.greater(x(0), 0), dy(0) as Value, 0)],
  Softmax: ({ g, node, y, dy }) => {
    const axis = attrInt(node.attrs, 'axis', -1);
    const dY = dy(0) as Value;
    return [g.mul(y(0), g.sub(dY, g.reduceSum(g.mul(dY, y(0)), [axis], true)))];
  },
  LogSoftmax: ({ g, node, y, dy }) => {
    const axis = attrInt(node.attrs, 'axis', -1);
    const dY = dy(0) as Value;
    return [g.sub(dY, g.mul(g.exp(y(0)), g.reduceSum(dY, [axis], true)))];
  },
  ReduceSum: (ctx) => [expandReduced(ctx, constInts(ctx, 1, 'axes'))],
  ReduceMean: (ctx) => {
    const attrAxes = ctx.node.attrs.axes;
    const axes = attrAxes?.type === 'ints' ? [...attrAxes.value] : undefined;
    return [ctx.g.div(expandReduced(ctx, axes), countRatio(ctx, axes))];
  },
  MatMul: (ctx) => {
    const { g, x, dy, needs } = ctx;
    const dY = dy(0) as Value;
    return [
      needs(0) ? g.matmul(dY, transposeLast2(ctx, x(1))) : undefined,
      needs(1) ? g.matmul(transposeLast2(ctx, x(0)), dY) : undefined,
    ];
  },
  Gemm: gemm,
  LayerNormalization: layerNorm,
  SimplifiedLayerNormalization: simplifiedLayerNorm,
  Gather: ({ g, node, x, dy }) => {
    if (attrInt(node.attrs, 'axis', 0) !== 0) fail(node, 'only axis 0 (embedding lookup) is differentiable');
    const table = x(0);
    const rest = table.shape?.slice(1);
    if (!rest || rest.some((d) => typeof d !== 'number'))
      fail(node, `the table needs static trailing dims, it is ${formatShape(table.shape)}`);
    // Rows summed per distinct id, deterministically (see sumRowsById), then placed: no duplicates
    // reach ScatterND. optim/sparse-grad.ts recognises this form and keeps the rows sparse.
    const ids = g.reshape(x(1), [-1]);
    const { rows, sums } = sumRowsById(
      g,
      ids,
      g.reshape(dy(0) as Value, [-1, ...(rest as number[])]),
      rest as number[],
    );
    const zeros = g.constantOfShape(g.shape(table), 0, table.dtype);
    return [g.op('ScatterND', [zeros, g.unsqueeze(rows, [-1]), sums])[0] as Value, undefined];
  },
  Reshape: reshapeBack,
  Flatten: reshapeBack,
  Squeeze: reshapeBack,
  Unsqueeze: reshapeBack,
  Transpose: (ctx) => {
    const perm = ctx.node.attrs.perm;
    const r = rankOf(ctx, ctx.x(0));
    const p = perm?.type === 'ints' ? perm.value : Array.from({ length: r }, (_, i) => r - 1 - i);
    const inverse = new Array<number>(r);
    p.forEach((axis, i) => {
      inverse[axis] = i;
    });
    return [ctx.g.transpose(ctx.dy(0) as Value, inverse)];
  },
  Slice: slice,
  Concat: ({ g, node, x, dy }) => {
    const axisAttr = attrInt(node.attrs, 'axis', 0);
    const sizes = node.inputs.map((_, i) => {
      const shape = x(i).shape;
      const size = shape?.[normAxis(axisAttr, shape.length)];
      return typeof size === 'number' ? size : fail(node, `input ${i} needs a static size on the concat axis`);
    });
    return g.split(dy(0) as Value, sizes, axisAttr);
  },
  Split: ({ g, node, dyOrZeros }) => [
    g.concat(
      node.outputs.map((_, i) => dyOrZeros(i)),
      attrInt(node.attrs, 'axis', 0),
    ),
    undefined,
  ],
  Expand: ({ dy }) => [dy(0), undefined],
  Where: ({ g, x, dy, needs }) => [
    undefined,
    needs(1) ? g.where(x(0), dy(0) as Value, 0) : undefined,
    needs(2) ? g.where(x(0), 0, dy(0) as Value) : undefined,
  ],
  Cast: ({ g, x, dy }) => [g.cast(dy(0) as Value, x(0).dtype)],
  Identity: ({ dy }) => [dy(0)],
  Dropout: ({ g, node, x, y, dy, hasInput }) => {
    const training = hasInput(2) ? g.graph.constantOf(node.inputs[2] as string) : undefined;
    if (hasInput(2) && !training) fail(node, 'training_mode must be a constant');
    if (!training || tensorNumbers(training)[0] === 0) return [dy(0)];
    const ratioT = hasInput(1) ? g.graph.constantOf(node.inputs[1] as string) : undefined;
    const ratio = ratioT ? (tensorNumbers(ratioT)[0] as number) : 0.5;
    if (node.outputs[1] === undefined || node.outputs[1] === '')
      fail(node, 'the mask output is needed by the gradient');
    return [g.mul(g.mul(dy(0) as Value, g.cast(y(1), x(0).dtype)), 1 / (1 - ratio))];
  },
  SoftmaxCrossEntropyLoss: softmaxCrossEntropy,

  Shape: 'not-differentiable',
  Size: 'not-differentiable',
  Equal: 'not-differentiable',
  Greater: 'not-differentiable',
  Less: 'not-differentiable',
  GreaterOrEqual: 'not-differentiable',
  LessOrEqual: 'not-differentiable',
  Not: 'not-differentiable',
  And: 'not-differentiable',
  Or: 'not-differentiable',
  ArgMax: 'not-differentiable',
  ConstantOfShape: 'not-differentiable',
  Range: 'not-differentiable',
  Constant: 'not-differentiable',
  // Inference graphs only (int8 quantization after export): integer outputs, never trained through.
  DynamicQuantizeLinear: 'not-differentiable',
  MatMulInteger: 'not-differentiable',

  // No gradient written yet: the engine builds these only on integer data (ids, positions, masks),
  // inside gradients or the optimizer (after autodiff), or not at all (Abs: the autodiff tests).
  Abs: 'not-implemented',
  Max: 'not-implemented',
  Min: 'not-implemented',
  Mod: 'not-implemented',
  ReduceMax: 'not-implemented',
  CumSum: 'not-implemented',
  TopK: 'not-implemented',
  Unique: 'not-implemented',
  ScatterND: 'not-implemented',
  ScatterElements: 'not-implemented',
  Pad: 'not-implemented',
};

/** The gradient entry of a node's op type; undefined for op types outside OP_TYPES (decoded graphs). */
export const gradientOf = (opType: string): GradientEntry | undefined =>
  isOpType(opType) ? gradientRegistry[opType] : undefined;
