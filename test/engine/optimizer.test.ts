import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildGradients } from '../../src/engine/graph/autodiff.js';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { Graph } from '../../src/engine/graph/graph.js';
import { encodeModel } from '../../src/engine/graph/onnx-codec.js';
import { type TensorData, tensorNumbers, tensorOf, type Value } from '../../src/engine/graph/types.js';
import {
  appendOptimizer,
  clipGradients,
  DEFAULT_NO_DECAY,
  decays,
  type OptimizerConfig,
  type StateBinding,
} from '../../src/engine/optim/optimizer.js';
import { learningRate, warmupStepsOf } from '../../src/engine/optim/schedule.js';
import { createSession, type Session } from '../../src/engine/runtime.js';
import { rng, testSeed } from './helpers/random.js';

// ------------------------------------------------------------------ the model
//
// A tiny dense layer followed by a per-feature scale (a LayerNorm-like weight):
//   h = x @ W + b        x [N,K] fixed, W [K,F], b [F]
//   z = h * s            s [F]
//   t = tanh(z)
//   loss = mean(t * t)   over all N*F elements
// Its gradient is written out by hand below; nothing here uses the engine's autodiff.

const N = 5;
const K = 3;
const F = 4;
const W_NAME = 'dense.weight';
const B_NAME = 'dense.bias';
const S_NAME = 'norm.weight';

/** Rounds to float32, as the values the graph actually sees. */
const f32 = (xs: readonly number[]): number[] => Array.from(Float32Array.from(xs));

interface Params {
  [W_NAME]: number[];
  [B_NAME]: number[];
  [S_NAME]: number[];
}
const PARAM_NAMES = [W_NAME, B_NAME, S_NAME] as const;
const PARAM_DIMS: Record<keyof Params, number[]> = { [W_NAME]: [K, F], [B_NAME]: [F], [S_NAME]: [F] };

function randomSetup(seed: number): { x: number[]; params: Params; rand: () => number } {
  const rand = rng(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const draw = (n: number, f: () => number) => f32(Array.from({ length: n }, f));
  const x = draw(N * K, normal);
  const params: Params = {
    [W_NAME]: draw(K * F, () => 0.5 * normal()),
    [B_NAME]: draw(F, () => 0.2 * normal()),
    [S_NAME]: draw(F, () => 1 + 0.2 * normal()),
  };
  return { x, params, rand };
}

/** Loss and its analytic gradient in float64, by explicit loops. */
function lossAndGrad(x: readonly number[], p: Params): { loss: number; grads: Params } {
  const W = p[W_NAME];
  const b = p[B_NAME];
  const s = p[S_NAME];
  const h = new Array<number>(N * F).fill(0);
  const t = new Array<number>(N * F).fill(0);
  let loss = 0;
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < F; j++) {
      let acc = b[j] as number;
      for (let k = 0; k < K; k++) acc += (x[i * K + k] as number) * (W[k * F + j] as number);
      h[i * F + j] = acc;
      const tij = Math.tanh(acc * (s[j] as number));
      t[i * F + j] = tij;
      loss += tij * tij;
    }
  }
  loss /= N * F;
  const gW = new Array<number>(K * F).fill(0);
  const gb = new Array<number>(F).fill(0);
  const gs = new Array<number>(F).fill(0);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < F; j++) {
      const tij = t[i * F + j] as number;
      // d(t^2)/dz = 2 t (1 - t^2), scaled by the mean's 1/(N*F).
      const dz = (2 * tij * (1 - tij * tij)) / (N * F);
      gs[j] = (gs[j] as number) + dz * (h[i * F + j] as number);
      const dh = dz * (s[j] as number);
      gb[j] = (gb[j] as number) + dh;
      for (let k = 0; k < K; k++) gW[k * F + j] = (gW[k * F + j] as number) + (x[i * K + k] as number) * dh;
    }
  }
  return { loss, grads: { [W_NAME]: gW, [B_NAME]: gb, [S_NAME]: gs } };
}

