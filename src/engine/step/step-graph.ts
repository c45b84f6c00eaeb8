import type { Backend } from '../backend.js';
import { buildGradients } from '../graph/autodiff.js';
import { GraphBuilder } from '../graph/builder.js';
import { Graph, pruneToOutputs } from '../graph/graph.js';
import type { Value } from '../graph/types.js';
import type { TrainableModel, Weights } from '../models/model.js';
import type { HostParam } from '../optim/host-adamw.js';
import {
  adamwStepScalars,
  appendOptimizer,
  clipGradients,
  decays,
  type Gradient,
  isRowSparse,
  type OptimizerConfig,
} from '../optim/optimizer.js';
import { rowSparseGradient } from '../optim/sparse-grad.js';

/**
 * The ONNX graphs of one (model, task, method):
 * - train step: batch + trained params + optimizer state + `lr` + `step` -> loss, grad norm,
 *   updated params and state (one session.run is one optimizer step);
 * - accumulate (only with gradient accumulation): batch + params + gradient sums -> loss, new sums;
 *   the train step then takes the sums as an extra input and averages them in;
 * - forward: batch + params -> loss, logits, in eval mode (no dropout), for evaluation;
 * - inference: like forward, without labels or loss, every weight an initializer: the export.
 * Frozen weights are initializers, so they stay inside ONNX Runtime, unless `frozenAsInputs`.
 */
export interface StepGraphOptions {
  model: TrainableModel;
  weights: Weights;
  trainable: ReadonlySet<string>;
  optimizer: OptimizerConfig;
  maxGradNorm?: number;
  gradientAccumulationSteps?: number;
  /**
   * Where each trained parameter's optimizer update runs: the backend's policy (StepRunner passes
   * its backend's). Parameters placed on the host are left to HostAdamW, which is bit-identical to
   * the in-graph update. Omitted: every update in the graph.
   */
  placeOptimizer?: Backend['placeOptimizer'];
  /**
   * Hold the step's in-graph updates back when its loss or gradient norm is NaN or infinite: each
   * updated parameter and state tensor becomes Where(finite, new, old), so a skipped step leaves
   * them as they were (training.on_nonfinite: skip_step). HostAdamW's updates are the runner's to
   * skip, on the same two scalars. Off: no extra nodes, as the default `stop` needs none.
   */
  skipNonFinite?: boolean;
  /**
   * Frozen weights as graph inputs (fed every run) instead of initializers. StepRunner's graphs take
   * them so: ORT reads a CPU input in place, so its train and forward sessions share the caller's one
   * copy, where initializers cost each session its own copy plus MLAS's prepacked one (SmolLM2-135M
   * LoRA: 3.3 GB resident after creating the sessions, 0.76 GB as inputs).
   */
  frozenAsInputs?: boolean;
  /** The forward graph outputs the model's last hidden state too (a distillation teacher's, for hidden_loss). */
  outputHidden?: boolean;
}

/** A piece of state carried between runs: fed under `input`, produced under `output`. */
export interface CarriedState {
  input: string;
  output: string;
  init: 'zeros' | 'param';
  /** The parameter this state belongs to. */
  param: string;
}

/**
 * A parameter updated by HostAdamW after the run: the graph outputs its gradient, as the distinct
 * rows and their gradient rows (`rows`: a table with a row-sparse gradient) or whole (`dense`).
 */
export type HostUpdate = { param: string; decays: boolean } & (
  | { kind: 'rows'; rows: string /* int32 [U], sorted, distinct */; values: string /* [U, ...row] */ }
  | { kind: 'dense'; grad: string }
);

export interface StepGraph {
  graph: Graph;
  loss: string;
  gradNorm?: string;
  logits?: string;
  /** The last hidden state (buildForward with outputHidden). */
  hidden?: string;
  state: CarriedState[];
  host?: HostUpdate[];
  /** float32 [5]: gradCoef, squareCoef, stepSize, scaledEps, decayFactor of this step (adamwStepScalars). */
  hostScalars?: string;
}

const GRAD_SUM = '.grad_sum';

/** The running gradient sum of `p` over earlier micro-batches (an input) plus this batch's gradient. */
const withGradSum = (g: GraphBuilder, p: Value, grad: Value): Value =>
  g.add(g.input(p.name + GRAD_SUM, 'float32', p.shape ?? []), grad);

