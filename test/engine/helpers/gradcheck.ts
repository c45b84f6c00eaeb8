import { buildGradients } from '../../../src/engine/graph/autodiff.js';
import { GraphBuilder } from '../../../src/engine/graph/builder.js';
import { Graph } from '../../../src/engine/graph/graph.js';
import { encodeModel } from '../../../src/engine/graph/onnx-codec.js';
import {
  type DType,
  numel,
  type TensorData,
  tensorNumbers,
  tensorOf,
  type Value,
} from '../../../src/engine/graph/types.js';
import { createSession, type Session } from '../../../src/engine/runtime.js';
import { normal, rng } from './random.js';

/** How a gradient-check input is drawn. Float kinds are differentiated unless `grad: false`. */
export interface InputSpec {
  shape: number[];
  kind?: 'normal' | 'positive' | 'away-from-zero' | 'index' | 'bool';
  /** Exclusive upper bound for 'index'. */
  max?: number;
  grad?: boolean;
  /** Fixed values instead of random ones. */
  values?: number[];
}

export interface GradCase {
  /** The registry op this case checks; the forward graph must contain it. */
  op: string;
  name: string;
  inputs: InputSpec[];
  build: (g: GraphBuilder, xs: Value[]) => Value;
  dtype?: DType;
  /** Central-difference step and tolerances (defaults suit float64). */
  h?: number;
  tol?: number;
  /** Ops with run-to-run state (Dropout's generator) need a fresh session per evaluation. */
  freshSession?: boolean;
}

const isFloatSpec = (s: InputSpec) => s.kind !== 'index' && s.kind !== 'bool';

function draw(spec: InputSpec, rand: () => number): number[] {
  if (spec.values) return spec.values;
  const n = numel(spec.shape);
  return Array.from({ length: n }, () => {
    switch (spec.kind ?? 'normal') {
      case 'index':
        return Math.floor(rand() * (spec.max ?? 2));
      case 'bool':
        return rand() < 0.5 ? 1 : 0;
      case 'positive':
        return 0.5 + 1.5 * rand();
      case 'away-from-zero':
        return (rand() < 0.5 ? -1 : 1) * (0.2 + rand());
      default:
        return normal(rand);
    }
  });
}

interface Built {
  bytes: Uint8Array;
  gradNames: Map<number, string>;
  lossName: string;
  forwardOps: Set<string>;
}

/** Forward graph, then loss = sum(float64(y) * R) with fixed random R, then (optionally) gradients. */
function buildCheckGraph(c: GradCase, withGrads: boolean, weights: number[]): Built {
  const dtype = c.dtype ?? 'float64';
  const g = new GraphBuilder(new Graph(c.name), dtype);
  const xs = c.inputs.map((spec, i) => {
    const d: DType = spec.kind === 'index' ? 'int64' : spec.kind === 'bool' ? 'bool' : dtype;
    return g.input(`x${i}`, d, spec.shape);
  });
  const y = c.build(g, xs);
  const forwardOps = new Set(g.graph.nodes.map((n) => n.opType));
  const shape = y.shape as number[];
  const loss = g.reduceSum(g.mul(g.cast(y, 'float64'), g.constant(weights, shape, 'float64')), undefined, false);
  g.output(loss);
  const gradNames = new Map<number, string>();
  if (withGrads) {
    const wrt = xs.filter((_, i) => isFloatSpec(c.inputs[i] as InputSpec) && c.inputs[i]?.grad !== false);
    const grads = buildGradients(g, loss, wrt);
    xs.forEach((x, i) => {
      const grad = grads.get(x.name);
      if (grad) {
        gradNames.set(i, grad.name);
        g.output(grad);
      }
    });
  }
  return { bytes: encodeModel(g.graph), gradNames, lossName: loss.name, forwardOps };
}

export interface CheckReport {
  maxError: number;
  checked: number;
  forwardOps: Set<string>;
}

/** Compares autodiff gradients with central differences; throws with the seed on a mismatch. */
export async function gradCheck(c: GradCase, seed: number): Promise<CheckReport> {
  const rand = rng(seed);
  const dtype = c.dtype ?? 'float64';
  const inputs: TensorData[] = c.inputs.map((spec) =>
    tensorOf(spec.kind === 'index' ? 'int64' : spec.kind === 'bool' ? 'bool' : dtype, spec.shape, draw(spec, rand)),
  );
  const outShape = outputShape(c);
  const weights = Array.from({ length: numel(outShape) }, () => 2 * rand() - 1);
  const full = buildCheckGraph(c, true, weights);
  const fwd = buildCheckGraph(c, false, weights);
  const h = c.h ?? 1e-6;
  const tol = c.tol ?? 1e-5;
  const feeds = (xs: TensorData[]) => Object.fromEntries(xs.map((t, i) => [`x${i}`, t]));

  let fwdSession: Session | undefined;
  const evalLoss = async (xs: TensorData[]): Promise<number> => {
    const session =
      c.freshSession || !fwdSession ? await createSession(fwd.bytes, { device: 'cpu', threads: 1 }) : fwdSession;
    const out = await session.run(feeds(xs));
    if (c.freshSession) await session.dispose();
    else fwdSession = session;
    return tensorNumbers(out[fwd.lossName] as TensorData)[0] as number;
  };

  const fullSession = await createSession(full.bytes, { device: 'cpu', threads: 1 });
  const analytic = await fullSession.run(feeds(inputs));
  await fullSession.dispose();

  let maxError = 0;
  let checked = 0;
  try {
    for (const [i, gradName] of full.gradNames) {
      const grad = tensorNumbers(analytic[gradName] as TensorData);
      const base = inputs[i] as TensorData;
      for (let j = 0; j < numel(base.dims); j++) {
        const perturbed = (delta: number) => {
          const data = base.data.slice() as Float64Array;
          data[j] = (data[j] as number) + delta;
          return inputs.map((t, k) => (k === i ? { ...base, data } : t));
        };
        const numeric = ((await evalLoss(perturbed(h))) - (await evalLoss(perturbed(-h)))) / (2 * h);
        const got = grad[j] as number;
        const err = Math.abs(got - numeric) / Math.max(1, Math.abs(numeric));
        maxError = Math.max(maxError, err);
        checked++;
        if (!(err <= tol)) {
          throw new Error(
            `${c.name}: d loss / d x${i}[${j}] autodiff ${got} vs numeric ${numeric} (error ${err.toExponential(2)} > ${tol}); seed ${seed} (replay with FINETUNE_TEST_SEED=${seed})`,
          );
        }
      }
    }
  } finally {
    await fwdSession?.dispose();
  }
  return { maxError, checked, forwardOps: full.forwardOps };
}

function outputShape(c: GradCase): number[] {
  const g = new GraphBuilder(new Graph('shape'), c.dtype ?? 'float64');
  const xs = c.inputs.map((spec, i) =>
    g.input(
      `x${i}`,
      spec.kind === 'index' ? 'int64' : spec.kind === 'bool' ? 'bool' : (c.dtype ?? 'float64'),
      spec.shape,
    ),
  );
  const shape = c.build(g, xs).shape;
  if (!shape || shape.some((d) => typeof d !== 'number')) throw new Error(`${c.name}: output shape must be static`);
  return shape as number[];
}
