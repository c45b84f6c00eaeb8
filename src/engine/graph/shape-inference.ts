import { broadcastShapes, divDims, mulDims, normAxis } from './dims.js';
import type { Graph } from './graph.js';
import type { OpType } from './ops.js';
import {
  type Attr,
  type Dim,
  type DType,
  dtypeFromOnnxCode,
  formatShape,
  type Shape,
  tensorNumbers,
  type Value,
} from './types.js';

/** What shape inference knows about one output: its dtype and shape (undefined = unknown rank). */
export interface InferredValue {
  dtype: DType;
  shape: Shape | undefined;
}

export interface InferContext {
  readonly graph: Graph;
  readonly opType: OpType;
  readonly nodeName: string;
  readonly inputs: readonly (Value | undefined)[];
  readonly attrs: Readonly<Record<string, Attr>>;
  readonly outputCount: number;
}

type InferFn = (ctx: InferContext) => InferredValue[];

export const attrInt = (attrs: Readonly<Record<string, Attr>>, name: string, dflt: number): number => {
  const a = attrs[name];
  return a && (a.type === 'int' || a.type === 'float') ? a.value : dflt;
};
export const attrFloat = attrInt;
export const attrInts = (attrs: Readonly<Record<string, Attr>>, name: string): readonly number[] | undefined => {
  const a = attrs[name];
  return a?.type === 'ints' ? a.value : undefined;
};

function input(ctx: InferContext, i: number): Value {
  const v = ctx.inputs[i];
  if (!v) throw new Error(`${ctx.opType} node '${ctx.nodeName}': missing input ${i}`);
  return v;
}

/**
 * The numbers held by a 1-D int64 value such as a Reshape target or Slice starts: from a constant,
 * or, when it is `Shape(x)`, from x's (possibly symbolic) shape. Undefined when unknowable here.
 */
export function shapeTensorDims(graph: Graph, name: string | undefined): Dim[] | undefined {
  if (!name) return undefined;
  const constant = graph.constantOf(name);
  if (constant) return tensorNumbers(constant);
  const producer = graph.producer.get(name);
  if (!producer) return undefined;
  switch (producer.opType) {
    case 'Shape':
      return producer.inputs[0] ? graph.value(producer.inputs[0]).shape?.slice() : undefined;
    case 'Slice': {
      // Part of a shape, e.g. the leading dims of x: Slice(Shape(x), [0], [-1]).
      const whole = shapeTensorDims(graph, producer.inputs[0]);
      const [start, end] = [1, 2].map((i) => shapeTensorDims(graph, producer.inputs[i])?.[0]);
      if (
        !whole ||
        typeof start !== 'number' ||
        typeof end !== 'number' ||
        producer.inputs.slice(3).some((i) => i !== '')
      )
        return undefined;
      return whole.slice(start, Math.min(end, whole.length));
    }
    case 'Concat': {
      const parts = producer.inputs.map((i) => shapeTensorDims(graph, i));
      return parts.every((p) => p !== undefined) ? (parts as Dim[][]).flat() : undefined;
    }
    case 'Gather': {
      // Chosen dims of a shape (GraphBuilder.shapeOf reads a symbol as Gather(Shape(input), [axis])).
      const whole = shapeTensorDims(graph, producer.inputs[0]);
      const picks = shapeTensorDims(graph, producer.inputs[1]);
      if (!whole || !picks || picks.some((i) => typeof i !== 'number')) return undefined;
      const dims = (picks as number[]).map((i) => whole[i < 0 ? i + whole.length : i]);
      return dims.every((d) => d !== undefined) ? (dims as Dim[]) : undefined;
    }
    case 'Mul': {
      // Element-wise products of dims (shapeOf builds "batch*seq" as batch × seq).
      const [a, b] = producer.inputs.map((i) => shapeTensorDims(graph, i));
      if (!a || !b || a.length !== b.length) return undefined;
      return a.map((d, i) => mulDims([d, b[i] as Dim]));
    }
    default:
      return undefined;
  }
}

