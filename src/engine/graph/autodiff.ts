import type { GraphBuilder } from './builder.js';
import { dimsEqual } from './dims.js';
import { type GradContext, gradientOf } from './gradients.js';
import { isOpType, VIEW_OPS } from './ops.js';
import { formatShape, isFloat, type Node, type Value } from './types.js';

/**
 * Forward ops whose outputs the backward pass recomputes rather than keeps: one cheap pass over
 * inputs that their own gradient keeps alive anyway (SiLU's x, RMSNorm's x and w). A gradient that
 * reads such an output (the SwiGLU product's, a projection's weight gradient reading its normalised
 * input) gets a copy made in the backward pass, so the forward output is freed once the forward
 * has used it: at SmolLM2-135M's shape that is 4 of each layer's 12 saved [tokens, ·] tensors.
 */
const RECOMPUTED = new Set(['QuickGelu', 'SimplifiedLayerNormalization']);

/**
 * Reverse-mode autodiff over the graph IR. Walks the nodes that lie on a path from a parameter to
 * the loss in reverse order, asks the registry for each node's input gradients, undoes
 * broadcasting (here and only here), and sums gradients where a value feeds several nodes (tied or
 * shared weights). Emits plain ONNX ops into the same graph.
 */
export function buildGradients(g: GraphBuilder, loss: Value, wrt: readonly Value[]): Map<string, Value> {
  const graph = g.graph;
  const requires = forwardReach(g, wrt);
  const reachesLoss = backwardReach(g, loss);
  const pending = new Map<string, Value[]>();
  const push = (name: string, grad: Value) => {
    const list = pending.get(name);
    if (list) list.push(grad);
    else pending.set(name, [grad]);
  };
  const take = (name: string): Value | undefined => {
    const list = pending.get(name);
    if (!list || list.length === 0) return undefined;
    const sum =
      list.length === 1 ? (list[0] as Value) : (g.op('Sum', list, {}, { name: 'grad_accumulate' })[0] as Value);
    pending.set(name, [sum]);
    return sum;
  };

  push(loss.name, g.constantOfShape(g.shape(loss), 1, loss.dtype));
  const recompute = recomputer(g);

  for (let k = graph.nodes.length - 1; k >= 0; k--) {
    const node = graph.nodes[k] as Node;
    const needs = node.inputs.map((name) => name !== '' && requires.has(name) && reachesLoss.has(name));
    if (!needs.some(Boolean)) continue;
    const dys = node.outputs.map((name) => (name === '' ? undefined : take(name)));
    if (dys.every((d) => d === undefined)) continue;
    const builder = gradientOf(node.opType);
    if (builder === undefined || builder === 'not-implemented') {
      throw new Error(
        `autodiff: no gradient registered for op type '${node.opType}' (node '${node.name}'), which lies between a trained parameter and the loss`,
      );
    }
    if (builder === 'not-differentiable') continue;
    const ctx = makeContext(g, node, dys, needs, recompute);
    const grads = g.scope(`grad/${node.name}`, () => builder(ctx));
    node.inputs.forEach((name, i) => {
      if (!needs[i]) return;
      const grad = grads[i];
      if (!grad)
        throw new Error(
          `autodiff: the ${node.opType} gradient gives nothing for input ${i} ('${name}') of node '${node.name}'`,
        );
      const x = graph.value(name);
      push(
        name,
        g.scope(`grad/${node.name}`, () => reduceToShape(g, g.cast(grad, x.dtype), x, node)),
      );
    });
  }

  const result = new Map<string, Value>();
  for (const p of wrt) {
    const grad = take(p.name);
    result.set(p.name, grad ?? g.constantOfShape(g.shape(p), 0, p.dtype));
  }
  return result;
}

/** Values that depend (through float edges) on a parameter: only these get gradients. */
function forwardReach(g: GraphBuilder, wrt: readonly Value[]): Set<string> {
  const set = new Set(wrt.map((v) => v.name));
  for (const node of g.graph.nodes) {
    if (!node.inputs.some((i) => set.has(i))) continue;
    if (gradientOf(node.opType) === 'not-differentiable') continue;
    for (const out of node.outputs) if (out !== '' && isFloat(g.graph.value(out).dtype)) set.add(out);
  }
  return set;
}

/** Values the loss depends on. */
const backwardReach = (g: GraphBuilder, loss: Value): Set<string> => g.graph.ancestors([loss.name]).values;

/**
 * The value a gradient reads for a forward value: a backward-pass copy where the forward value
 * comes from a RECOMPUTED op (or a view of one), the value itself otherwise. One copy per value.
 */
function recomputer(g: GraphBuilder): (v: Value) => Value {
  const graph = g.graph;
  const copies = new Map<string, Value>();
  const copy = (v: Value): Value => {
    const cached = copies.get(v.name);
    if (cached) return cached;
    const p = graph.producer.get(v.name);
    if (!p || !isOpType(p.opType) || p.outputs.length !== 1) return v;
    let inputs = p.inputs.map((name) => (name === '' ? undefined : graph.value(name)));
    // A view of a recomputed output is recomputed too (ORT makes views without copying).
    if (VIEW_OPS.has(p.opType)) {
      const source = inputs[0] as Value;
      const again = copy(source);
      if (again === source) return v;
      inputs = [again, ...inputs.slice(1)];
    } else if (!RECOMPUTED.has(p.opType)) return v;
    const out = g.op(p.opType, inputs, p.attrs, {
      domain: p.domain,
      name: `recompute_${p.opType.toLowerCase()}`,
    })[0] as Value;
    copies.set(v.name, out);
    return out;
  };
  return copy;
}

function makeContext(
  g: GraphBuilder,
  node: Node,
  dys: (Value | undefined)[],
  needs: boolean[],
  recompute: (v: Value) => Value,
): GradContext {
  const graph = g.graph;
  return {
    g,
    node,
    x: (i) => recompute(graph.value(node.inputs[i] as string)),
    y: (i) => graph.value(node.outputs[i] as string),
    dy: (i) => dys[i],
    dyOrZeros: (i) => dys[i] ?? g.constantOfShape(g.shapeOf(graph.value(node.outputs[i] as string)), 0),
    needs: (i) => needs[i] === true,
    hasInput: (i) => (node.inputs[i] ?? '') !== '',
  };
}

/**
 * Undoes numpy broadcasting: sums `grad` over the axes along which `target` was broadcast, then
 * gives it `target`'s shape. The one place broadcasting is handled for every op.
 */
export function reduceToShape(g: GraphBuilder, grad: Value, target: Value, node: Node): Value {
  const gs = grad.shape;
  const ts = target.shape;
  if (!gs || !ts) {
    throw new Error(
      `autodiff: node '${node.name}' (${node.opType}): shapes of '${grad.name}' ${formatShape(gs)} and '${target.name}' ${formatShape(ts)} must be known to undo broadcasting`,
    );
  }
  const lead = gs.length - ts.length;
  if (lead < 0)
    throw new Error(
      `autodiff: node '${node.name}': gradient ${formatShape(gs)} has lower rank than input ${formatShape(ts)}`,
    );
  const leading = Array.from({ length: lead }, (_, i) => i);
  // Axes where the input had size 1 and the output did not. A symbolic dim against a concrete one
  // was trusted equal by broadcasting, so it is not reduced here either.
  const ones = ts.flatMap((d, i) => (d === 1 && !dimsEqual(gs[i + lead] as number, 1) ? [i] : []));
  let out = grad;
  if (leading.length > 0) out = g.reduceSum(out, leading, false);
  if (ones.length > 0) out = g.reduceSum(out, ones, true);
  return out;
}
