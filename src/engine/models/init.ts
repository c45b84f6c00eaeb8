import { typedArrayFor } from '../graph/types.js';
import { normal, rng } from '../util/random.js';
import type { ParamSpec, Weights } from './model.js';

/** Fresh weights for parameters a checkpoint does not provide, reproducible from `seed`. */
export function initWeights(specs: readonly ParamSpec[], seed: number, into: Weights = new Map()): Weights {
  const rand = rng(seed);
  for (const spec of specs) {
    if (into.has(spec.name)) continue;
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const data = typedArrayFor('float32', size) as Float32Array;
    if (spec.init.kind === 'normal') for (let i = 0; i < size; i++) data[i] = normal(rand) * spec.init.std;
    else if (spec.init.kind === 'ones') data.fill(1);
    into.set(spec.name, { dtype: 'float32', dims: [...spec.shape], data });
  }
  return into;
}