const same = (ctx: InferContext): InferredValue[] => {
  const x = input(ctx, 0);
  return [{ dtype: x.dtype, shape: x.shape }];
};

function broadcastAll(ctx: InferContext, values: readonly (Value | undefined)[]): Shape | undefined {
  let shape: Shape | undefined = [];
  for (const v of values) {
    if (!v) continue;
    if (!v.shape || !shape) return undefined;
    shape = broadcastShapes(shape, v.shape, `${ctx.opType} node '${ctx.nodeName}'`);
  }
  return shape;
}

const elementwise = (ctx: InferContext): InferredValue[] => [
  { dtype: input(ctx, 0).dtype, shape: broadcastAll(ctx, ctx.inputs) },
];
const comparison = (ctx: InferContext): InferredValue[] => [{ dtype: 'bool', shape: broadcastAll(ctx, ctx.inputs) }];

function reduce(ctx: InferContext, axes: readonly number[] | undefined): InferredValue[] {
  const x = input(ctx, 0);
  const keep = attrInt(ctx.attrs, 'keepdims', 1) === 1;
  if (!x.shape) return [{ dtype: x.dtype, shape: undefined }];
  const rank = x.shape.length;
  const all = axes === undefined || axes.length === 0;
  const set = new Set((axes ?? []).map((a) => normAxis(a, rank)));
  const shape: Dim[] = [];
  x.shape.forEach((d, i) => {
    if (all || set.has(i)) {
      if (keep) shape.push(1);
    } else shape.push(d);
  });
  return [{ dtype: x.dtype, shape }];
}

function matmulShape(ctx: InferContext, a: Shape, b: Shape): Shape {
  if (a.length < 2 || b.length < 2) {
    throw new Error(
      `MatMul node '${ctx.nodeName}': operands must have rank >= 2, got ${formatShape(a)} and ${formatShape(b)}`,
    );
  }
  const batch = broadcastShapes(a.slice(0, -2), b.slice(0, -2), `MatMul node '${ctx.nodeName}'`);
  return [...batch, a[a.length - 2] as Dim, b[b.length - 1] as Dim];
}

function reshape(ctx: InferContext): InferredValue[] {
  const x = input(ctx, 0);
  const target = shapeTensorDims(ctx.graph, ctx.inputs[1]?.name);
  if (!target) return [{ dtype: x.dtype, shape: undefined }];
  if (!x.shape) return [{ dtype: x.dtype, shape: target.some((d) => d === -1 || d === 0) ? undefined : target }];
  const out = target.map((d, i) => (d === 0 ? (x.shape?.[i] ?? 0) : d));
  const minus = out.indexOf(-1);
  if (minus >= 0) {
    const known = mulDims(out.filter((_, i) => i !== minus));
    const rest = divDims(mulDims(x.shape), known);
    if (rest === undefined) {
      throw new Error(
        `Reshape node '${ctx.nodeName}': cannot reshape ${formatShape(x.shape)} to [${target.join(', ')}]`,
      );
    }
    out[minus] = rest;
  }
  return [{ dtype: x.dtype, shape: out }];
}

function slice(ctx: InferContext): InferredValue[] {
  const x = input(ctx, 0);
  const starts = shapeTensorDims(ctx.graph, ctx.inputs[1]?.name);
  const ends = shapeTensorDims(ctx.graph, ctx.inputs[2]?.name);
  const axesIn = shapeTensorDims(ctx.graph, ctx.inputs[3]?.name);
  const steps = shapeTensorDims(ctx.graph, ctx.inputs[4]?.name);
  if (!x.shape || !starts || !ends) return [{ dtype: x.dtype, shape: undefined }];
  const shape = [...x.shape];
  starts.forEach((s, i) => {
    const axis = normAxis(Number(axesIn?.[i] ?? i), shape.length);
    const size = shape[axis];
    const step = Number(steps?.[i] ?? 1);
    const e0 = ends[i];
    if (
      typeof size !== 'number' &&
      typeof s === 'number' &&
      typeof e0 === 'number' &&
      s >= 0 &&
      e0 >= s &&
      step === 1
    ) {
      shape[axis] = e0 - s; // a symbolic dim is assumed at least as long as the slice (e.g. the CLS token)
      return;
    }
    if (typeof size !== 'number' || typeof s !== 'number' || typeof e0 !== 'number') {
      shape[axis] = `${ctx.nodeName}_dim${axis}`;
      return;
    }
    const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + size : v, lo), hi);
    const b = step > 0 ? clamp(s, 0, size) : clamp(s, -1, size - 1);
    const e = step > 0 ? clamp(ends[i] as number, 0, size) : clamp(ends[i] as number, -1, size - 1);
    shape[axis] = Math.max(0, Math.ceil((e - b) / step));
  });
  return [{ dtype: x.dtype, shape }];
}

