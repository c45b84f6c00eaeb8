import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Graph } from '../../src/engine/graph/graph.js';
import { decodeModel, encodeModel } from '../../src/engine/graph/onnx-codec.js';
import { ModelProto } from '../../src/engine/graph/onnx-schema.js';
import { type Attr, type TensorData, tensorNumbers, tensorOf } from '../../src/engine/graph/types.js';
import { createSession, cudaProviderInstalled, resolveExecutionProviders } from '../../src/engine/runtime.js';

/** y = x @ W + b with W, b initializers and a symbolic batch dimension. */
function affineGraph(): Graph {
  const g = new Graph('affine');
  g.addValue({ name: 'x', dtype: 'float32', shape: ['batch', 3] });
  g.inputs.push('x');
  g.addValue({ name: 'W', dtype: 'float32', shape: [3, 2] });
  g.addInitializer('W', tensorOf('float32', [3, 2], [1, 2, 3, 4, 5, 6]));
  g.addValue({ name: 'b', dtype: 'float32', shape: [2] });
  g.addInitializer('b', tensorOf('float32', [2], [0.5, -1]));
  g.addValue({ name: 'xw', dtype: 'float32', shape: ['batch', 2] });
  g.addNode({ name: 'matmul', opType: 'MatMul', inputs: ['x', 'W'], outputs: ['xw'], attrs: {}, domain: '' });
  g.addValue({ name: 'y', dtype: 'float32', shape: ['batch', 2] });
  g.addNode({ name: 'add', opType: 'Add', inputs: ['xw', 'b'], outputs: ['y'], attrs: {}, domain: '' });
  g.outputs.push('y');
  return g;
}

test('encode/decode round trip keeps the graph structure', () => {
  const g = affineGraph();
  const bytes = encodeModel(g, { opsetVersion: 17, metadata: { model: 'affine', step: '3' } });
  const { graph: d, opsetVersion, metadata } = decodeModel(bytes);
  assert.equal(opsetVersion, 17);
  assert.deepEqual(metadata, { model: 'affine', step: '3' });
  assert.equal(d.name, 'affine');
  assert.deepEqual(d.inputs, ['x']);
  assert.deepEqual(d.outputs, ['y']);
  assert.deepEqual(d.values, g.values);
  assert.deepEqual(d.nodes, g.nodes);
  assert.deepEqual([...d.initializers.keys()], ['W', 'b']);
  for (const [name, t] of g.initializers) assert.deepEqual(d.initializers.get(name), t);
  assert.equal(d.producer.get('y')?.name, 'add');
});

test('the encoded model runs in onnxruntime with the right numbers', async () => {
  const session = await createSession(encodeModel(affineGraph()), { device: 'cpu' });
  try {
    assert.deepEqual(session.inputNames, ['x']);
    assert.deepEqual(session.outputNames, ['y']);
    // [1,0,-1] @ W = [1-5, 2-6] = [-4,-4]; [2,1,0] @ W = [2+3, 4+4] = [5, 8]; then + b.
    const x = tensorOf('float32', [2, 3], [1, 0, -1, 2, 1, 0]);
    const { y } = await session.run({ x });
    assert.ok(y);
    assert.equal(y.dtype, 'float32');
    assert.deepEqual(y.dims, [2, 2]);
    assert.deepEqual(tensorNumbers(y), [-3.5, -5, 5.5, 7]);

    // Preallocated output: filled in place and handed back as the same object.
    const out = tensorOf('float32', [1, 2], [0, 0]);
    const r = await session.run({ x: tensorOf('float32', [1, 3], [0, 0, 1]) }, { y: out });
    assert.equal(r.y, out);
    assert.deepEqual(tensorNumbers(out), [5.5, 5]);
    await assert.rejects(session.run({ x }, { nope: out }), /no output 'nope'/);
  } finally {
    await session.dispose();
  }
});

