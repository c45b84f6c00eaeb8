import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildGradients } from '../../src/engine/graph/autodiff.js';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { gradientRegistry } from '../../src/engine/graph/gradients.js';
import { isOpType, OP_TYPES } from '../../src/engine/graph/ops.js';
import { sumRowsById } from '../../src/engine/graph/segment-sum.js';
import { shapeInference } from '../../src/engine/graph/shape-inference.js';
import { tensorOf } from '../../src/engine/graph/types.js';

// The op list (ops.ts) is the single source of op names: both per-op tables must cover exactly it,
// and nothing the builder emits may fall outside it. tsc enforces most of this through the
// Record<OpType, ...> types; these tests keep the guarantee if a table is widened or cast.

const sorted = (xs: Iterable<string>) => [...xs].sort();

test('OP_TYPES has no duplicates', () => {
  assert.equal(new Set(OP_TYPES).size, OP_TYPES.length);
});

test('every op type has a shape rule, and every shape rule is for a listed op type', () => {
  assert.deepEqual(sorted(Object.keys(shapeInference)), sorted(OP_TYPES));
  for (const op of OP_TYPES) assert.equal(typeof shapeInference[op], 'function', op);
});

test('every op type has a gradient entry: a builder or an explicit marker', () => {
  assert.deepEqual(sorted(Object.keys(gradientRegistry)), sorted(OP_TYPES));
  for (const op of OP_TYPES) {
    const entry = gradientRegistry[op];
    assert.ok(
      typeof entry === 'function' || entry === 'not-differentiable' || entry === 'not-implemented',
      `${op}: gradient entry ${String(entry)}`,
    );
  }
});

/** The public methods of GraphBuilder: the exercise table below must name each (tsc checks it). */
type BuilderMethod = {
  [K in keyof GraphBuilder]: GraphBuilder[K] extends (...args: never[]) => unknown ? K : never;
}[keyof GraphBuilder];

/** One call of every builder method on small inputs, so the ops each one emits can be checked. */
const exercise: Record<BuilderMethod, (g: GraphBuilder) => unknown> = {
  scope: (g) => g.scope('s', () => g.neg(x(g))),
  input: (g) => g.input('extra', 'float32', [2]),
  withShape: (g) => g.withShape(g.identity(x(g)), [2, 3]),
  output: (g) => g.output(g.identity(x(g))),
  initializer: (g) => g.initializer('init', tensorOf('float32', [1], [1])),
  constant: (g) => g.constant([1, 2], [2]),
  scalar: (g) => g.scalar(2),
  ints: (g) => g.ints([1, 2]),
  op: (g) => g.op('Abs', [x(g)]),
  add: (g) => g.add(x(g), 1),
  sub: (g) => g.sub(1, x(g)),
  mul: (g) => g.mul(x(g), x(g)),
  div: (g) => g.div(x(g), 2),
  pow: (g) => g.pow(x(g), 2),
  max: (g) => g.max(x(g), 0),
  min: (g) => g.min(x(g), 0),
  neg: (g) => g.neg(x(g)),
  sqrt: (g) => g.sqrt(x(g)),
  reciprocal: (g) => g.reciprocal(x(g)),
  exp: (g) => g.exp(x(g)),
  log: (g) => g.log(x(g)),
  tanh: (g) => g.tanh(x(g)),
  erf: (g) => g.erf(x(g)),
  sin: (g) => g.sin(x(g)),
  cos: (g) => g.cos(x(g)),
  sigmoid: (g) => g.sigmoid(x(g)),
  relu: (g) => g.relu(x(g)),
  identity: (g) => g.identity(x(g)),
  equal: (g) => g.equal(x(g), 0),
  greater: (g) => g.greater(x(g), 0),
  where: (g) => g.where(g.greater(x(g), 0), x(g), 0),
  cast: (g) => g.cast(x(g), 'float64'),
  matmul: (g) => g.matmul(x(g), g.transpose(x(g), [1, 0])),
  gemm: (g) => g.gemm(x(g), x(g), undefined, { transB: true, alpha: 2 }),
  softmax: (g) => g.softmax(x(g)),
  logSoftmax: (g) => g.logSoftmax(x(g)),
  layerNorm: (g) => g.layerNorm(x(g), g.constant([1, 1, 1], [3]), undefined),
  gelu: (g) => g.gelu(x(g)),
  silu: (g) => g.silu(x(g)),
  rmsNormalization: (g) => g.rmsNormalization(x(g), g.constant([1, 1, 1], [3]), 1e-5),
  reduceSum: (g) => g.reduceSum(x(g), [1]),
  reduceMean: (g) => g.reduceMean(x(g), [1]),
  argMax: (g) => g.argMax(x(g)),
  shape: (g) => g.shape(x(g)),
  shapeOf: (g) => g.shapeOf(g.neg(g.input('symbolic', 'float32', ['batch', 3]))),
  reshape: (g) => g.reshape(x(g), [3, 2]),
  expand: (g) => g.expand(g.reshape(x(g), [1, 2, 3]), [4, 2, 3]),
  transpose: (g) => g.transpose(x(g), [1, 0]),
  unsqueeze: (g) => g.unsqueeze(x(g), [0]),
  squeeze: (g) => g.squeeze(g.unsqueeze(x(g), [0]), [0]),
  flatten: (g) => g.flatten(x(g)),
  gather: (g) => g.gather(x(g), g.ints([0])),
  concat: (g) => g.concat([x(g), x(g)], 0),
  split: (g) => g.split(x(g), [1, 2], 1),
  slice: (g) => g.slice(x(g), [0], [1], [1], [1]),
  pad: (g) => g.pad(x(g), [0, 1, 0, 1]),
  constantOfShape: (g) => g.constantOfShape([2], 0),
  scatterNDAdd: (g) => g.scatterNDAdd(x(g), g.constant([0], [1, 1], 'int64'), g.constant([1, 1, 1], [1, 3])),
  dropout: (g) => g.dropout(x(g), 0.1, 7),
  seededDropout: (g) => g.seededDropout(x(g), 0.1, g.input('seed', 'int64', []), 3),
  softmaxCrossEntropy: (g) => g.softmaxCrossEntropy(x(g), g.input('labels', 'int64', [2]), { ignoreIndex: -100 }),
};

/** The [2, 3] float input each exercise reads (one per builder). */
function x(g: GraphBuilder) {
  return g.graph.values.get('x') ?? g.input('x', 'float32', [2, 3]);
}

const unlisted = (g: GraphBuilder) => g.graph.nodes.filter((n) => !isOpType(n.opType)).map((n) => n.opType);

for (const [method, call] of Object.entries(exercise)) {
  test(`GraphBuilder.${method} emits only listed op types`, () => {
    const g = new GraphBuilder();
    call(g);
    assert.deepEqual(unlisted(g), []);
  });
}

test('the graph helpers and autodiff emit only listed op types', () => {
  const g = new GraphBuilder();
  const table = g.input('table', 'float32', [5, 3]);
  const ids = g.input('ids', 'int64', [4]);
  sumRowsById(g, ids, g.gather(table, ids), [3]);
  const w = g.input('w', 'float32', [3, 3]);
  const h = g.layerNorm(g.gelu(g.matmul(g.gather(table, ids), w)), g.constant([1, 1, 1], [3]), undefined);
  const loss = g.softmaxCrossEntropy(h, g.input('labels', 'int64', [4])).loss;
  buildGradients(g, loss, [table, w]);
  assert.deepEqual(unlisted(g), []);
});