/**
 * The shape rule of every op type in OP_TYPES (ops.ts): typed as a Record over OpType so that
 * the compiler refuses an op without one.
 */
export const shapeInference: Readonly<Record<OpType, InferFn>> = {
  Identity: same,
  Neg: same,
  Abs: same,
  Sqrt: same,
  Reciprocal: same,
  Exp: same,
  Log: same,
  Tanh: same,
  Sin: same,
  Cos: same,
  Erf: same,
  Gelu: same,
  QuickGelu: same,
  Sigmoid: same,
  Relu: same,
  Softmax: same,
  LogSoftmax: same,
  Not: same,
  Add: elementwise,
  Sub: elementwise,
  Mul: elementwise,
  Div: elementwise,
  Pow: elementwise,
  Max: elementwise,
  Min: elementwise,
  Sum: elementwise,
  Mod: elementwise,
  Equal: comparison,
  Greater: comparison,
  Less: comparison,
  GreaterOrEqual: comparison,
  LessOrEqual: comparison,
  And: comparison,
  Or: comparison,
  Where: (ctx) => [{ dtype: input(ctx, 1).dtype, shape: broadcastAll(ctx, ctx.inputs) }],
  Cast: (ctx) => {
    const to = ctx.attrs.to;
    if (to?.type !== 'int') throw new Error(`Cast node '${ctx.nodeName}': attribute 'to' is missing`);
    return [{ dtype: dtypeFromOnnxCode(to.value, `Cast '${ctx.nodeName}'`), shape: input(ctx, 0).shape }];
  },
  MatMul: (ctx) => {
    const [a, b] = [input(ctx, 0), input(ctx, 1)];
    return [{ dtype: a.dtype, shape: a.shape && b.shape ? matmulShape(ctx, a.shape, b.shape) : undefined }];
  },
  // y (uint8, x's shape), y_scale and y_zero_point (scalars): the per-tensor uint8 quantization of x.
  DynamicQuantizeLinear: (ctx) => [
    { dtype: 'uint8', shape: input(ctx, 0).shape },
    { dtype: 'float32', shape: [] },
    { dtype: 'uint8', shape: [] },
  ],
  MatMulInteger: (ctx) => {
    const [a, b] = [input(ctx, 0), input(ctx, 1)];
    return [{ dtype: 'int32', shape: a.shape && b.shape ? matmulShape(ctx, a.shape, b.shape) : undefined }];
  },
  Gemm: (ctx) => {
    const [a, b] = [input(ctx, 0), input(ctx, 1)];
    if (!a.shape || !b.shape) return [{ dtype: a.dtype, shape: undefined }];
    const m = attrInt(ctx.attrs, 'transA', 0) ? a.shape[1] : a.shape[0];
    const n = attrInt(ctx.attrs, 'transB', 0) ? b.shape[0] : b.shape[1];
    return [{ dtype: a.dtype, shape: [m as Dim, n as Dim] }];
  },
  ReduceSum: (ctx) => reduce(ctx, shapeTensorDims(ctx.graph, ctx.inputs[1]?.name) as number[] | undefined),
  ReduceMean: (ctx) => reduce(ctx, attrInts(ctx.attrs, 'axes')),
  ReduceMax: (ctx) => reduce(ctx, attrInts(ctx.attrs, 'axes')),
  ArgMax: (ctx) => [{ dtype: 'int64', shape: reduce(ctx, [attrInt(ctx.attrs, 'axis', 0)])[0]?.shape }],
  LayerNormalization: (ctx) => {
    const x = input(ctx, 0);
    const axis = attrInt(ctx.attrs, 'axis', -1);
    const stat = x.shape?.map((d, i) => (i >= normAxis(axis, x.shape?.length ?? 0) ? 1 : d));
    return [
      { dtype: x.dtype, shape: x.shape },
      { dtype: 'float32', shape: stat },
      { dtype: 'float32', shape: stat },
    ];
  },
  SimplifiedLayerNormalization: (ctx) => [{ dtype: input(ctx, 0).dtype, shape: input(ctx, 0).shape }],
  Gather: (ctx) => {
    const [data, idx] = [input(ctx, 0), input(ctx, 1)];
    if (!data.shape || !idx.shape) return [{ dtype: data.dtype, shape: undefined }];
    const axis = normAxis(attrInt(ctx.attrs, 'axis', 0), data.shape.length);
    return [{ dtype: data.dtype, shape: [...data.shape.slice(0, axis), ...idx.shape, ...data.shape.slice(axis + 1)] }];
  },
  Reshape: reshape,
  Transpose: (ctx) => {
    const x = input(ctx, 0);
    const perm = attrInts(ctx.attrs, 'perm') ?? x.shape?.map((_, i, s) => s.length - 1 - i);
    return [{ dtype: x.dtype, shape: x.shape && perm?.map((p) => x.shape?.[p] as Dim) }];
  },
  Unsqueeze: (ctx) => {
    const x = input(ctx, 0);
    const axes = shapeTensorDims(ctx.graph, ctx.inputs[1]?.name) as number[] | undefined;
    if (!x.shape || !axes) return [{ dtype: x.dtype, shape: undefined }];
    const rank = x.shape.length + axes.length;
    const set = new Set(axes.map((a) => normAxis(a, rank)));
    const rest = [...x.shape];
    return [
      { dtype: x.dtype, shape: Array.from({ length: rank }, (_, i) => (set.has(i) ? 1 : (rest.shift() as Dim))) },
    ];
  },
  Squeeze: (ctx) => {
    const x = input(ctx, 0);
    const axes = shapeTensorDims(ctx.graph, ctx.inputs[1]?.name) as number[] | undefined;
    if (!x.shape) return [{ dtype: x.dtype, shape: undefined }];
    const rank = x.shape.length;
    const set = new Set(axes ? axes.map((a) => normAxis(a, rank)) : x.shape.flatMap((d, i) => (d === 1 ? [i] : [])));
    return [{ dtype: x.dtype, shape: x.shape.filter((_, i) => !set.has(i)) }];
  },
  Flatten: (ctx) => {
    const x = input(ctx, 0);
    if (!x.shape) return [{ dtype: x.dtype, shape: undefined }];
    const axis = normAxis(attrInt(ctx.attrs, 'axis', 1), x.shape.length);
    return [{ dtype: x.dtype, shape: [mulDims(x.shape.slice(0, axis)), mulDims(x.shape.slice(axis))] }];
  },
  Slice: slice,
  Concat: (ctx) => {
    const first = input(ctx, 0);
    if (ctx.inputs.some((v) => !v?.shape)) return [{ dtype: first.dtype, shape: undefined }];
    const shape = [...(first.shape as Shape)];
    const axis = normAxis(attrInt(ctx.attrs, 'axis', 0), shape.length);
    const sizes = ctx.inputs.map((v) => v?.shape?.[axis] as Dim);
    shape[axis] = sizes.every((s) => typeof s === 'number')
      ? (sizes as number[]).reduce((a, b) => a + b, 0)
      : sizes.join('+');
    return [{ dtype: first.dtype, shape }];
  },
  Split: (ctx) => {
    const x = input(ctx, 0);
    const sizes = shapeTensorDims(ctx.graph, ctx.inputs[1]?.name);
    return Array.from({ length: ctx.outputCount }, (_, k) => {
      if (!x.shape) return { dtype: x.dtype, shape: undefined };
      const axis = normAxis(attrInt(ctx.attrs, 'axis', 0), x.shape.length);
      const shape = [...x.shape];
      const total = x.shape[axis];
      shape[axis] = sizes
        ? (sizes[k] as Dim)
        : typeof total === 'number'
          ? total / ctx.outputCount
          : `${total}/${ctx.outputCount}`;
      return { dtype: x.dtype, shape };
    });
  },
  Expand: (ctx) => {
    const x = input(ctx, 0);
    const target = shapeTensorDims(ctx.graph, ctx.inputs[1]?.name);
    return [
      {
        dtype: x.dtype,
        shape: x.shape && target ? broadcastShapes(x.shape, target, `Expand node '${ctx.nodeName}'`) : undefined,
      },
    ];
  },
  Dropout: (ctx) => {
    const x = input(ctx, 0);
    return [
      { dtype: x.dtype, shape: x.shape },
      { dtype: 'bool', shape: x.shape },
    ];
  },
  SoftmaxCrossEntropyLoss: (ctx) => {
    const [scores, labels] = [input(ctx, 0), input(ctx, 1)];
    const reduction = ctx.attrs.reduction?.type === 'string' ? ctx.attrs.reduction.value : 'mean';
    return [
      { dtype: scores.dtype, shape: reduction === 'none' ? labels.shape : [] },
      { dtype: scores.dtype, shape: scores.shape },
    ];
  },
  Shape: (ctx) => [{ dtype: 'int64', shape: [input(ctx, 0).shape?.length ?? `${ctx.nodeName}_rank`] }],
  Size: () => [{ dtype: 'int64', shape: [] }],
  ConstantOfShape: (ctx) => {
    const value = ctx.attrs.value;
    const dims = shapeTensorDims(ctx.graph, ctx.inputs[0]?.name);
    return [{ dtype: value?.type === 'tensor' ? value.value.dtype : 'float32', shape: dims }];
  },
  Constant: (ctx) => {
    const value = ctx.attrs.value;
    if (value?.type !== 'tensor') throw new Error(`Constant node '${ctx.nodeName}': only tensor values are supported`);
    return [{ dtype: value.value.dtype, shape: [...value.value.dims] }];
  },
  Range: (ctx) => [{ dtype: input(ctx, 0).dtype, shape: [`${ctx.nodeName}_len`] }],
  TopK: (ctx) => {
    const x = input(ctx, 0);
    const k = shapeTensorDims(ctx.graph, ctx.inputs[1]?.name)?.[0] ?? `${ctx.nodeName}_k`;
    const axis = normAxis(attrInt(ctx.attrs, 'axis', -1), x.shape?.length ?? 1);
    const shape = x.shape?.map((d, i) => (i === axis ? k : d));
    return [
      { dtype: x.dtype, shape },
      { dtype: 'int64', shape },
    ];
  },
  // Flattened (no axis): the distinct values [U], first occurrences [U], inverse [N], counts [U].
  Unique: (ctx) => {
    const x = input(ctx, 0);
    const u = `${ctx.nodeName}_unique`;
    const n = x.shape ? mulDims(x.shape) : `${ctx.nodeName}_n`;
    return [
      { dtype: x.dtype, shape: [u] },
      { dtype: 'int64', shape: [u] },
      { dtype: 'int64', shape: [n] },
      { dtype: 'int64', shape: [u] },
    ];
  },
  ScatterND: same,
  CumSum: same,
  ScatterElements: same,
  Pad: (ctx) => {
    const x = input(ctx, 0);
    const pads = shapeTensorDims(ctx.graph, ctx.inputs[1]?.name);
    if (!x.shape || !pads) return [{ dtype: x.dtype, shape: undefined }];
    const r = x.shape.length;
    const padded = x.shape.map((d, i) =>
      typeof d === 'number' ? d + Number(pads[i]) + Number(pads[i + r]) : `${d}+pad${i}`,
    );
    return [{ dtype: x.dtype, shape: padded }];
  },
};
