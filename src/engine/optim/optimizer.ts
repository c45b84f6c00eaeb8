import type { GraphBuilder } from '../graph/builder.js';
import type { Value } from '../graph/types.js';

/**
 * Optimizers as graph: the update of every trained parameter and its state is part of the ONNX
 * step graph, so one `session.run` is one optimizer step. Formulas follow PyTorch's
 * `torch.optim.AdamW` and `torch.optim.SGD` (single-tensor path) exactly.
 */
export interface OptimizerConfig {
  kind: 'adamw' | 'sgd';
  /** AdamW: decoupled decay. SGD: L2 added to the gradient, as torch.optim.SGD does. */
  weightDecay: number;
  beta1?: number; // AdamW, default 0.9
  beta2?: number; // AdamW, default 0.999
  eps?: number; // AdamW, default 1e-8
  momentum?: number; // SGD, default 0 (plain SGD)
  /** Parameters matching any of these get no weight decay (default: biases and LayerNorm weights). */
  noDecay?: readonly RegExp[];
}

/**
 * Hugging Face Trainer's default: no decay for biases (any name containing `bias`, as its pattern, so
 * XLNet's r_w_bias too) and for the weights of normalisation layers,
 * found by name as transformers' get_decay_parameter_names does: any parameter whose name contains
 * `norm` (LayerNorm, Llama's input_layernorm / model.norm RMSNorms, Qwen3's q_norm) or a GPT-2
 * `ln_` module. Every other weight, matrices and embedding tables alike, decays.
 */
export const DEFAULT_NO_DECAY: readonly RegExp[] = [/bias/, /norm|(^|\.)ln_/i];

/**
 * A gradient that is zero outside a few rows of its parameter (an embedding table's): the distinct
 * row ids and each one's summed gradient row. AdamW then touches the table densely only where
 * exact AdamW must (every row's moments decay and every row moves), and the dense gradient, its
 * square and its clipped copy are never built (see `rowSparseGradient`).
 */
export interface RowSparseGrad {
  kind: 'rows';
  rows: Value; // int64 [U], distinct
  values: Value; // [U, ...rest of the parameter's shape]
}

export type Gradient = Value | RowSparseGrad;

export const isRowSparse = (grad: Gradient): grad is RowSparseGrad => (grad as RowSparseGrad).kind === 'rows';

/** The dense gradient of `param`: zeros with the sparse rows added. */
export function densify(g: GraphBuilder, param: Value, grad: Gradient): Value {
  if (!isRowSparse(grad)) return grad;
  const zeros = g.constantOfShape(g.shape(param), 0, param.dtype);
  return g.scatterNDAdd(zeros, g.unsqueeze(grad.rows, [-1]), grad.values);
}

export interface TrainedParam {
  param: Value;
  /** The gradient, up to the step's common scalar factor (`gradScale` of appendOptimizer). */
  grad: Gradient;
  /** grad × grad elementwise (of the values of a row-sparse one), when already built: see clipGradients. */
  square?: Value;
}

/** Names of AdamW's moments: the state input of parameter P is `P.exp_avg` (as torch's state_dict keys). */
export const ADAMW_MOMENTS = ['exp_avg', 'exp_avg_sq'] as const;
export const stateName = (param: string, moment: string): string => `${param}.${moment}`;

/** One piece of state carried from step to step: fed as `input`, produced as `output`. */
export interface StateBinding {
  /** The parameter the state belongs to. */
  param: Value;
  input: Value;
  output: Value;
  /** Value the state starts from: 0 for optimizer moments, or the parameter's initial weights. */
  init: 'zeros' | 'param';
}

export const decays = (cfg: OptimizerConfig, name: string): boolean =>
  cfg.weightDecay !== 0 && !(cfg.noDecay ?? DEFAULT_NO_DECAY).some((re) => re.test(name));

export const adamwBetas = (cfg: OptimizerConfig) => ({
  b1: cfg.beta1 ?? 0.9,
  b2: cfg.beta2 ?? 0.999,
  eps: cfg.eps ?? 1e-8,
});

/**
 * AdamW's per-step scalars. torch: denom = sqrt(v) / sqrt(1 - b2^t) + eps, p -= lr / (1 - b1^t) · m / denom.
 * Multiplying through by sqrt(1 - b2^t) moves both corrections onto scalars:
 * p -= (lr · sqrt(1 - b2^t) / (1 - b1^t)) · m / (sqrt(v) + eps · sqrt(1 - b2^t)), one pass fewer.
 * `gradScale` (see appendOptimizer) goes into the factors of g and g².
 */
export function adamwStepScalars(g: GraphBuilder, cfg: OptimizerConfig, lr: Value, step: Value, gradScale?: Value) {
  const { b1, b2, eps } = adamwBetas(cfg);
  return g.scope('adamw', () => {
    const bc2Sqrt = g.sqrt(g.sub(1, g.pow(g.scalar(b2), step)));
    return {
      scaledEps: g.mul(bc2Sqrt, eps),
      stepSize: g.div(g.mul(lr, bc2Sqrt), g.sub(1, g.pow(g.scalar(b1), step))),
      gradCoef: gradScale ? g.mul(gradScale, 1 - b1) : g.scalar(1 - b1),
      squareCoef: gradScale ? g.mul(g.mul(gradScale, gradScale), 1 - b2) : g.scalar(1 - b2),
      decayFactor: g.sub(1, g.mul(lr, cfg.weightDecay)),
    };
  });
}

