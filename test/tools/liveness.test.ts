import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { liveness, ortOrder } from '../../src/tools/bench/liveness.js';

// a [n, 256] float32 is n KiB: sizes below are in KiB.
const KIB = 1024;

/** x -> a = exp(x) [n,256]; v = reshape(a) (a view); b = tanh(x) [n,256]; out = v * b. */
function chain() {
  const g = new GraphBuilder();
  const x = g.input('x', 'float32', ['n', 256]);
  const a = g.exp(x);
  const view = g.reshape(a, [-1]);
  const b = g.tanh(x);
  const out = g.mul(g.reshape(view, [-1, 256]), b);
  g.output(out);
  return g.graph;
}

test('liveness: a view shares its source buffer, freed after the last reader of either', () => {
  const l = liveness(chain(), { n: 4 }, 'index');
  // At the Mul: exp's buffer (read through two views), tanh's, and the product: 3 × 4 KiB.
  assert.equal(l.peakBytes, 12 * KIB);
  assert.equal(l.peakNode.opType, 'Mul');
  assert.deepEqual(
    l.live.map((t) => [t.producer, t.bytes]),
    [
      ['Exp', 4 * KIB],
      ['Tanh', 4 * KIB],
      ['Mul', 4 * KIB],
    ],
  );
  assert.deepEqual(l.live.find((t) => t.producer === 'Mul')?.keptFor, ['(output)']);
});

test("liveness: ORT's default order visits a node's latest producer first (reverse DFS from the leaves)", () => {
  const g = new GraphBuilder();
  const x = g.input('x', 'float32', [2]);
  const first = g.exp(x); // node 0
  const second = g.tanh(x); // node 1
  g.output(g.add(first, second)); // node 2
  // The leaf Add pushes its producers in index order and pops the last: Tanh runs before Exp.
  assert.deepEqual(
    ortOrder(g.graph).map((n) => n.opType),
    ['Tanh', 'Exp', 'Add'],
  );
  assert.equal(liveness(g.graph, {}, 'ort').nodes, 3);
});