function newGraph(name: string, opts: StepGraphOptions, mode: 'train' | 'eval' = 'train') {
  const g = new GraphBuilder(new Graph(name));
  const trainOnly = new Set(mode === 'eval' ? (opts.model.trainOnlyInputs ?? []) : []);
  const inputs = Object.fromEntries(
    opts.model.batchInputs
      .filter((b) => !trainOnly.has(b.name))
      .map((b) => [b.name, g.input(b.name, b.dtype, b.shape)]),
  );
  const values = new Map<string, Value>();
  for (const spec of opts.model.params) {
    const tensor = opts.weights.get(spec.name);
    if (!tensor) throw new Error(`model parameter '${spec.name}' has no weights`);
    values.set(
      spec.name,
      opts.trainable.has(spec.name) || opts.frozenAsInputs
        ? g.input(spec.name, 'float32', spec.shape)
        : g.initializer(spec.name, tensor),
    );
  }
  const param = (name: string): Value => {
    const v = values.get(name);
    if (!v) throw new Error(`the model's forward pass reads '${name}', which is not among its parameters`);
    return v;
  };
  return { g, inputs, param, trained: [...values.values()].filter((v) => opts.trainable.has(v.name)) };
}

export function buildTrainStep(opts: StepGraphOptions): StepGraph {
  const { g, inputs, param, trained } = newGraph('train_step', opts);
  const { loss } = opts.model.forward(g, param, inputs, 'train');
  const lr = g.input('lr', 'float32', []);
  const step = g.input('step', 'float32', []);
  const grads = buildGradients(g, loss, trained);
  const k = opts.gradientAccumulationSteps ?? 1;
  const state: CarriedState[] = [];
  // Embedding tables' gradients in row-sparse form: see rowSparseGradient.
  let gradList: Gradient[] = trained.map((p) => rowSparseGradient(g, grads.get(p.name) as Value));
  if (k > 1) {
    // Sums over micro-batches; the mean (as Hugging Face gets by scaling each micro-batch loss by
    // 1/k) comes from the 1/k that clipping folds into the optimizer's scalars.
    gradList = trained.map((p) => withGradSum(g, p, grads.get(p.name) as Value));
  }
  const clipped = clipGradients(g, gradList, opts.maxGradNorm, 1 / k);
  // StepRunner writes every update in place over its input, so an update must run after every node
  // that reads the old value. The loss and the norm need the whole forward and backward pass: this
  // exact 1 makes each update depend on both, also when nothing is clipped (the norm then feeds no
  // update, and ORT could otherwise update a weight before the backward pass has read it).
  const afterAll = g.scope('order', () => {
    const x = g.add(loss, clipped.norm);
    return g.where(g.equal(x, x), 1, 1);
  });
  const scale = clipped.scale ? g.mul(clipped.scale, afterAll) : afterAll;
  const units = trained.map((p, i) => ({
    param: p,
    grad: gradList[i] as Gradient,
    square: clipped.squares[i] as Value,
  }));
  // Updates outside the graph, where the backend places them.
  const hostParams = units.map(
    (u): HostParam => ({ name: u.param.name, dims: staticDims(u.param), kind: isRowSparse(u.grad) ? 'rows' : 'dense' }),
  );
  const onHost = (opts.placeOptimizer?.(hostParams, opts.optimizer) ?? []).map((p) => p === 'host');
  if (onHost.some(Boolean) && opts.optimizer.kind !== 'adamw')
    throw new Error(`the host optimizer is AdamW; '${opts.optimizer.kind}' updates run in the graph`);
  const bindings = appendOptimizer(
    g,
    units.filter((_, i) => !onHost[i]),
    opts.optimizer,
    lr,
    step,
    scale,
  );
  const host: HostUpdate[] = units
    .filter((_, i) => onHost[i])
    .map((u) => {
      const common = { param: u.param.name, decays: decays(opts.optimizer, u.param.name) };
      if (!isRowSparse(u.grad)) return { ...common, kind: 'dense', grad: g.output(u.grad).name };
      return {
        ...common,
        kind: 'rows',
        rows: g.output(g.cast(u.grad.rows, 'int32')).name,
        values: g.output(u.grad.values).name,
      };
    });
  if (opts.skipNonFinite && bindings.length > 0) {
    // x - x is 0 for a finite x and NaN for NaN or ±Inf: one comparison covers both scalars.
    const finite = g.scope('nonfinite', () => g.equal(g.add(g.sub(loss, loss), g.sub(clipped.norm, clipped.norm)), 0));
    for (const b of bindings) b.output = g.where(finite, b.output, b.input);
  }
  let hostScalars: Value | undefined;
  if (host.length) {
    const s = adamwStepScalars(g, opts.optimizer, lr, step, scale);
    const vector = [s.gradCoef, s.squareCoef, s.stepSize, s.scaledEps, s.decayFactor].map((x) => g.reshape(x, [1]));
    hostScalars = g.output(g.concat(vector, 0));
  }
  g.output(loss);
  g.output(clipped.norm);
  for (const b of bindings) {
    g.output(b.output);
    state.push({ input: b.input.name, output: b.output.name, init: b.init, param: b.param.name });
  }
  // Pruned: the dense gradients that row-sparse ones replace are left without consumers.
  return {
    graph: pruneToOutputs(g.graph),
    loss: loss.name,
    gradNorm: clipped.norm.name,
    state,
    ...(host.length ? { host, hostScalars: hostScalars?.name } : {}),
  };
}