/** The same model as graph: parameters are graph inputs, x is an initializer. */
function buildLoss(g: GraphBuilder, x: readonly number[]): { params: Value[]; loss: Value } {
  const W = g.input(W_NAME, 'float32', [K, F]);
  const b = g.input(B_NAME, 'float32', [F]);
  const s = g.input(S_NAME, 'float32', [F]);
  const xv = g.constant(x, [N, K]);
  const t = g.tanh(g.mul(g.add(g.matmul(xv, W), b), s));
  const loss = g.reduceMean(g.mul(t, t), undefined, false);
  return { params: [W, b, s], loss };
}

const numbers = (out: Record<string, TensorData>, name: string): number[] => {
  const t = out[name];
  assert.ok(t, `output '${name}' missing`);
  return tensorNumbers(t);
};

const maxAbsDiff = (a: readonly number[], b: readonly number[]): number => {
  assert.equal(a.length, b.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - (b[i] as number))), 0);
};

/**
 * Max abs difference relative to the tensor's largest reference magnitude. Per-element relative
 * error is meaningless for optimizer moments: exp_avg = b1*m + (1-b1)*g can cancel to near zero,
 * and a tiny gradient element carries the float32 rounding of the sums it came from.
 */
const maxScaledDiff = (got: readonly number[], want: readonly number[]): number => {
  const scale = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  return maxAbsDiff(got, want) / scale;
};

const bindingFor = (bindings: readonly StateBinding[], inputName: string): StateBinding => {
  const b = bindings.find((x) => x.input.name === inputName);
  assert.ok(b, `no state binding for '${inputName}'`);
  return b;
};

// ------------------------------------------------------------------ AdamW

/** torch.optim.AdamW's single-tensor step, in float64. */
function adamwReference(
  p: readonly number[],
  grad: readonly number[],
  m: readonly number[],
  v: readonly number[],
  o: { lr: number; weightDecay: number; step: number; beta1?: number; beta2?: number; eps?: number },
): { p: number[]; m: number[]; v: number[] } {
  const b1 = o.beta1 ?? 0.9;
  const b2 = o.beta2 ?? 0.999;
  const eps = o.eps ?? 1e-8;
  const bc1 = 1 - b1 ** o.step;
  const bc2Sqrt = Math.sqrt(1 - b2 ** o.step);
  const stepSize = o.lr / bc1;
  const out = { p: [] as number[], m: [] as number[], v: [] as number[] };
  for (let i = 0; i < p.length; i++) {
    const gi = grad[i] as number;
    const decayed = (p[i] as number) * (1 - o.lr * o.weightDecay);
    const mi = b1 * (m[i] as number) + (1 - b1) * gi;
    const vi = b2 * (v[i] as number) + (1 - b2) * gi * gi;
    const denom = Math.sqrt(vi) / bc2Sqrt + eps;
    out.p.push(decayed - stepSize * (mi / denom));
    out.m.push(mi);
    out.v.push(vi);
  }
  return out;
}