/**
 * Appends the update of every parameter. `lr` is a scalar input; `step` is the float scalar count of
 * optimizer steps including this one (1 on the first update), for AdamW's bias correction. The true
 * gradient of each parameter is `gradScale` × its `grad` (the clip coefficient and 1/accumulation
 * steps): the scalar is folded into AdamW's scalar factors, so no pass scales whole gradients.
 */
export function appendOptimizer(
  g: GraphBuilder,
  params: readonly TrainedParam[],
  cfg: OptimizerConfig,
  lr: Value,
  step: Value,
  gradScale?: Value,
): StateBinding[] {
  const bindings: StateBinding[] = [];
  const state = (param: Value, suffix: string): Value =>
    g.input(stateName(param.name, suffix), param.dtype, param.shape ?? []);
  if (cfg.kind === 'adamw') {
    const { b1, b2 } = adamwBetas(cfg);
    const { gradCoef, squareCoef, stepSize, scaledEps, decayFactor } = adamwStepScalars(g, cfg, lr, step, gradScale);
    for (const { param, grad, square } of params) {
      g.scope(`adamw/${param.name}`, () => {
        const [m, v] = ADAMW_MOMENTS.map((moment) => state(param, moment)) as [Value, Value];
        const decayed = decays(cfg, param.name) ? g.mul(param, decayFactor) : param;
        const x = isRowSparse(grad) ? grad.values : grad;
        const x2 = square ?? g.mul(x, x);
        // Row-sparse: rows without gradient get m·b1 (+0 in the dense formula), the others the
        // same two products and one sum as the dense formula, so the moments are bit-identical.
        const moment = (state: Value, beta: number, term: Value): Value => {
          if (!isRowSparse(grad)) return g.add(g.mul(state, beta), term);
          return g.scatterNDAdd(g.mul(state, beta), g.unsqueeze(grad.rows, [-1]), term);
        };
        const m2 = moment(m, b1, g.mul(x, gradCoef));
        const v2 = moment(v, b2, g.mul(x2, squareCoef));
        const next = g.sub(decayed, g.mul(g.div(m2, g.add(g.sqrt(v2), scaledEps)), stepSize));
        bindings.push({ param, input: param, output: next, init: 'param' });
        bindings.push({ param, input: m, output: m2, init: 'zeros' }, { param, input: v, output: v2, init: 'zeros' });
      });
    }
    return bindings;
  }
  const momentum = cfg.momentum ?? 0;
  for (const { param, grad: gradient } of params) {
    g.scope(`sgd/${param.name}`, () => {
      const dense = densify(g, param, gradient);
      const grad = gradScale ? g.mul(dense, gradScale) : dense;
      const d = decays(cfg, param.name) ? g.add(grad, g.mul(param, cfg.weightDecay)) : grad;
      let direction = d;
      if (momentum !== 0) {
        // torch starts the buffer at the first gradient; from zeros, buf = m*0 + g gives the same.
        const buf = state(param, 'momentum_buffer');
        direction = g.add(g.mul(buf, momentum), d);
        bindings.push({ param, input: buf, output: direction, init: 'zeros' });
      }
      bindings.unshift({ param, input: param, output: g.sub(param, g.mul(lr, direction)), init: 'param' });
    });
  }
  return bindings;
}

/**
 * Global-norm clipping as torch.nn.utils.clip_grad_norm_: the gradients are to be scaled by
 * min(1, max_norm / (norm + 1e-6)). The gradients are left as they are and the coefficient comes
 * back as `scale`, for appendOptimizer to fold into its scalars; `preScale` is a constant factor the
 * gradients still carry (1 / accumulation steps for summed micro-batch gradients), applied to the
 * norm and included in `scale`. Also returns each gradient's elementwise square, which AdamW reuses.
 */
export function clipGradients(
  g: GraphBuilder,
  grads: readonly Gradient[],
  maxNorm: number | undefined,
  preScale = 1,
): { squares: Value[]; norm: Value; scale?: Value } {
  return g.scope('clip', () => {
    const squares = grads.map((gr) => {
      const x = isRowSparse(gr) ? gr.values : gr; // the other rows add zeros
      return g.mul(x, x);
    });
    const sums = squares.map((x2) => g.reduceSum(x2, undefined, false));
    const total = sums.length === 1 ? (sums[0] as Value) : (g.op('Sum', sums)[0] as Value);
    const norm = preScale === 1 ? g.sqrt(total) : g.mul(g.sqrt(total), preScale);
    if (maxNorm === undefined || maxNorm <= 0)
      return { squares, norm, ...(preScale === 1 ? {} : { scale: g.scalar(preScale) }) };
    const coef = g.min(g.div(maxNorm, g.add(norm, 1e-6)), 1);
    return { squares, norm, scale: preScale === 1 ? coef : g.mul(coef, preScale) };
  });
}