/** The static shape of a trained parameter (parameters have no symbolic dims). */
const staticDims = (v: Value): number[] => (v.shape ?? []).map((d) => (typeof d === 'number' ? d : Number.NaN));

/** Micro-step of gradient accumulation: adds this batch's gradients to the running sums. */
export function buildAccumulateStep(opts: StepGraphOptions): StepGraph {
  const { g, inputs, param, trained } = newGraph('accumulate_step', opts);
  const { loss } = opts.model.forward(g, param, inputs, 'train');
  const grads = buildGradients(g, loss, trained);
  g.output(loss);
  const state = trained.map((p): CarriedState => {
    const sum = withGradSum(g, p, grads.get(p.name) as Value);
    g.output(sum);
    return { input: p.name + GRAD_SUM, output: sum.name, init: 'zeros', param: p.name };
  });
  // Pruned: a model whose loss replaces its task's (distillation) leaves the task loss unread.
  return { graph: pruneToOutputs(g.graph), loss: loss.name, state };
}

/** Eval-mode forward with trained params as inputs: loss and logits for evaluation. */
export function buildForward(opts: StepGraphOptions): StepGraph {
  const { g, inputs, param } = newGraph('forward', opts, 'eval');
  const { loss, logits, hidden } = opts.model.forward(g, param, inputs, 'eval');
  g.output(loss);
  g.output(logits);
  if (opts.outputHidden && !hidden) throw new Error('the model has no hidden state to output');
  if (opts.outputHidden && hidden) g.output(hidden);
  return {
    graph: g.graph,
    loss: loss.name,
    logits: logits.name,
    ...(opts.outputHidden && hidden ? { hidden: hidden.name } : {}),
    state: [],
  };
}

/**
 * The exported inference model: every weight baked in, inputs without labels, output `logits` (or
 * the model's named inference outputs: start_logits and end_logits for question answering).
 */
export function buildInference(model: TrainableModel, weights: Weights): Graph {
  const g = new GraphBuilder(new Graph('inference'));
  const inputs: Record<string, Value> = {};
  for (const b of model.batchInputs) {
    if (model.inferenceInputs.includes(b.name)) inputs[b.name] = g.input(b.name, b.dtype, b.shape);
  }
  // Labels are needed by the loss only; a constant stand-in keeps the forward code unchanged and the
  // loss nodes are dropped below because no output depends on them.
  for (const b of model.batchInputs) {
    if (!inputs[b.name]) inputs[b.name] = g.constantOfShape([1], 0, b.dtype);
  }
  const param = (name: string): Value => {
    const existing = g.graph.values.get(name);
    if (existing) return existing;
    const tensor = weights.get(name);
    if (!tensor) throw new Error(`export: no weights for '${name}'`);
    return g.initializer(name, tensor);
  };
  const { logits, inferenceOutputs } = model.forward(g, param, inputs, 'eval');
  for (const [name, value] of Object.entries(inferenceOutputs ?? { logits }))
    g.output(g.op('Identity', [value], {}, { outputNames: [name] })[0] as Value);
  return pruneToOutputs(g.graph);
}