test('one AdamW step with two parameter groups, clipping and warmup equals a hand-computed reference to 1e-6', async () => {
  const seed = testSeed();
  const ctx = `seed ${seed} (replay with FINETUNE_TEST_SEED=${seed})`;
  const { x, params, rand } = randomSetup(seed);
  const MAX_NORM = 0.02;
  const WD = 0.1;
  const cfg: OptimizerConfig = { kind: 'adamw', weightDecay: WD };

  // Second update of a 10-step linear schedule with warmup_ratio 0.25: warmup ceil(2.5) = 3 steps,
  // so the update with 0-based index 1 uses 1/3 of the base rate; `step` counts updates so far
  // including this one (2), so bias correction uses t = 2.
  const sched = { scheduler: 'linear' as const, baseLr: 1e-2, totalSteps: 10, warmupRatio: 0.25 };
  assert.equal(warmupStepsOf(sched), 3);
  const lr = learningRate(sched, 1);
  assert.ok(Math.abs(lr - 1e-2 / 3) < 1e-15, `lr ${lr}`);
  const STEP = 2;

  // Parameter groups: the dense weight decays, the bias and the norm weight do not.
  assert.equal(decays(cfg, W_NAME), true);
  assert.equal(decays(cfg, B_NAME), false);
  assert.equal(decays(cfg, S_NAME), false);

  // State as if one step had already happened, from some earlier gradient gp: m = 0.1 gp, v = 0.001 gp^2.
  const m0: Params = { [W_NAME]: [], [B_NAME]: [], [S_NAME]: [] };
  const v0: Params = { [W_NAME]: [], [B_NAME]: [], [S_NAME]: [] };
  for (const name of PARAM_NAMES) {
    const gp = Array.from({ length: params[name].length }, () => 0.05 * (2 * rand() - 1));
    m0[name] = f32(gp.map((v) => 0.1 * v));
    v0[name] = f32(gp.map((v) => 0.001 * v * v + 1e-9));
  }

  // ---- the graph
  const g = new GraphBuilder(new Graph('adamw-step'));
  const { params: pv, loss } = buildLoss(g, x);
  const grads = buildGradients(g, loss, pv);
  const rawGrads = pv.map((p) => grads.get(p.name) as Value);
  const clipped = clipGradients(g, rawGrads, MAX_NORM);
  const lrIn = g.input('lr', 'float32', []);
  const stepIn = g.input('step', 'float32', []);
  const bindings = appendOptimizer(
    g,
    pv.map((param, i) => ({ param, grad: rawGrads[i] as Value })),
    cfg,
    lrIn,
    stepIn,
    clipped.scale,
  );
  assert.equal(bindings.length, 9, 'param, exp_avg and exp_avg_sq for each of three parameters');
  g.output(loss);
  g.output(clipped.norm);
  for (const gr of rawGrads) g.output(gr);
  for (const b of bindings) g.output(b.output);

  const feeds: Record<string, TensorData> = {
    lr: tensorOf('float32', [], [lr]),
    step: tensorOf('float32', [], [STEP]),
  };
  for (const name of PARAM_NAMES) {
    const dims = PARAM_DIMS[name];
    feeds[name] = tensorOf('float32', dims, params[name]);
    feeds[`${name}.exp_avg`] = tensorOf('float32', dims, m0[name]);
    feeds[`${name}.exp_avg_sq`] = tensorOf('float32', dims, v0[name]);
  }
  const session = await createSession(encodeModel(g.graph), { device: 'cpu', threads: 1 });
  const out = await session.run(feeds);
  await session.dispose();

  // ---- the reference, float64 from the float32 inputs
  const ref = lossAndGrad(x, params);
  let sumSq = 0;
  for (const name of PARAM_NAMES) for (const v of ref.grads[name]) sumSq += v * v;
  const refNorm = Math.sqrt(sumSq);
  const coef = Math.min(1, MAX_NORM / (refNorm + 1e-6));

  const lossGot = numbers(out, loss.name)[0] as number;
  const normGot = numbers(out, clipped.norm.name)[0] as number;
  assert.ok(Math.abs(lossGot - ref.loss) <= 1e-6 * Math.max(1, ref.loss), `loss ${lossGot} vs ${ref.loss}; ${ctx}`);
  assert.ok(Math.abs(normGot - refNorm) <= 1e-6 * refNorm, `norm ${normGot} vs ${refNorm}; ${ctx}`);
  assert.ok(normGot > MAX_NORM, `pre-clip norm ${normGot} must exceed max_norm ${MAX_NORM} so clipping happens`);
  assert.ok(coef < 0.5, `clip coefficient ${coef} should scale the gradients down markedly`);

  const report: string[] = [`seed ${seed}`, `norm ${normGot} (ref ${refNorm}), clip coef ${coef}`];
  PARAM_NAMES.forEach((name, i) => {
    const gotGrad = numbers(out, (rawGrads[i] as Value).name);
    const gradErr = maxAbsDiff(gotGrad, ref.grads[name]);
    assert.ok(gradErr <= 1e-6, `${name}: gradient max abs diff ${gradErr}; ${ctx}`);

    const clippedGrad = ref.grads[name].map((v) => v * coef);
    const wd = decays(cfg, name) ? WD : 0;
    const want = adamwReference(params[name], clippedGrad, m0[name], v0[name], { lr, weightDecay: wd, step: STEP });
    const gotP = numbers(out, bindingFor(bindings, name).output.name);
    const gotM = numbers(out, bindingFor(bindings, `${name}.exp_avg`).output.name);
    const gotV = numbers(out, bindingFor(bindings, `${name}.exp_avg_sq`).output.name);
    const pErr = maxAbsDiff(gotP, want.p);
    const mErr = maxScaledDiff(gotM, want.m);
    const vErr = maxScaledDiff(gotV, want.v);
    report.push(`${name}: grad abs ${gradErr.toExponential(2)}, param abs ${pErr.toExponential(2)}, `);
    report[report.length - 1] += `exp_avg scaled ${mErr.toExponential(2)}, exp_avg_sq scaled ${vErr.toExponential(2)}`;
    assert.ok(pErr <= 1e-6, `${name}: new parameter max abs diff ${pErr}; ${ctx}`);
    assert.ok(mErr <= 1e-6, `${name}: exp_avg max abs diff / max |exp_avg| ${mErr}; ${ctx}`);
    assert.ok(vErr <= 1e-6, `${name}: exp_avg_sq max abs diff / max |exp_avg_sq| ${vErr}; ${ctx}`);

    // The check can tell the groups apart: the other group's formula lands well outside tolerance.
    const other = adamwReference(params[name], clippedGrad, m0[name], v0[name], {
      lr,
      weightDecay: WD - wd,
      step: STEP,
    });
    assert.ok(maxAbsDiff(gotP, other.p) > 1e-5, `${name}: decay group not distinguishable; ${ctx}`);
    // ...and so can it tell clipped from unclipped gradients.
    const unclipped = adamwReference(params[name], ref.grads[name], m0[name], v0[name], {
      lr,
      weightDecay: wd,
      step: STEP,
    });
    assert.ok(maxAbsDiff(gotP, unclipped.p) > 1e-5, `${name}: clipping not distinguishable; ${ctx}`);
  });
  if (process.env.FINETUNE_TEST_VERBOSE) console.log(report.join('\n'));
});

