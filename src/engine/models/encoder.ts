import type { GraphBuilder } from '../graph/builder.js';
import type { Value } from '../graph/types.js';
import {
  type Activation,
  additiveMask,
  type BlockContext,
  dropout,
  type LayerNames,
  layerNorm,
  linear,
  transformerLayer,
} from './layers.js';
import type { BatchInput, ParamSpec } from './model.js';

/**
 * The shape and weight names of a post-LayerNorm transformer encoder, as one Hugging Face family
 * lays it out. BERT, RoBERTa, DistilBERT, ALBERT and ELECTRA differ only in these fields, so one
 * builder serves them all; each family's file maps its config.json onto an EncoderArch.
 */
export interface EncoderArch {
  /** Prefix of the base model's weights inside a task model (`bert`, `roberta`, ...). */
  basePrefix: string;
  vocabSize: number;
  /** config.json's pad_token_id: the word embedding's padding_idx (its row starts at zero). */
  padTokenId?: number;
  /** Embedding width; differs from `hidden` in ALBERT and small ELECTRA (then projected). */
  embeddingSize: number;
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  maxPositions: number;
  /** 0 when the family has no token type embeddings (DistilBERT, RoBERTa's is size 1 and kept). */
  typeVocabSize: number;
  eps: number;
  act: Activation;
  hiddenDropout: number;
  attentionDropout: number;
  initializerRange: number;
  /** Where the family's layers apply hidden dropout (default: both, as BERT). */
  dropoutSites?: { attentionOutput: boolean; ffnOutput: boolean };
  /** RoBERTa: positions count from padding_idx + 1 and skip padding. */
  positions: { kind: 'absolute' } | { kind: 'padding-offset'; paddingIdx: number };
  names: {
    word: string;
    position: string;
    tokenType?: string;
    embeddingNorm: string;
    /** Linear from embeddingSize to hidden, when they differ. */
    projection?: string;
    /** Prefix of layer i (ALBERT returns the same shared prefix for every i). */
    layer: (i: number) => string;
    layerNames: LayerNames;
    /** BERT `pooler.dense`, ALBERT `pooler`; absent where the family has no pooler. */
    pooler?: string;
  };
}

/**
 * An encoder whose family builds its own graph instead of the shared post-LayerNorm one (XLNet's
 * relative attention): the fields heads, task models and training methods read, and the graph.
 */
export interface CustomEncoderArch {
  kind: 'custom';
  basePrefix: string;
  hidden: number;
  layers: number;
  initializerRange: number;
  hiddenDropout: number;
  attentionDropout: number;
  /** Prefix of layer i, relative to the base prefix (the layout of methods freeze and LoRA). */
  layerPrefix(i: number): string;
  /** The longest input the encoder takes. */
  maxLength: number;
  /** Base parameters, with the base prefix. */
  params(): ParamSpec[];
  inputs(): BatchInput[];
  encode(ctx: BlockContext, inputs: Readonly<Record<string, Value>>): EncoderOutput;
}

/** What a family's `arch` gives: the shared BERT-shaped layout, or its own encoder. */
export type AnyEncoderArch = EncoderArch | CustomEncoderArch;

export const isCustomArch = (arch: AnyEncoderArch): arch is CustomEncoderArch =>
  (arch as Partial<CustomEncoderArch>).kind === 'custom';

/** Prefix of layer i relative to the base prefix, for either kind of arch. */
export const layerPrefixOf = (arch: AnyEncoderArch, i: number): string =>
  isCustomArch(arch) ? arch.layerPrefix(i) : arch.names.layer(i);

const base = (arch: EncoderArch, name: string) => `${arch.basePrefix}.${name}`;

/** Parameters of the base encoder, with the base prefix; shared layers appear once. */
export function encoderBaseSpecs(arch: AnyEncoderArch): ParamSpec[] {
  if (isCustomArch(arch)) return arch.params();
  const normal = { kind: 'normal', std: arch.initializerRange } as const;
  const { names } = arch;
  const lin = (name: string, out: number, inp: number): ParamSpec[] => [
    { name: base(arch, `${name}.weight`), shape: [out, inp], init: normal },
    { name: base(arch, `${name}.bias`), shape: [out], init: { kind: 'zeros' } },
  ];
  const norm = (name: string, size: number): ParamSpec[] => [
    { name: base(arch, `${name}.weight`), shape: [size], init: { kind: 'ones' } },
    { name: base(arch, `${name}.bias`), shape: [size], init: { kind: 'zeros' } },
  ];
  const E = arch.embeddingSize;
  const H = arch.hidden;
  // nn.Embedding(padding_idx=...): the word embedding's pad row, and RoBERTa's position padding_idx.
  const padded = (row: number | undefined) => (row === undefined ? normal : { ...normal, paddingRow: row });
  const positionPad = arch.positions.kind === 'padding-offset' ? arch.positions.paddingIdx : undefined;
  const specs: ParamSpec[] = [
    { name: base(arch, `${names.word}.weight`), shape: [arch.vocabSize, E], init: padded(arch.padTokenId) },
    { name: base(arch, `${names.position}.weight`), shape: [arch.maxPositions, E], init: padded(positionPad) },
  ];
  if (names.tokenType && arch.typeVocabSize > 0) {
    specs.push({ name: base(arch, `${names.tokenType}.weight`), shape: [arch.typeVocabSize, E], init: normal });
  }
  specs.push(...norm(names.embeddingNorm, E));
  if (names.projection) specs.push(...lin(names.projection, H, E));
  const seen = new Set<string>();
  const n = names.layerNames;
  for (let i = 0; i < arch.layers; i++) {
    const p = names.layer(i);
    if (seen.has(p)) continue;
    seen.add(p);
    specs.push(
      ...lin(`${p}.${n.query}`, H, H),
      ...lin(`${p}.${n.key}`, H, H),
      ...lin(`${p}.${n.value}`, H, H),
      ...lin(`${p}.${n.attentionOut}`, H, H),
      ...norm(`${p}.${n.attentionNorm}`, H),
      ...lin(`${p}.${n.ffnIn}`, arch.intermediate, H),
      ...lin(`${p}.${n.ffnOut}`, H, arch.intermediate),
      ...norm(`${p}.${n.ffnNorm}`, H),
    );
  }
  if (names.pooler) specs.push(...lin(names.pooler, H, H));
  return specs;
}

