import type { GraphBuilder } from '../graph/builder.js';
import type { Value } from '../graph/types.js';
import type { DecoderFamily } from './family.js';
import type { HfConfigReader } from './hf-config.js';
import { type AdapterHook, type BlockContext, blockContext } from './layers.js';
import type { BatchInput, ForwardMode, ParamSpec, TrainableModel } from './model.js';

/**
 * What causal-LM code (training, evaluation sums, the KV-cached generation graph) needs from a
 * decoder family, whatever its blocks: GPT-2 today, Llama-like families next. A family folder
 * builds one `Decoder` per config.json; nothing outside the family reads its own arch type.
 */
export interface DecoderArch {
  vocabSize: number;
  hidden: number;
  layers: number;
  /** Attention heads of the queries. */
  heads: number;
  /** Heads of the cached keys and values (fewer than `heads` with grouped-query attention). */
  kvHeads: number;
  headDim: number;
  maxPositions: number;
  eosTokenId: number | null;
  bosTokenId: number | null;
  /**
   * Sliding-window attention's span (Mistral's `sliding_window`), where the family has one. The
   * engine attends to the whole causal prefix, so longer sequences are refused
   * (`checkAttentionWindow`) instead of being computed differently from transformers.
   */
  attentionWindow?: { tokens: number; source: string };
}

/**
 * The longest sequence the engine computes exactly as transformers does: max_position_embeddings,
 * bounded by a sliding attention window (inside it, sliding-window attention is full causal
 * attention). Evaluation truncates to it and generation stops at it.
 */
export function contextLength(arch: DecoderArch): number {
  return Math.min(arch.maxPositions, arch.attentionWindow?.tokens ?? Number.POSITIVE_INFINITY);
}

/**
 * Refuses `length` tokens (what `what` allows, e.g. `data.max_length 8192`) when they exceed the
 * model's sliding attention window: past it transformers masks the keys older than the window, which
 * the engine does not, so the results would silently differ.
 */
export function checkAttentionWindow(arch: DecoderArch, length: number, what: string): void {
  const window = arch.attentionWindow;
  if (window && length > window.tokens) {
    throw new Error(
      `${what}: longer than the model's sliding attention window of ${window.tokens} tokens (${window.source}); ` +
        'sliding-window attention is not implemented, so sequences must fit in the window (lower it to at most ' +
        `${window.tokens})`,
    );
  }
}

/** One layer's cached keys and values. // [B, kvHeads, P, headDim] each */
/** The KV-cache input and output names of the cached decoder graphs (Optimum's names). */
export const pastName = (i: number, kind: 'key' | 'value'): string => `past_key_values.${i}.${kind}`;
export const presentName = (i: number, kind: 'key' | 'value'): string => `present.${i}.${kind}`;

export interface KeyValue {
  key: Value;
  value: Value;
}

export interface DecoderInputs {
  /** [B, T] int64 */
  inputIds: Value;
  /** [B, P + T] int64, 1 for real tokens (the cached ones included), 0 for padding. */
  attentionMask: Value;
  /** [B, T] int64; computed from the mask when absent (then P must be 0). */
  positionIds?: Value;
  /** Keys and values of the P earlier positions, one per layer (the cached graph). */
  past?: readonly KeyValue[];
}

export interface DecoderOutput {
  /** The final norm's output. // [B, T, H] */
  hidden: Value;
  /** Keys and values of all P + T positions, one per layer. */
  present: KeyValue[];
}

export interface Decoder {
  readonly arch: DecoderArch;
  /** Parameters in Hugging Face's names and layouts (with the base prefix). */
  readonly params: readonly ParamSpec[];
  /** A block context with the family's dropouts (and the LoRA hook given to `decoder()`). */
  context(g: GraphBuilder, param: (name: string) => Value, mode: ForwardMode): BlockContext;
  /** The base model: embeddings, the blocks, the final norm. */
  forward(ctx: BlockContext, inputs: DecoderInputs): DecoderOutput;
  /** The LM head. // [B, T, H] -> [B, T, V] */
  lmHead(ctx: BlockContext, hidden: Value): Value;
  /** Checkpoint tensors the family's LM class ignores on load (buffers, a tied head's copy). */
  isIgnoredTensor(name: string): boolean;
}

/**
 * What every family's forward checks first: a cached forward (the generation graph) brings one
 * cache entry per layer and the new tokens' absolute positions. True when there is a cache.
 */
export function checkPast(arch: DecoderArch, inputs: DecoderInputs, family: string): boolean {
  if (inputs.past === undefined) return false;
  if (inputs.past.length !== arch.layers) {
    throw new Error(`${family}: ${inputs.past.length} cached layers given, the model has ${arch.layers}`);
  }
  if (!inputs.positionIds) throw new Error(`${family}: a cached forward needs position_ids`);
  return true;
}

/** A layer's keys and values with its cached ones of the P earlier positions in front. // [B, kv, P + T, d] */
export function appendPast(g: GraphBuilder, past: KeyValue | undefined, current: KeyValue): KeyValue {
  if (!past) return current;
  return { key: g.concat([past.key, current.key], 2), value: g.concat([past.value, current.value], 2) };
}

/**
 * A decoder's block context: hidden dropout the family's residual dropout, attention dropout its
 * attention-probability dropout (both 0 in eval mode), and the LoRA hook.
 */
