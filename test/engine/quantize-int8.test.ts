import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attr, GraphBuilder } from '../../src/engine/graph/builder.js';
import { encodeModel } from '../../src/engine/graph/onnx-codec.js';
import { quantizeDynamicInt8, quantizeWeightPerColumn } from '../../src/engine/graph/quantize-int8.js';
import { tensorNumbers, tensorOf } from '../../src/engine/graph/types.js';
import { createSession } from '../../src/engine/runtime.js';

/** A deterministic pseudo-random sequence in [-1, 1). */
function noise(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

test('per-column weight quantization: symmetric int8, scale max|w|/127, round half to even (ORT quantize_data)', () => {
  // W [out 2, in 3] in Linear's layout; B = Wᵀ [3, 2]. Column 0 is W's row 0: max|w| = 1, so the
  // scale is 2·1/254 = 1/127 (compute_scale_zp on the symmetric range [-1, 1] over [-127, 127]) and
  // q = round(w·127): 127, round(-63.5) = -64 (numpy rounds ties to even), round(31.75) = 32.
  // Column 1 is all zeros: compute_scale_zp's scale-below-tiny case gives scale 1, q 0.
  const w = tensorOf('float32', [2, 3], [1, -0.5, 0.25, 0, 0, 0]);
  const q = quantizeWeightPerColumn(w, true);
  assert.deepEqual(q.q.dims, [3, 2]);
  assert.deepEqual(Array.from(q.q.data as Int8Array), [127, 0, -64, 0, 32, 0]);
  assert.deepEqual(Array.from(q.scale.data as Float32Array), [Math.fround(1 / 127), 1]);
  assert.deepEqual(Array.from(q.zeroPoint.data as Int8Array), [0, 0]);
  assert.equal(q.q.dtype, 'int8');
  assert.equal(q.zeroPoint.dtype, 'int8');
});

test("a Gemm linear layer becomes ORT's DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul -> Add, close to float32", async () => {
  const [n, k, m] = [6, 16, 5];
  const g = new GraphBuilder();
  const x = g.input('x', 'float32', ['batch', k]);
  const w = g.initializer('dense.weight', tensorOf('float32', [m, k], noise(m * k, 1)));
  const b = g.initializer('dense.bias', tensorOf('float32', [m], noise(m, 2)));
  const y = g.op('Gemm', [x, w, b], { transB: attr.int(1) }, { outputNames: ['y'] })[0];
  g.output(g.relu(y as NonNullable<typeof y>));
  const { graph, quantized } = quantizeDynamicInt8(g.graph);
  assert.deepEqual(quantized, ['dense.weight']);
  assert.deepEqual(
    graph.nodes.map((node) => node.opType),
    ['DynamicQuantizeLinear', 'MatMulInteger', 'Cast', 'Mul', 'Mul', 'Add', 'Relu'],
  );
  const integer = graph.nodes[1];
  assert.equal(graph.initializers.get(integer?.inputs[1] as string)?.dtype, 'int8');
  assert.deepEqual(graph.initializers.get(integer?.inputs[1] as string)?.dims, [k, m]);
  assert.ok(!graph.initializers.has('dense.weight'), 'the float weight is gone from the quantized graph');

  const input = tensorOf('float32', [n, k], noise(n * k, 3));
  const float = await createSession(encodeModel(g.graph), { device: 'cpu' });
  const int8 = await createSession(encodeModel(graph), { device: 'cpu' });
  const expected = tensorNumbers((await float.run({ x: input })).relu_out as never);
  const actual = tensorNumbers((await int8.run({ x: input })).relu_out as never);
  await float.dispose();
  await int8.dispose();
  // Tolerance: each of the k = 16 products is off by at most |w|·sx/2 + |x|·sw/2 (half an
  // activation step sx ≈ 2/255, half a weight step sw ≈ 1/127, |x|, |w| < 1), 0.125 in the worst
  // case when every rounding error has one sign; they do not (measured: 0.012), so 0.05 leaves
  // room while catching a wrong scale (a factor off) or a transposed weight (errors ~1).
  const diffs = expected.map((e, i) => Math.abs(e - (actual[i] as number)));
  assert.ok(Math.max(...diffs) < 0.05, `max |int8 - float32| = ${Math.max(...diffs)}`);
  assert.ok(Math.max(...diffs) > 0, 'the int8 output differs from float32 at all');
});

test('constant-B MatMul is quantized; activation x activation MatMul and non-linear Gemm stay float', () => {
  const g = new GraphBuilder();
  const x = g.input('x', 'float32', [3, 4]);
  const w = g.initializer('w', tensorOf('float32', [4, 4], noise(16, 4)));
  const h = g.matmul(x, w);
  const scores = g.matmul(h, g.op('Transpose', [h], { perm: attr.ints([1, 0]) })[0] as never);
  g.output(g.op('Gemm', [scores, w], { alpha: attr.float(0.5) })[0] as never);
  const { graph, quantized } = quantizeDynamicInt8(g.graph);
  assert.deepEqual(quantized, ['w']);
  assert.deepEqual(
    graph.nodes.map((node) => node.opType),
    ['DynamicQuantizeLinear', 'MatMulInteger', 'Cast', 'Mul', 'Mul', 'Transpose', 'MatMul', 'Gemm'],
  );
  assert.ok(graph.initializers.has('w'), 'the float weight stays for the scaled Gemm');
});
