import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildGradients } from '../../src/engine/graph/autodiff.js';
import { attr, GraphBuilder } from '../../src/engine/graph/builder.js';
import { gradientRegistry } from '../../src/engine/graph/gradients.js';
import type { Value } from '../../src/engine/graph/types.js';
import { type GradCase, gradCheck } from './helpers/gradcheck.js';
import { testSeed } from './helpers/random.js';

const x = (...shape: number[]) => ({ shape });
const pos = (...shape: number[]) => ({ shape, kind: 'positive' as const });
const away = (...shape: number[]) => ({ shape, kind: 'away-from-zero' as const });
const v = (xs: Value[], i: number) => xs[i] as Value;
/** Float32-only kernels (ORT's Erf and contrib ops): a larger step and tolerance to match. */
const float32Step = { dtype: 'float32' as const, h: 1e-2, tol: 2e-3 };

/** Every differentiable op, over several shapes including broadcast and size-1 dimensions. */
const cases: GradCase[] = [
  { op: 'Add', name: 'Add [2,3]+[3]', inputs: [x(2, 3), x(3)], build: (g, xs) => g.add(v(xs, 0), v(xs, 1)) },
  { op: 'Add', name: 'Add [2,1,4]+[3,1]', inputs: [x(2, 1, 4), x(3, 1)], build: (g, xs) => g.add(v(xs, 0), v(xs, 1)) },
  { op: 'Add', name: 'Add []+[2,2]', inputs: [x(), x(2, 2)], build: (g, xs) => g.add(v(xs, 0), v(xs, 1)) },
  { op: 'Sub', name: 'Sub [3,4]-[1,4]', inputs: [x(3, 4), x(1, 4)], build: (g, xs) => g.sub(v(xs, 0), v(xs, 1)) },
  { op: 'Sub', name: 'Sub [1]-[2,3]', inputs: [x(1), x(2, 3)], build: (g, xs) => g.sub(v(xs, 0), v(xs, 1)) },
  { op: 'Mul', name: 'Mul [2,3,4]*[4]', inputs: [x(2, 3, 4), x(4)], build: (g, xs) => g.mul(v(xs, 0), v(xs, 1)) },
  { op: 'Mul', name: 'Mul [2,1]*[1,3]', inputs: [x(2, 1), x(1, 3)], build: (g, xs) => g.mul(v(xs, 0), v(xs, 1)) },
  { op: 'Mul', name: 'Mul x*x (value used twice)', inputs: [x(2, 3)], build: (g, xs) => g.mul(v(xs, 0), v(xs, 0)) },
  { op: 'Div', name: 'Div [2,3]/[3]', inputs: [x(2, 3), away(3)], build: (g, xs) => g.div(v(xs, 0), v(xs, 1)) },
  { op: 'Div', name: 'Div [1,3]/[2,1]', inputs: [x(1, 3), away(2, 1)], build: (g, xs) => g.div(v(xs, 0), v(xs, 1)) },
  { op: 'Pow', name: 'Pow [2,3]^[3]', inputs: [pos(2, 3), pos(3)], build: (g, xs) => g.pow(v(xs, 0), v(xs, 1)) },
  { op: 'Pow', name: 'Pow [4]^2 (constant exponent)', inputs: [x(4)], build: (g, xs) => g.pow(v(xs, 0), 2) },
  {
    op: 'Sum',
    name: 'Sum [2,3]+[3]+[2,1]',
    inputs: [x(2, 3), x(3), x(2, 1)],
    build: (g, xs) => g.op('Sum', xs)[0] as Value,
  },
  { op: 'Neg', name: 'Neg [3,2]', inputs: [x(3, 2)], build: (g, xs) => g.neg(v(xs, 0)) },
  { op: 'Sqrt', name: 'Sqrt [2,3]', inputs: [pos(2, 3)], build: (g, xs) => g.sqrt(v(xs, 0)) },
  { op: 'Reciprocal', name: 'Reciprocal [5]', inputs: [away(5)], build: (g, xs) => g.reciprocal(v(xs, 0)) },
  { op: 'Exp', name: 'Exp [2,3]', inputs: [x(2, 3)], build: (g, xs) => g.exp(v(xs, 0)) },
  { op: 'Log', name: 'Log [2,3]', inputs: [pos(2, 3)], build: (g, xs) => g.log(v(xs, 0)) },
  { op: 'Tanh', name: 'Tanh [2,3]', inputs: [x(2, 3)], build: (g, xs) => g.tanh(v(xs, 0)) },
  { op: 'Sin', name: 'Sin [2,3]', inputs: [x(2, 3)], build: (g, xs) => g.sin(v(xs, 0)) },
  { op: 'Cos', name: 'Cos [3,2]', inputs: [x(3, 2)], build: (g, xs) => g.cos(v(xs, 0)) },
  // ORT's CPU Erf is float32 only: checked in float32 with a step and tolerance to match.
  {
    op: 'Erf',
    name: 'Erf [2,3] float32',
    ...float32Step,
    inputs: [x(2, 3)],
    build: (g, xs) => g.erf(v(xs, 0)),
  },
  // ORT's contrib Gelu is float32 only, like Erf.
  {
    op: 'Gelu',
    name: 'Gelu [3,4] float32',
    ...float32Step,
    inputs: [x(3, 4)],
    build: (g, xs) => g.gelu(v(xs, 0)),
  },
  // ORT's contrib QuickGelu is float32 only: x·sigmoid(alpha·x), SiLU at alpha 1.
  {
    op: 'QuickGelu',
    name: 'QuickGelu [3,4] alpha 1 (SiLU) float32',
    ...float32Step,
    inputs: [x(3, 4)],
    build: (g, xs) => g.silu(v(xs, 0)),
  },
  {
    op: 'QuickGelu',
    name: 'QuickGelu [2,5] alpha 1.702 float32',
    ...float32Step,
    inputs: [x(2, 5)],
    build: (g, xs) =>
      g.op('QuickGelu', [v(xs, 0)], { alpha: attr.float(1.702) }, { domain: 'com.microsoft' })[0] as Value,
  },
  // SwiGLU: the product's gradient reads a copy of silu(a) recomputed in the backward pass (autodiff.ts).
  {
    op: 'QuickGelu',
    name: 'QuickGelu silu(a)·b [3,4], silu recomputed for the product gradient, float32',
    ...float32Step,
    inputs: [x(3, 4), x(3, 4)],
    build: (g, xs) => g.mul(g.silu(v(xs, 0)), v(xs, 1)),
  },
  { op: 'Sigmoid', name: 'Sigmoid [4,1]', inputs: [x(4, 1)], build: (g, xs) => g.sigmoid(v(xs, 0)) },
  { op: 'Relu', name: 'Relu [3,3]', inputs: [away(3, 3)], build: (g, xs) => g.relu(v(xs, 0)) },
  { op: 'Softmax', name: 'Softmax [2,3,4] axis -1', inputs: [x(2, 3, 4)], build: (g, xs) => g.softmax(v(xs, 0), -1) },
  { op: 'Softmax', name: 'Softmax [2,3,4] axis 1', inputs: [x(2, 3, 4)], build: (g, xs) => g.softmax(v(xs, 0), 1) },
  { op: 'LogSoftmax', name: 'LogSoftmax [2,5]', inputs: [x(2, 5)], build: (g, xs) => g.logSoftmax(v(xs, 0), -1) },
  {
    op: 'LogSoftmax',
    name: 'LogSoftmax [3,2,1] axis 0',
    inputs: [x(3, 2, 1)],
    build: (g, xs) => g.logSoftmax(v(xs, 0), 0),
  },
  {
    op: 'ReduceSum',
    name: 'ReduceSum [2,3,4] axes [1] keep',
    inputs: [x(2, 3, 4)],
    build: (g, xs) => g.reduceSum(v(xs, 0), [1], true),
  },
  {
    op: 'ReduceSum',
    name: 'ReduceSum [2,3,4] axes [0,2]',
    inputs: [x(2, 3, 4)],
    build: (g, xs) => g.reduceSum(v(xs, 0), [0, -1], false),
  },
  {
    op: 'ReduceSum',
    name: 'ReduceSum [2,3] all',
    inputs: [x(2, 3)],
    build: (g, xs) => g.reduceSum(v(xs, 0), undefined, false),
  },
  {
    op: 'ReduceMean',
    name: 'ReduceMean [2,3,4] axes [2] keep',
    inputs: [x(2, 3, 4)],
    build: (g, xs) => g.reduceMean(v(xs, 0), [2], true),
  },
  {
    op: 'ReduceMean',
    name: 'ReduceMean [2,1,3] axes [0,1]',
    inputs: [x(2, 1, 3)],
    build: (g, xs) => g.reduceMean(v(xs, 0), [0, 1], false),
  },
  {
    op: 'MatMul',
    name: 'MatMul [3,4]@[4,5]',
    inputs: [x(3, 4), x(4, 5)],
    build: (g, xs) => g.matmul(v(xs, 0), v(xs, 1)),
  },
  {
    op: 'MatMul',
    name: 'MatMul [2,3,4]@[4,2]',
    inputs: [x(2, 3, 4), x(4, 2)],
    build: (g, xs) => g.matmul(v(xs, 0), v(xs, 1)),
  },
  {
    op: 'MatMul',
    name: 'MatMul [1,3,4]@[2,4,2]',
    inputs: [x(1, 3, 4), x(2, 4, 2)],
    build: (g, xs) => g.matmul(v(xs, 0), v(xs, 1)),
  },
  {
    op: 'MatMul',
    name: 'MatMul [2,2,1,3]@[2,3,1]',
    inputs: [x(2, 2, 1, 3), x(2, 3, 1)],
    build: (g, xs) => g.matmul(v(xs, 0), v(xs, 1)),
  },
  ...[false, true].flatMap((transA) =>
    [false, true].map(
      (transB): GradCase => ({
        op: 'Gemm',
        name: `Gemm transA=${transA} transB=${transB}`,
        inputs: [transA ? x(4, 3) : x(3, 4), transB ? x(2, 4) : x(4, 2), x(2)],
        build: (g, xs) => g.gemm(v(xs, 0), v(xs, 1), v(xs, 2), { alpha: 0.7, beta: 1.3, transA, transB }),
      }),
    ),
  ),
  {
    op: 'LayerNormalization',
    name: 'LayerNormalization [2,3,5] axis -1',
    inputs: [x(2, 3, 5), x(5), x(5)],
    build: (g, xs) => g.layerNorm(v(xs, 0), v(xs, 1), v(xs, 2), 1e-5),
  },
  {
    op: 'LayerNormalization',
    name: 'LayerNormalization [2,4,3] axis 1',
    inputs: [x(2, 4, 3), x(4, 3), x(4, 3)],
    build: (g, xs) => g.layerNorm(v(xs, 0), v(xs, 1), v(xs, 2), 1e-3, 1),
  },
  // float32: the gradient reads the forward's Mean and InvStdDev outputs instead of recomputing.
  {
    op: 'LayerNormalization',
    name: 'LayerNormalization [2,3,5] float32 (saved mean and inverse std)',
    dtype: 'float32',
    h: 1e-2,
    tol: 3e-3,
    inputs: [x(2, 3, 5), x(5), x(5)],
    build: (g, xs) => g.layerNorm(v(xs, 0), v(xs, 1), v(xs, 2), 1e-5),
  },
  {
    op: 'SimplifiedLayerNormalization',
    name: 'SimplifiedLayerNormalization [2,3,5] (RMSNorm)',
    inputs: [x(2, 3, 5), x(5)],
    build: (g, xs) => g.rmsNormalization(v(xs, 0), v(xs, 1), 1e-5),
  },
  // A projection's weight gradient reads the norm's output through a reshape: both recomputed (autodiff.ts).
  {
    op: 'SimplifiedLayerNormalization',
    name: 'SimplifiedLayerNormalization [2,3,4] then reshape and Gemm, the output recomputed',
    inputs: [x(2, 3, 4), x(4), x(5, 4)],
    build: (g, xs) =>
      g.gemm(g.reshape(g.rmsNormalization(v(xs, 0), v(xs, 1), 1e-5), [-1, 4]), v(xs, 2), undefined, { transB: true }),
  },
  {
    op: 'Gather',
    name: 'Gather [5,3] by [2,3] with repeats',
    inputs: [x(5, 3), { shape: [2, 3], kind: 'index', values: [0, 4, 4, 1, 0, 2] }],
    build: (g, xs) => g.gather(v(xs, 0), v(xs, 1)),
  },
  {
    op: 'Reshape',
    name: 'Reshape [2,3,4]->[6,-1]',
    inputs: [x(2, 3, 4)],
    build: (g, xs) => g.reshape(v(xs, 0), [6, -1]),
  },
  {
    op: 'Reshape',
    name: 'Reshape [2,3,4]->[0,12]',
    inputs: [x(2, 3, 4)],
    build: (g, xs) => g.reshape(v(xs, 0), [0, 12]),
  },
  {
    op: 'Transpose',
    name: 'Transpose [2,3,4] perm [1,2,0]',
    inputs: [x(2, 3, 4)],
    build: (g, xs) => g.transpose(v(xs, 0), [1, 2, 0]),
  },
  {
    op: 'Unsqueeze',
    name: 'Unsqueeze [2,3] axes [0,-1]',
    inputs: [x(2, 3)],
    build: (g, xs) => g.unsqueeze(v(xs, 0), [0, -1]),
  },
  {
    op: 'Squeeze',
    name: 'Squeeze [2,1,3,1] axes [1]',
    inputs: [x(2, 1, 3, 1)],
    build: (g, xs) => g.squeeze(v(xs, 0), [1]),
  },
  { op: 'Flatten', name: 'Flatten [2,3,2] axis 2', inputs: [x(2, 3, 2)], build: (g, xs) => g.flatten(v(xs, 0), 2) },
  {
    op: 'Slice',
    name: 'Slice [4,5] rows 1:3 cols -3:',
    inputs: [x(4, 5)],
    build: (g, xs) => g.slice(v(xs, 0), [1, -3], [3, 100], [0, 1]),
  },
  {
    op: 'Slice',
    name: 'Slice [2,6,3] axis 1 [0:1]',
    inputs: [x(2, 6, 3)],
    build: (g, xs) => g.slice(v(xs, 0), [0], [1], [1]),
  },
  {
    op: 'Slice',
    name: 'Slice [3,5] axis 1 [1:rows] (end known at run time, as XLNet rel_shift)',
    inputs: [x(3, 5)],
    build: (g, xs) => {
      const rows = g.unsqueeze(g.gather(g.shape(v(xs, 0)), g.scalar(0, 'int64')), [0]); // [3], not a constant
      return g.withShape(g.op('Slice', [v(xs, 0), g.ints([1]), rows, g.ints([1])])[0] as Value, [3, 2]);
    },
  },
  {
    op: 'Concat',
    name: 'Concat axis 1 of [2,1],[2,3],[2,2]',
    inputs: [x(2, 1), x(2, 3), x(2, 2)],
    build: (g, xs) => g.concat(xs, 1),
  },
  {
    op: 'Split',
    name: 'Split [2,6] into 1,2,3 (middle output unused)',
    inputs: [x(2, 6)],
    build: (g, xs) => {
      const [a, , c] = g.split(v(xs, 0), [1, 2, 3], 1);
      return g.concat([c as Value, a as Value], 1);
    },
  },
  { op: 'Expand', name: 'Expand [3,1] to [2,3,4]', inputs: [x(3, 1)], build: (g, xs) => g.expand(v(xs, 0), [2, 3, 4]) },
  {
    op: 'Where',
    name: 'Where [2,3] ? [2,3] : [3]',
    inputs: [{ shape: [2, 3], kind: 'bool' }, x(2, 3), x(3)],
    build: (g, xs) => g.where(v(xs, 0), v(xs, 1), v(xs, 2)),
  },
  {
    op: 'Cast',
    name: 'Cast float64 -> float32 -> float64',
    h: 1e-3,
    tol: 1e-4,
    inputs: [x(2, 3)],
    build: (g, xs) => g.cast(g.mul(g.cast(v(xs, 0), 'float32'), g.scalar(3, 'float32')), 'float64'),
  },
  { op: 'Identity', name: 'Identity [3]', inputs: [x(3)], build: (g, xs) => g.identity(v(xs, 0)) },
  {
    op: 'Dropout',
    name: 'Dropout [4,5] ratio 0.3',
    freshSession: true,
    inputs: [x(4, 5)],
    build: (g, xs) => g.dropout(v(xs, 0), 0.3, 1234).y,
  },
  ...(['mean', 'sum', 'none'] as const).map(
    (reduction): GradCase => ({
      op: 'SoftmaxCrossEntropyLoss',
      name: `SoftmaxCrossEntropyLoss [4,5] ${reduction} ignore_index`,
      inputs: [x(4, 5), { shape: [4], kind: 'index', values: [1, -100, 4, 0] }],
      build: (g, xs) => g.softmaxCrossEntropy(v(xs, 0), v(xs, 1), { reduction, ignoreIndex: -100 }).loss,
    }),
  ),
  {
    op: 'SoftmaxCrossEntropyLoss',
    name: 'SoftmaxCrossEntropyLoss [2,3,4] (N,C,d) mean',
    inputs: [x(2, 3, 4), { shape: [2, 4], kind: 'index', max: 3 }],
    build: (g, xs) => g.softmaxCrossEntropy(v(xs, 0), v(xs, 1)).loss,
  },
];

