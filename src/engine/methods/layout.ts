import { type AnyEncoderArch, layerPrefixOf } from '../models/encoder.js';
import type { ParamSpec, TrainableModel } from '../models/model.js';

/**
 * Where each parameter of a task model sits, as the methods that train only part of a model see
 * it: the embeddings (every base parameter before the first layer, including a projection such as
 * ALBERT's embedding_hidden_mapping_in), the transformer layers in order, what follows them in the
 * base model (pooler, final LayerNorm), and the task head (every parameter outside the base
 * prefix, as transformers names heads: `classifier.weight`).
 */
export interface ModelLayout {
  basePrefix: string;
  embeddings: string[];
  /** Parameter names of layer i; a shared layer (ALBERT) appears once, see `sharedLayers`. */
  layers: string[][];
  /** The number of layers the forward pass runs (ALBERT: num_hidden_layers uses of one layer). */
  depth: number;
  /** One set of weights used by every layer (ALBERT's num_hidden_groups = 1). */
  sharedLayers: boolean;
  /** Base parameters after the layers (pooler, final LayerNorm). */
  after: string[];
  head: string[];
}

/** Containers of numbered layers in Hugging Face names: `encoder.layer.3.`, `transformer.h.3.`, `layers.3.`. */
const LAYER_PATTERN = /(?:^|\.)(?:layer|layers|h|block|blocks)\.(\d+)\./;

const hasArch = (m: TrainableModel): m is TrainableModel & { arch: AnyEncoderArch } => {
  const arch = (m as { arch?: { names?: { layer?: unknown }; layerPrefix?: unknown; layers?: unknown } }).arch;
  const layerNames = typeof arch?.names?.layer === 'function' || typeof arch?.layerPrefix === 'function';
  return layerNames && typeof arch?.layers === 'number';
};

export function modelLayout(model: TrainableModel, basePrefix: string): ModelLayout {
  const inBase = (s: ParamSpec) => basePrefix !== '' && s.name.startsWith(`${basePrefix}.`);
  const base = model.params.filter(inBase);
  const head = model.params.filter((s) => !inBase(s)).map((s) => s.name);
  let layerOf: (name: string) => number | undefined;
  let depth: number;
  let sharedLayers = false;
  if (hasArch(model)) {
    const { arch } = model;
    const prefixes = Array.from({ length: arch.layers }, (_, i) => `${basePrefix}.${layerPrefixOf(arch, i)}.`);
    sharedLayers = prefixes.length > 1 && new Set(prefixes).size < prefixes.length;
    depth = arch.layers;
    layerOf = (name) => {
      const i = prefixes.findIndex((p) => name.startsWith(p));
      return i < 0 ? undefined : i;
    };
  } else {
    layerOf = (name) => {
      const m = LAYER_PATTERN.exec(name.slice(basePrefix.length));
      return m ? Number(m[1]) : undefined;
    };
    depth = 0;
  }
  const layers: string[][] = [];
  const embeddings: string[] = [];
  const after: string[] = [];
  for (const spec of base) {
    const i = layerOf(spec.name);
    if (i !== undefined) {
      const layer = layers[i] ?? [];
      layers[i] = layer;
      layer.push(spec.name);
      depth = Math.max(depth, i + 1);
    } else (layers.length === 0 ? embeddings : after).push(spec.name);
  }
  for (let i = 0; i < layers.length; i++) layers[i] ??= [];
  return { basePrefix, embeddings, layers, depth, sharedLayers, after, head };
}
