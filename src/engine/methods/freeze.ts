import type { ModelLayout } from './layout.js';

/**
 * `method: freeze`: the embeddings and the bottom `freeze_layers` layers are frozen, or with
 * `freeze_layers: all` the whole base model (embeddings, layers, pooler), leaving only the task
 * head. Frozen weights become initializers of the step graphs (not fed, no optimizer state).
 *
 * ALBERT runs one set of layer weights num_hidden_layers times, so "the first N layers" names no
 * weights of their own: with a shared layer, freeze_layers must be 0 (embeddings only) or `all`.
 */
export interface FreezePlan {
  frozen: Set<string>;
  /** For the log: what was frozen, in words. */
  description: string;
}

export function planFreeze(layout: ModelLayout, freezeLayers: number | 'all' | undefined): FreezePlan {
  const n = freezeLayers ?? 0;
  if (n === 'all') {
    const frozen = new Set([...layout.embeddings, ...layout.layers.flat(), ...layout.after]);
    return { frozen, description: 'the whole base model frozen (embeddings, every layer and what follows them)' };
  }
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`training.freeze_layers must be a whole number >= 0 or all, got ${n}`);
  if (layout.sharedLayers && n > 0) {
    throw new Error(
      `training.freeze_layers ${n}: this model shares one set of layer weights across all ${layout.depth} layers (ALBERT), so the first ${n} layers cannot be frozen apart from the rest; use freeze_layers: 0 (embeddings only) or all (train only the head)`,
    );
  }
  if (n > layout.depth) {
    throw new Error(
      `training.freeze_layers ${n} is more than the model's ${layout.depth} layers (use freeze_layers: all to train only the head)`,
    );
  }
  if (layout.embeddings.length === 0) throw new Error('method freeze: found no embedding weights in this model');
  const frozen = new Set([...layout.embeddings, ...layout.layers.slice(0, n).flat()]);
  const layers = n === 0 ? 'no layers' : n === 1 ? 'layer 0' : `layers 0-${n - 1}`;
  return { frozen, description: `embeddings and ${layers} of ${layout.depth} frozen` };
}