test('int64 initializers and every attribute kind survive decoding', () => {
  const g = new Graph('attrs');
  const big = tensorOf('int64', [4], [0, -1, 2 ** 40, -(2 ** 50)]);
  // Values beyond 2^53 are exact too (tensorOf goes through numbers, so set them directly).
  (big.data as BigInt64Array)[0] = 2n ** 62n + 1n;
  g.addValue({ name: 'idx', dtype: 'int64', shape: [4] });
  g.addInitializer('idx', big);
  g.addValue({ name: 'mask', dtype: 'bool', shape: [3] });
  g.addInitializer('mask', tensorOf('bool', [3], [1, 0, 1]));
  g.addValue({ name: 'h', dtype: 'float16', shape: [2] });
  g.addInitializer('h', { dtype: 'float16', dims: [2], data: new Uint16Array([0x3c00, 0xc000]) });
  g.addValue({ name: 'd', dtype: 'float64', shape: [] });
  g.addInitializer('d', tensorOf('float64', [], [Math.PI]));
  const attrs: Record<string, Attr> = {
    count: { type: 'int', value: -7 },
    large: { type: 'int', value: 2 ** 50 },
    alpha: { type: 'float', value: 0.25 },
    mode: { type: 'string', value: 'säum ✓' },
    perm: { type: 'ints', value: [2, 0, -1] },
    scales: { type: 'floats', value: [1.5, -2] },
    names: { type: 'strings', value: ['a', '', 'ü'] },
    value: { type: 'tensor', value: tensorOf('int32', [2, 1], [3, -4]) },
  };
  g.addValue({ name: 'out', dtype: 'int64', shape: [4] });
  g.addNode({
    name: 'custom',
    opType: 'Custom',
    inputs: ['idx', '', 'mask'],
    outputs: ['out'],
    attrs,
    domain: 'test.ops',
  });
  g.outputs.push('out');

  const bytes = encodeModel(g);
  const opsets = (ModelProto.decode(bytes) as unknown as { opsetImport: { domain: string }[] }).opsetImport;
  assert.deepEqual(
    opsets.map((o) => o.domain),
    ['', 'test.ops'],
  );
  const d = decodeModel(bytes).graph;
  assert.deepEqual(d.initializers.get('idx'), big);
  assert.equal((d.initializers.get('idx') as TensorData).data[0], 2n ** 62n + 1n);
  assert.deepEqual(d.initializers.get('mask'), tensorOf('bool', [3], [1, 0, 1]));
  assert.deepEqual(d.initializers.get('h')?.data, new Uint16Array([0x3c00, 0xc000]));
  assert.deepEqual(d.initializers.get('d'), tensorOf('float64', [], [Math.PI]));
  assert.deepEqual(d.nodes[0], g.nodes[0]);
  assert.deepEqual(d.value('out'), { name: 'out', dtype: 'int64', shape: [4] });
});

test('decoding reads typed *_data fields, IR<4 initializer inputs, and unaligned raw data', () => {
  const f32 = { elemType: 1, shape: { dim: [{ dimParam: 'n' }, { dimValue: 2 }] } };
  const msg = ModelProto.create({
    irVersion: 3,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'old',
      initializer: [
        { name: 'w', dims: [2], dataType: 1, floatData: [1.5, -2] },
        { name: 'shape', dims: [2], dataType: 7, int64Data: [-1, 4] },
        { name: 'd', dims: [1], dataType: 11, doubleData: [0.1] },
        { name: 'i8', dims: [2], dataType: 3, int32Data: [-3, 5] },
      ],
      // Old exporters list initializers among the graph inputs.
      input: [
        { name: 'x', type: { tensorType: f32 } },
        { name: 'w', type: { tensorType: { elemType: 1 } } },
      ],
      node: [
        { opType: 'Mul', input: ['x', 'w'], output: ['xw'] },
        { opType: 'Shape', input: ['xw'], output: ['s'] },
      ],
      output: [{ name: 's', type: { tensorType: { elemType: 7 } } }],
    },
  });
  const encoded = ModelProto.encode(msg).finish();
  const d = decodeModel(encoded).graph;
  assert.deepEqual(d.inputs, ['x']);
  assert.deepEqual(d.value('x'), { name: 'x', dtype: 'float32', shape: ['n', 2] });
  assert.deepEqual(d.initializers.get('w'), tensorOf('float32', [2], [1.5, -2]));
  assert.deepEqual(d.initializers.get('shape'), tensorOf('int64', [2], [-1, 4]));
  assert.deepEqual(d.initializers.get('d'), tensorOf('float64', [1], [0.1]));
  assert.deepEqual(d.initializers.get('i8'), tensorOf('int8', [2], [-3, 5]));
  // No value_info: Mul's output takes its first input's dtype, shape unknown; Shape gives int64.
  assert.deepEqual(d.value('xw'), { name: 'xw', dtype: 'float32', shape: undefined });
  assert.deepEqual(d.value('s'), { name: 's', dtype: 'int64', shape: undefined });
  assert.ok(d.nodes.every((n) => n.name !== ''));

  // raw_data at an odd byte offset still decodes (it is copied into an aligned array).
  const bytes = encodeModel(affineGraph());
  const shifted = new Uint8Array(bytes.length + 1);
  shifted.set(bytes, 1);
  const w = decodeModel(shifted.subarray(1)).graph.initializers.get('W') as TensorData;
  assert.deepEqual(tensorNumbers(w), [1, 2, 3, 4, 5, 6]);
});

test('execution provider choice', () => {
  assert.deepEqual(resolveExecutionProviders('cpu'), { providers: ['cpu'], reason: 'device: cpu requested' });
  const auto = resolveExecutionProviders('auto');
  assert.equal(auto.providers.at(-1), 'cpu');
  assert.match(auto.reason, /^auto: /);
  if (!cudaProviderInstalled()) {
    assert.equal(auto.providers[0], 'cpu');
    assert.throws(() => resolveExecutionProviders('cuda'), /onnxruntime-node-install=cuda12|only supported on Linux/);
  }
});