/** The tensors every encoder task feeds: ids, mask, and token types where the family has them. */
export function encoderInputs(arch: AnyEncoderArch): BatchInput[] {
  if (isCustomArch(arch)) return arch.inputs();
  const inputs: BatchInput[] = [
    { name: 'input_ids', dtype: 'int64', shape: ['batch', 'seq'] },
    { name: 'attention_mask', dtype: 'int64', shape: ['batch', 'seq'] },
  ];
  if (arch.names.tokenType && arch.typeVocabSize > 0)
    inputs.push({ name: 'token_type_ids', dtype: 'int64', shape: ['batch', 'seq'] });
  return inputs;
}

/**
 * The longest input the arch's position embeddings cover: all of them with absolute positions;
 * with padding-offset positions (RoBERTa) ids start at padding_idx + 1, so
 * maxPositions - paddingIdx - 1 (514 - 1 - 1 = 512 for roberta-base).
 */
export function maxSequenceLength(arch: AnyEncoderArch): number {
  if (isCustomArch(arch)) return arch.maxLength;
  return arch.positions.kind === 'padding-offset'
    ? arch.maxPositions - arch.positions.paddingIdx - 1
    : arch.maxPositions;
}

/** Position ids computed in the graph, as the family's PyTorch model does. // [B, T] */
function positionIds(g: GraphBuilder, arch: EncoderArch, ids: Value): Value {
  if (arch.positions.kind === 'absolute') {
    return g.sub(
      g.op('CumSum', [g.constantOfShape(g.shape(ids), 1, 'int64'), g.scalar(1, 'int64')])[0] as Value,
      g.scalar(1, 'int64'),
    );
  }
  // RoBERTa's create_position_ids_from_input_ids: cumsum(mask) * mask + padding_idx.
  const pad = arch.positions.paddingIdx;
  const notPad = g.cast(g.op('Not', [g.equal(ids, g.scalar(pad, 'int64'))])[0] as Value, 'int64');
  const counted = g.mul(g.op('CumSum', [notPad, g.scalar(1, 'int64')])[0] as Value, notPad);
  return g.add(counted, g.scalar(pad, 'int64'));
}

export interface EncoderOutput {
  sequence: Value; // [B, T, H]
  pooled?: Value; // [B, H], tanh(pooler(h[:, 0])) where the family has a pooler
}

/**
 * `firstTokenOnly`: the caller reads h[:, 0] only (a sequence-classification head), so the last
 * layer computes that token alone (see LayerShape.firstTokenOnly): `sequence` is then [B, 1, H].
 */
export function encode(
  ctx: BlockContext,
  arch: AnyEncoderArch,
  inputs: Readonly<Record<string, Value>>,
  o: { firstTokenOnly?: boolean } = {},
): EncoderOutput {
  if (isCustomArch(arch)) return arch.encode(ctx, inputs);
  const { g, param } = ctx;
  const ids = inputs.input_ids as Value;
  const { names } = arch;
  const w = (name: string) => param(base(arch, `${name}.weight`));
  let h = g.scope('embeddings', () => {
    let e = g.add(g.gather(w(names.word), ids), g.gather(w(names.position), positionIds(g, arch, ids))); // [B, T, E]
    if (names.tokenType && arch.typeVocabSize > 0) {
      const types = inputs.token_type_ids ?? g.constantOfShape(g.shape(ids), 0, 'int64');
      e = g.add(e, g.gather(w(names.tokenType), types));
    }
    e = dropout(ctx, layerNorm(ctx, e, base(arch, names.embeddingNorm), arch.eps));
    return names.projection ? linear(ctx, e, base(arch, names.projection)) : e; // [B, T, H]
  });
  const mask = additiveMask(g, inputs.attention_mask as Value); // [B, 1, 1, T]
  const shape = {
    heads: arch.heads,
    eps: arch.eps,
    act: arch.act,
    attentionOutputDropout: arch.dropoutSites?.attentionOutput,
    ffnOutputDropout: arch.dropoutSites?.ffnOutput,
  };
  for (let i = 0; i < arch.layers; i++) {
    const p = base(arch, names.layer(i));
    const last = o.firstTokenOnly === true && i === arch.layers - 1;
    const layerShape = last ? { ...shape, firstTokenOnly: true } : shape;
    h = g.scope(`layer.${i}`, () => transformerLayer(ctx, h, mask, p, names.layerNames, layerShape));
  }
  if (!names.pooler) return { sequence: h };
  const pooler = names.pooler;
  const pooled = g.scope('pooler', () => g.tanh(linear(ctx, firstToken(g, h), base(arch, pooler))));
  return { sequence: h, pooled };
}

/** h[:, 0]: the [CLS] (or <s>) token. // [B, T, H] -> [B, H] */
export function firstToken(g: GraphBuilder, h: Value): Value {
  return g.squeeze(g.slice(h, [0], [1], [1]), [1]);
}
