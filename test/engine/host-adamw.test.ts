import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type AdamWStepScalars,
  HOST_ADAMW_MAX_BYTES,
  HostAdamW,
  type HostParam,
  hostable,
} from '../../src/engine/optim/host-adamw.js';
import { ortBackend } from '../../src/engine/runtime.js';
import { rng, testSeed } from './helpers/random.js';

const f = Math.fround;

/** AdamW of one element in float32, each operation rounded as the graph rounds it. */
function reference(p: number, m: number, v: number, g: number | undefined, s: AdamWStepScalars) {
  let m2 = f(m * s.b1);
  let v2 = f(v * s.b2);
  if (g !== undefined) {
    m2 = f(m2 + f(g * s.gradCoef));
    v2 = f(v2 + f(f(g * g) * s.squareCoef));
  }
  const p2 = f(f(p * s.decayFactor) - f(f(m2 / f(f(Math.sqrt(v2)) + s.scaledEps)) * s.stepSize));
  return [p2, m2, v2] as const;
}

function scalars(rand: () => number): AdamWStepScalars {
  return {
    b1: f(0.9),
    b2: f(0.999),
    gradCoef: f(0.1 * rand()),
    squareCoef: f(0.001 * rand()),
    stepSize: f(1e-3 * (1 + rand())),
    scaledEps: f(1e-8),
    decayFactor: f(1 - 1e-4 * rand()),
  };
}

/** Fills the parameter and moments of `name` with random values; returns copies of them. */
function fill(host: HostAdamW, name: string, rand: () => number): [Float32Array, Float32Array, Float32Array] {
  const views = host.views(name).map((t) => t.data as Float32Array);
  views.forEach((a, k) => {
    for (let i = 0; i < a.length; i++) a[i] = k === 2 ? rand() * 1e-4 : rand() - 0.5;
  });
  return views.map((a) => a.slice()) as [Float32Array, Float32Array, Float32Array];
}

test('a table with a row-sparse gradient: every row moves, rows with a gradient take it, bit for bit', () => {
  const seed = testSeed();
  const rand = rng(seed);
  // 5000 rows, more than the 4096 gradient rows the scratch holds at first: the memory grows.
  for (const [rows, width, gradRows] of [
    [50, 8, 17],
    [5000, 4, 4500],
  ] as const) {
    const host = new HostAdamW([{ name: 't', dims: [rows, width], kind: 'rows' }]);
    const [p0, m0, v0] = fill(host, 't', rand);
    const picked = new Set<number>();
    while (picked.size < gradRows) picked.add(Math.floor(rand() * rows));
    const ids = Int32Array.from([...picked].sort((a, b) => a - b));
    const values = Float32Array.from({ length: ids.length * width }, () => rand() - 0.5);
    const s = scalars(rand);
    host.updateRows('t', ids, values, s);
    // Views stay valid after a growth of the memory: read them only now.
    const [p, m, v] = host.views('t').map((t) => t.data as Float32Array) as [Float32Array, Float32Array, Float32Array];
    assert.equal(p.length, rows * width);
    const slot = new Map([...ids].map((r, j) => [r, j]));
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < width; c++) {
        const k = r * width + c;
        const j = slot.get(r);
        const g = j === undefined ? undefined : (values[j * width + c] as number);
        const want = reference(p0[k] as number, m0[k] as number, v0[k] as number, g, s);
        assert.deepEqual([p[k], m[k], v[k]], want, `row ${r} col ${c} (seed ${seed})`);
      }
    }
  }
});

test('a dense parameter: the gradient written into its buffer, every element updated, bit for bit', () => {
  const seed = testSeed();
  const rand = rng(seed);
  const host = new HostAdamW([
    { name: 'w', dims: [3, 4], kind: 'dense' },
    { name: 'b', dims: [8], kind: 'dense' },
  ]);
  for (const name of ['w', 'b']) {
    const [p0, m0, v0] = fill(host, name, rand);
    const grad = host.gradient(name).data as Float32Array;
    for (let i = 0; i < grad.length; i++) grad[i] = rand() - 0.5;
    const s = scalars(rand);
    host.updateDense(name, s);
    const [p, m, v] = host.views(name).map((t) => t.data as Float32Array);
    for (let k = 0; k < grad.length; k++) {
      const want = reference(p0[k] as number, m0[k] as number, v0[k] as number, grad[k], s);
      assert.deepEqual([p?.[k], m?.[k], v?.[k]], want, `${name}[${k}] (seed ${seed})`);
    }
  }
});

test('only whole blocks of 4 floats per row are taken', () => {
  assert.equal(hostable([30522, 256], 'rows'), true);
  assert.equal(hostable([10, 6], 'rows'), false);
  assert.equal(hostable([3, 4], 'dense'), true);
  assert.equal(hostable([3], 'dense'), false);
  assert.throws(() => new HostAdamW([{ name: 'b', dims: [3], kind: 'dense' }]), /'b': rows must be whole blocks/);
});

test('gradient rows out of order or out of range are refused, naming the table', () => {
  const host = new HostAdamW([{ name: 'emb', dims: [10, 4], kind: 'rows' }]);
  const s = scalars(rng(1));
  const values = new Float32Array(8);
  assert.throws(() => host.updateRows('emb', Int32Array.from([3, 2]), values, s), /table 'emb'.*sorted/);
  assert.throws(() => host.updateRows('emb', Int32Array.from([3, 10]), values, s), /below 10; got 10 at 1/);
  assert.throws(() => host.updateRows('emb', Int32Array.from([3]), values, s), /1 gradient rows but 8 values/);
});

test("the onnxruntime backend's optimizer policy: AdamW on the host where HostAdamW can take it, the rest in the graph", () => {
  const adamw = { kind: 'adamw', weightDecay: 0.01 } as const;
  const params: HostParam[] = [
    { name: 'emb', dims: [30522, 256], kind: 'rows' },
    { name: 'bias', dims: [3], kind: 'dense' },
    { name: 'w', dims: [4, 4], kind: 'dense' },
  ];
  assert.deepEqual(ortBackend.placeOptimizer(params, adamw), ['host', 'graph', 'host']);
  assert.deepEqual(ortBackend.placeOptimizer(params, { kind: 'sgd', weightDecay: 0 }), ['graph', 'graph', 'graph']);
  // Beyond the wasm32 budget, in order: the first that no longer fits and what follows it stay in the graph.
  // 2 GiB each with the gradient (p, m, v, g): one fits HOST_ADAMW_MAX_BYTES, two do not.
  assert.ok(2 ** 31 < HOST_ADAMW_MAX_BYTES && 2 ** 32 > HOST_ADAMW_MAX_BYTES);
  const big: HostParam[] = [
    { name: 'a', dims: [2 ** 25, 4], kind: 'dense' },
    { name: 'b', dims: [2 ** 25, 4], kind: 'dense' },
    { name: 'c', dims: [4], kind: 'dense' },
  ];
  assert.deepEqual(ortBackend.placeOptimizer(big, adamw), ['host', 'graph', 'host']);
});