const differentiable = Object.entries(gradientRegistry)
  .filter(([, b]) => typeof b === 'function')
  .map(([op]) => op)
  .sort();

test('every differentiable op in the registry has a gradient check', () => {
  const checked = new Set(cases.map((c) => c.op));
  const missing = differentiable.filter((op) => !checked.has(op));
  assert.deepEqual(missing, [], `ops registered without a gradient check: ${missing.join(', ')}`);
});

for (const c of cases) {
  test(`gradient check: ${c.name}`, async () => {
    const seed = testSeed();
    const report = await gradCheck(c, seed);
    assert.ok(report.forwardOps.has(c.op), `${c.name}: the forward graph does not contain ${c.op}`);
    assert.ok(report.checked > 0, `${c.name}: no gradient element was checked`);
  });
}

test('an op without a gradient on the path to the loss fails at build time naming op and node', () => {
  const g = new GraphBuilder();
  const w = g.input('w', 'float32', [3]);
  const y = g.scope('block', () => g.op('Abs', [w])[0] as Value);
  const loss = g.reduceSum(y, undefined, false);
  assert.throws(() => buildGradients(g, loss, [w]), /no gradient registered for op type 'Abs' \(node 'block\/abs'\)/);
});

test('values that do not reach the loss get zero gradients and no error', () => {
  const g = new GraphBuilder();
  const w = g.input('w', 'float32', [3]);
  const unused = g.input('u', 'float32', [2]);
  g.op('Abs', [unused]); // not on a path to the loss: no gradient needed
  const loss = g.reduceSum(g.mul(w, w), undefined, false);
  const grads = buildGradients(g, loss, [w, unused]);
  assert.equal(g.graph.producer.get(grads.get('u')?.name ?? '')?.opType, 'ConstantOfShape');
});