export function decoderContext(
  g: GraphBuilder,
  param: (name: string) => Value,
  mode: ForwardMode,
  dropouts: { residDropout: number; attnDropout: number },
  adapters?: AdapterHook,
): BlockContext {
  return blockContext(g, param, mode, { hidden: dropouts.residDropout, attention: dropouts.attnDropout }, adapters);
}

const FLOAT32_MIN = -3.4028234663852886e38;

/** cumsum of ones of `like`'s shape, minus 1, along axis 1: 0..T-1 per row. // [B, T] int64 */
function arange(g: GraphBuilder, like: Value): Value {
  const ones = g.constantOfShape(g.shape(like), 1, 'int64');
  return g.sub(g.op('CumSum', [ones, g.scalar(1, 'int64')])[0] as Value, g.scalar(1, 'int64'));
}

/**
 * Position ids from the attention mask: cumsum(mask) - 1 clipped at 0, what transformers'
 * `generate` passes for a left-padded batch (arange(T) on every real token of a right-padded one).
 * // [B, T] int64
 */
export function positionsFromMask(g: GraphBuilder, mask: Value): Value {
  const counted = g.sub(g.op('CumSum', [mask, g.scalar(1, 'int64')])[0] as Value, g.scalar(1, 'int64'));
  return g.max(counted, g.scalar(0, 'int64'));
}

/**
 * The additive causal attention mask: 0 where query t (at absolute position P + t) may attend key
 * j (j <= P + t and key j is not padding), float32 min elsewhere (a row with no visible key, a left
 * pad, becomes uniform rather than NaN). // [B, 1, T, P + T]
 */
export function causalMask(g: GraphBuilder, ids: Value, mask: Value, withPast: boolean): Value {
  const keys = arange(g, mask); // [B, L]
  let queries = arange(g, ids); // [B, T]
  if (withPast) {
    const dim1 = (v: Value) => g.slice(g.shape(v), [1], [2]);
    queries = g.add(queries, g.sub(dim1(mask), dim1(ids))); // + P
  }
  const causal = g.op('LessOrEqual', [g.unsqueeze(keys, [1, 2]), g.unsqueeze(queries, [1, 3])])[0] as Value;
  const notPad = g.cast(g.unsqueeze(mask, [1, 2]), 'bool'); // [B, 1, 1, L]
  const keep = g.op('And', [causal, notPad])[0] as Value; // [B, 1, T, L]
  return g.where(keep, g.scalar(0, g.floatType), g.scalar(FLOAT32_MIN, g.floatType));
}

/**
 * The LM head's product: hidden states times `weight` [V, H] (the tied token embedding or its own
 * `lm_head.weight`), no bias. // [B, T, H] -> [B, T, V]
 */
export function lmHeadProjection(g: GraphBuilder, hidden: Value, weight: Value): Value {
  const [vocab, width] = weight.shape as [number, number];
  const lead = g.slice(g.shape(hidden), [0], [-1]);
  const flat = g.reshape(hidden, [-1, width]); // [N, H]
  const logits = g.gemm(flat, weight, undefined, { transB: true }); // [N, V]
  return g.reshape(logits, g.concat([lead, g.ints([vocab])], 0));
}

/** Label of a position that predicts nothing (padding, a text's last token): PyTorch's ignore_index. */
export const LM_IGNORE_INDEX = -100;

export const CAUSAL_LM_INPUTS: readonly BatchInput[] = [
  { name: 'input_ids', dtype: 'int64', shape: ['batch', 'seq'] },
  { name: 'attention_mask', dtype: 'int64', shape: ['batch', 'seq'] },
];

/**
 * Cross-entropy of next-token predictions. `labels` are already shifted by the collator
 * (labels[t] = input_ids[t + 1], -100 where nothing is predicted), so logits and labels line up
 * position by position and no symbolic-length slicing is needed in the graph. // scalar
 */
export function lmLoss(g: GraphBuilder, arch: DecoderArch, logits: Value, labels: Value, reduction: 'mean' | 'sum') {
  const flat = g.reshape(logits, [-1, arch.vocabSize]); // [B*T, V]
  return g.softmaxCrossEntropy(flat, g.reshape(labels, [-1]), { reduction, ignoreIndex: LM_IGNORE_INDEX }).loss;
}

export interface CausalLmModel extends TrainableModel {
  readonly decoder: Decoder;
}

/** A decoder family's *ForCausalLM / *LMHeadModel, with the mean next-token cross-entropy as its loss. */
export function causalLmModel(
  family: DecoderFamily,
  o: { config: HfConfigReader; dropout?: number; adapters?: AdapterHook },
): CausalLmModel {
  const decoder = family.decoder(o.config, {
    ...(o.dropout === undefined ? {} : { dropout: o.dropout }),
    ...(o.adapters ? { adapters: o.adapters } : {}),
  });
  return {
    decoder,
    params: decoder.params,
    batchInputs: [...CAUSAL_LM_INPUTS, { name: 'labels', dtype: 'int64', shape: ['batch', 'seq'] }],
    inferenceInputs: CAUSAL_LM_INPUTS.map((i) => i.name),
    forward(g, param, values, mode) {
      const ctx = decoder.context(g, param, mode);
      const out = decoder.forward(ctx, {
        inputIds: values.input_ids as Value,
        attentionMask: values.attention_mask as Value,
      });
      const logits = g.scope('lm_head', () => decoder.lmHead(ctx, out.hidden));
      const loss = g.scope('loss', () => lmLoss(g, decoder.arch, logits, values.labels as Value, 'mean'));
      return { loss, logits };
    },
  };
}