// ------------------------------------------------------------------ SGD

/** torch.optim.SGD (dampening 0, no Nesterov): L2 decay in the gradient, buffer = first d_p. */
function sgdReference(
  p: readonly number[],
  grad: readonly number[],
  buf: readonly number[] | undefined,
  o: { lr: number; weightDecay: number; momentum: number },
): { p: number[]; buf: number[] } {
  const d = grad.map((gi, i) => gi + o.weightDecay * (p[i] as number));
  const nextBuf = buf ? buf.map((b, i) => o.momentum * b + (d[i] as number)) : d;
  return { p: p.map((pi, i) => pi - o.lr * (nextBuf[i] as number)), buf: nextBuf };
}

test('SGD with momentum 0.9 and weight decay: two consecutive steps equal torch.optim.SGD', async () => {
  const seed = testSeed();
  const ctx = `seed ${seed} (replay with FINETUNE_TEST_SEED=${seed})`;
  const { x, params } = randomSetup(seed);
  const WD = 0.05;
  const LR = 0.5;
  const cfg: OptimizerConfig = { kind: 'sgd', weightDecay: WD, momentum: 0.9 };

  const g = new GraphBuilder(new Graph('sgd-step'));
  const { params: pv, loss } = buildLoss(g, x);
  const grads = buildGradients(g, loss, pv);
  const lrIn = g.input('lr', 'float32', []);
  const stepIn = g.input('step', 'float32', []);
  const bindings = appendOptimizer(
    g,
    pv.map((param) => ({ param, grad: grads.get(param.name) as Value })),
    cfg,
    lrIn,
    stepIn,
  );
  assert.equal(bindings.length, 6, 'param and momentum_buffer for each of three parameters');
  for (const b of bindings) assert.equal(b.init, b.input.name.endsWith('.momentum_buffer') ? 'zeros' : 'param');
  g.output(loss);
  for (const b of bindings) g.output(b.output);

  const session: Session = await createSession(encodeModel(g.graph), { device: 'cpu', threads: 1 });
  // State starts as the bindings say: parameters from their weights, buffers from zeros.
  const state: Record<string, TensorData> = {};
  for (const b of bindings) {
    const base = b.input.name.replace(/\.momentum_buffer$/, '') as keyof Params;
    const values = b.init === 'param' ? params[base] : params[base].map(() => 0);
    state[b.input.name] = tensorOf('float32', PARAM_DIMS[base], values);
  }

  let refParams: Params = { ...params };
  let refBufs: Partial<Params> = {};
  try {
    for (let step = 1; step <= 2; step++) {
      const out = await session.run({
        ...state,
        lr: tensorOf('float32', [], [LR]),
        step: tensorOf('float32', [], [step]),
      });
      const ref = lossAndGrad(x, refParams);
      const lossGot = numbers(out, loss.name)[0] as number;
      assert.ok(Math.abs(lossGot - ref.loss) <= 1e-6, `step ${step}: loss ${lossGot} vs ${ref.loss}; ${ctx}`);
      const nextParams = { ...refParams };
      const nextBufs: Partial<Params> = {};
      for (const name of PARAM_NAMES) {
        const wd = decays(cfg, name) ? WD : 0;
        const want = sgdReference(refParams[name], ref.grads[name], refBufs[name], {
          lr: LR,
          weightDecay: wd,
          momentum: 0.9,
        });
        const gotP = numbers(out, bindingFor(bindings, name).output.name);
        const gotB = numbers(out, bindingFor(bindings, `${name}.momentum_buffer`).output.name);
        const pErr = maxAbsDiff(gotP, want.p);
        const bErr = maxAbsDiff(gotB, want.buf);
        if (process.env.FINETUNE_TEST_VERBOSE) {
          console.log(`sgd step ${step} ${name}: param abs ${pErr.toExponential(2)}, buf abs ${bErr.toExponential(2)}`);
        }
        assert.ok(pErr <= 1e-6, `step ${step} ${name}: parameter max abs diff ${pErr}; ${ctx}`);
        assert.ok(bErr <= 1e-6, `step ${step} ${name}: momentum buffer max abs diff ${bErr}; ${ctx}`);
        // The reference follows the graph's float32 state, as a training loop does.
        nextParams[name] = gotP;
        nextBufs[name] = gotB;
      }
      // On the second step the buffer carries momentum: compare with what plain SGD would give.
      if (step === 2) {
        const name = W_NAME;
        const plain = sgdReference(refParams[name], ref.grads[name], undefined, {
          lr: LR,
          weightDecay: WD,
          momentum: 0.9,
        });
        assert.ok(maxAbsDiff(numbers(out, bindingFor(bindings, name).output.name), plain.p) > 1e-4);
      }
      for (const b of bindings) state[b.input.name] = out[b.output.name] as TensorData;
      refParams = nextParams;
      refBufs = nextBufs;
    }
  } finally {
    await session.dispose();
  }
});

