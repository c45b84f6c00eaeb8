import { typedArrayFor } from '../graph/types.js';
import { normal, rng } from '../util/random.js';
import type { ParamSpec, Weights } from './model.js';

/**
 * Fresh weights for parameters a checkpoint does not provide (or all of them, training.init:
 * scratch), reproducible from `seed`, as transformers' `_init_weights` draws them: normal(0, std)
 * for Linear weights and embeddings (the padding row zero), zeros for biases, ones for norm weights.
 */
export function initWeights(specs: readonly ParamSpec[], seed: number, into: Weights = new Map()): Weights {
  const rand = rng(seed);
  for (const spec of specs) {
    if (into.has(spec.name)) continue;
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const data = typedArrayFor('float32', size) as Float32Array;
    if (spec.init.kind === 'normal') {
      for (let i = 0; i < size; i++) data[i] = normal(rand) * spec.init.std;
      // nn.Embedding(padding_idx=p): transformers' _init_weights zeroes row p after the normal draw.
      const row = spec.init.paddingRow;
      const width = spec.shape[1] ?? 1;
      if (row !== undefined && row >= 0 && row < (spec.shape[0] ?? 0)) data.fill(0, row * width, (row + 1) * width);
    } else if (spec.init.kind === 'ones') data.fill(1);
    into.set(spec.name, { dtype: 'float32', dims: [...spec.shape], data });
  }
  return into;
}
