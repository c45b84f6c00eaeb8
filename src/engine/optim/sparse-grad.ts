import type { GraphBuilder } from '../graph/builder.js';
import { tensorNumbers, type Value } from '../graph/types.js';
import type { Gradient } from './optimizer.js';

/**
 * The row-sparse form of an embedding's gradient, when `grad` is exactly what the Gather gradient
 * builds: per-id row sums (sumRowsById) placed by ScatterND into zeros of the table's shape. Then
 * the distinct ids and the sums are the gradient, and the placement is never run. `grad` itself
 * otherwise (a table also used elsewhere, e.g. a tied output layer, has a dense gradient).
 *
 * For BERT's 30522-row vocabulary and a 2048-token batch, that skips writing, squaring, clipping
 * and reading back a 31 MB (hidden 256) gradient of which at most 7% of the rows are nonzero; the
 * clipped sparse rows give the same moments as the dense gradient would (see appendOptimizer).
 */
export function rowSparseGradient(g: GraphBuilder, grad: Value): Gradient {
  const graph = g.graph;
  const scatter = graph.producer.get(grad.name);
  if (scatter?.opType !== 'ScatterND' || scatter.attrs.reduction !== undefined) return grad;
  const zeros = graph.producer.get(scatter.inputs[0] as string);
  const fill = zeros?.opType === 'ConstantOfShape' ? zeros.attrs.value : undefined;
  if (fill?.type !== 'tensor' || tensorNumbers(fill.value).some((v) => v !== 0)) return grad;
  const unsqueeze = graph.producer.get(scatter.inputs[1] as string);
  const unique = unsqueeze?.opType === 'Unsqueeze' ? graph.producer.get(unsqueeze.inputs[0] as string) : undefined;
  // Distinct row ids are what makes the sparse form (and the moments' ScatterND) exact and race-free.
  if (unique?.opType !== 'Unique' || unique.outputs[0] !== unsqueeze?.inputs[0]) return grad;
  return {
    kind: 'rows',
    rows: graph.value(unique.outputs[0] as string),
    values: graph.value(scatter.inputs[2] as string),
  };
}