// ------------------------------------------------------------------ parameter groups

test('parameter groups: decays() follows DEFAULT_NO_DECAY, and custom noDecay patterns override it', () => {
  const cfg: OptimizerConfig = { kind: 'adamw', weightDecay: 0.01 };
  const decayed = [
    'encoder.layer.0.attention.self.query.weight',
    'encoder.layer.11.intermediate.dense.weight',
    'transformer.h.0.attn.c_attn.weight',
    'lm_head.weight',
    'dense.weight',
    // Llama-family decoders: every matrix and the embedding table.
    'model.embed_tokens.weight',
    'model.layers.0.self_attn.q_proj.weight',
    'model.layers.0.mlp.gate_proj.weight',
    'model.layers.0.self_attn.qkv_proj.weight',
  ];
  const notDecayed = [
    'encoder.layer.0.attention.self.query.bias',
    'bias',
    'encoder.layer.0.attention.output.LayerNorm.weight',
    'embeddings.LayerNorm.weight',
    'transformer.h.0.ln_1.weight',
    'transformer.h.0.ln_2.bias',
    'ln_f.weight',
    'model.layers.0.input_layernorm.weight',
    'model.norm.weight',
    'norm.weight',
    'model.layers.0.post_attention_layernorm.weight',
    'model.layers.0.self_attn.q_norm.weight',
    'model.layers.0.self_attn.k_norm.weight',
    'model.layers.0.self_attn.q_proj.bias',
    'encoder.norm.bias',
  ];
  for (const name of decayed) assert.equal(decays(cfg, name), true, name);
  for (const name of notDecayed) assert.equal(decays(cfg, name), false, name);
  assert.equal(cfg.noDecay, undefined, 'the default list applies when noDecay is unset');
  assert.ok(DEFAULT_NO_DECAY.length > 0);

  // No weight decay at all: nothing decays.
  for (const name of decayed) assert.equal(decays({ ...cfg, weightDecay: 0 }, name), false, name);

  // A custom list replaces the default entirely.
  const custom: OptimizerConfig = { ...cfg, noDecay: [/query\.weight$/] };
  assert.equal(decays(custom, 'encoder.layer.0.attention.self.query.weight'), false);
  assert.equal(decays(custom, 'encoder.layer.0.attention.self.key.weight'), true);
  assert.equal(decays(custom, 'encoder.layer.0.attention.self.query.bias'), true);
  assert.equal(decays(custom, 'encoder.layer.0.attention.output.LayerNorm.weight'), true);
  assert.equal(decays(custom, 'ln_f.weight'), true);
  // An empty list decays everything.
  for (const name of [...decayed, ...notDecayed]) assert.equal(decays({ ...cfg, noDecay: [] }, name), true, name);
});

