import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { graphCost } from '../../src/tools/bench/flops.js';
import { roofline } from '../../src/tools/bench/roofline.js';

/**
 * x [n,4] @ w [4,3] -> h [n,3]; r = tanh(h); Gemm(xt [6,n], v [6,5], transA) -> [n,5];
 * q [2,n,8] @ k [2,8,n] -> s [2,n,n] (attention scores' shape). Every figure below is by hand at n = 2.
 */
function tiny() {
  const g = new GraphBuilder();
  const x = g.input('x', 'float32', ['n', 4]);
  const w = g.input('w', 'float32', [4, 3]);
  const h = g.matmul(x, w);
  g.output(g.tanh(h));
  const xt = g.input('xt', 'float32', [6, 'n']);
  const v = g.input('v', 'float32', [6, 5]);
  g.output(g.gemm(xt, v, undefined, { transA: true }));
  const q = g.input('q', 'float32', [2, 'n', 8]);
  const k = g.input('k', 'float32', [2, 8, 'n']);
  g.output(g.matmul(q, k));
  return g.graph;
}

test('flops: 2·M·N·K per matrix product (batched, Gemm with transA), element counts and bytes for the rest', () => {
  const cost = graphCost(tiny(), { n: 2 });
  const byOp = cost.nodes.map((c) => [c.op, c.matmulFlops, c.otherElements, c.bytes]);
  assert.deepEqual(byOp, [
    // M=2, N=3, K=4: 2·2·3·4 = 48 FLOPs; bytes (2·4 + 4·3 + 2·3)·4 = 104.
    ['MatMul', 48, 0, 104],
    // 6 output elements; reads and writes 6 floats: 48 bytes.
    ['Tanh', 0, 6, 48],
    // A is [K=6, M=2] transposed, B [6, 5]: 2·2·5·6 = 120 FLOPs; bytes (12 + 30 + 10)·4 = 208.
    ['Gemm', 120, 0, 208],
    // 2 batches of [2,8]·[8,2]: 2·(2·2·2·8) = 128 FLOPs; bytes (32 + 32 + 8)·4 = 288.
    ['MatMul', 128, 0, 288],
  ]);
  assert.equal(cost.matmulFlops, 48 + 120 + 128);
  assert.equal(cost.otherElements, 6);
  assert.equal(cost.bytes, 104 + 48 + 208 + 288);
});

test('flops: grows with the symbolic dim as the shapes say (attention scores quadratically)', () => {
  const at4 = graphCost(tiny(), { n: 4 });
  // MatMul 2·4·3·4 = 96, Gemm 2·4·5·6 = 240, scores 2·(2·4·4·8) = 512.
  assert.equal(at4.matmulFlops, 96 + 240 + 512);
});

test('flops: a matrix product of a size the dims do not give is an error naming the node and value', () => {
  assert.throws(() => graphCost(tiny(), { m: 2 }), /input of node '.*' \(MatMul\) 'x' has shape \["n",4\]/);
});

test('flops: another op of unknown size counts 0 and is listed', () => {
  const g = new GraphBuilder();
  const x = g.input('x', 'float32', ['n', 4]);
  const t = g.tanh(x);
  g.output(t);
  const cost = graphCost(g.graph, {});
  assert.deepEqual([cost.otherElements, cost.bytes, cost.unknown], [0, 0, ['x', t.name]]);
});

test('roofline: per node the larger of FLOPs / GEMM rate and bytes / bandwidth, summed; HostAdamW as 28 bytes an element', () => {
  const cost = graphCost(tiny(), { n: 2 });
  // 1 MFLOP/s and 10 MB/s: MatMul max(48 / 1e6, 104 / 1e7) s = 0.048 ms (compute-bound), Tanh 48 / 1e7 s =
  // 0.0048 ms, Gemm max(0.12, 0.0208) = 0.12 ms, scores max(0.128, 0.0288) = 0.128 ms; 10 host elements 0.028 ms.
  const r = roofline(cost, 10, 0.001, 0.01);
  const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);
  close(r.computeMs, 0.048 + 0.12 + 0.128);
  close(r.memoryMs, 0.0048 + 0.028);
  close(r.totalMs, 0.048 + 0.12 + 0.128 + 0.0048 + 0.028);
  assert.deepEqual(
    r.byOp.map((k) => k.op),
    ['MatMul', 'Gemm', 'HostAdamW', 'Tanh'],
  );
});