// ------------------------------------------------------------------ determinism

/** A full training step whose loss goes through Dropout(seed 42): loss, grads, clipping, AdamW. */
function dropoutStepModel(x: readonly number[]) {
  const g = new GraphBuilder(new Graph('dropout-step'));
  const W = g.input(W_NAME, 'float32', [K, F]);
  const xv = g.constant(x, [N, K]);
  const { y, mask } = g.dropout(g.tanh(g.matmul(xv, W)), 0.5, 42);
  const loss = g.reduceMean(g.mul(y, y), undefined, false);
  const grads = buildGradients(g, loss, [W]);
  const clipped = clipGradients(g, [grads.get(W_NAME) as Value], 1);
  const bindings = appendOptimizer(
    g,
    [{ param: W, grad: grads.get(W_NAME) as Value, square: clipped.squares[0] as Value }],
    { kind: 'adamw', weightDecay: 0.01 },
    g.input('lr', 'float32', []),
    g.input('step', 'float32', []),
    clipped.scale,
  );
  g.output(loss);
  g.output(mask);
  for (const b of bindings) g.output(b.output);
  return { bytes: encodeModel(g.graph), loss, mask, bindings };
}

test('The same training step run twice with the same seed gives bit-identical losses', async () => {
  const seed = testSeed();
  const { x, params } = randomSetup(seed);
  const model = dropoutStepModel(x);

  /** Three consecutive steps in a fresh session, state carried over; returns each step's outputs. */
  const train = async (): Promise<Record<string, TensorData>[]> => {
    const session = await createSession(model.bytes, { device: 'cpu' });
    const state: Record<string, TensorData> = {};
    for (const b of model.bindings) {
      const values = b.init === 'param' ? params[W_NAME] : params[W_NAME].map(() => 0);
      state[b.input.name] = tensorOf('float32', [K, F], values);
    }
    const outs: Record<string, TensorData>[] = [];
    try {
      for (let step = 1; step <= 3; step++) {
        const out = await session.run({
          ...state,
          lr: tensorOf('float32', [], [1e-2]),
          step: tensorOf('float32', [], [step]),
        });
        outs.push(out);
        for (const b of model.bindings) state[b.input.name] = out[b.output.name] as TensorData;
      }
    } finally {
      await session.dispose();
    }
    return outs;
  };

  const a = await train();
  const b = await train();
  const lossesA = a.map((o) => numbers(o, model.loss.name)[0] as number);
  const lossesB = b.map((o) => numbers(o, model.loss.name)[0] as number);

  // Dropout really drops something in the first step, or the test would prove nothing.
  const mask = numbers(a[0] as Record<string, TensorData>, model.mask.name);
  assert.ok(mask.includes(0) && mask.includes(1), `dropout mask ${mask.join('')}; seed ${seed}`);

  // The first step of each fresh session: exactly the same float.
  assert.equal(lossesA[0], lossesB[0], `first-step losses differ; seed ${seed}`);
  // And every later step, with everything the step produced.
  for (let s = 0; s < a.length; s++) {
    assert.equal(lossesA[s], lossesB[s], `step ${s + 1}: losses differ; seed ${seed}`);
    for (const bnd of model.bindings) {
      const name = bnd.output.name;
      assert.deepEqual(
        numbers(a[s] as Record<string, TensorData>, name),
        numbers(b[s] as Record<string, TensorData>, name),
      );
    }
  }
  if (process.env.FINETUNE_TEST_VERBOSE) console.log(`dropout losses: ${lossesA.join(', ')}`);
});
