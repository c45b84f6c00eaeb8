import type { Value } from '../graph/types.js';
import type { EncoderArch } from './encoder.js';
import { type Activation, activation, type BlockContext, layerNorm, linear } from './layers.js';
import type { ParamSpec } from './model.js';

/**
 * A masked-LM head as transformers' *ForMaskedLM builds it: dense -> activation -> LayerNorm, then
 * a decoder tied to the word embeddings (its weight is the embedding matrix, trained through both
 * uses) plus a bias of its own. Weight names are the family's, so the head round-trips through a
 * Hugging Face checkpoint (the tied decoder weight is not saved, as save_pretrained drops it).
 */
export interface MaskedLmHead {
  /** `architectures[0]` of the exported config.json (BertForMaskedLM, ...). */
  architecture: string;
  /** The transform's Linear (hidden -> width of the word embeddings). */
  dense: string;
  /** The transform's LayerNorm. */
  norm: string;
  /** The decoder bias parameter (`cls.predictions.bias`, DistilBERT's `vocab_projector.bias`). */
  bias: string;
  /** The activation; `config`: the arch's own (hidden_act, DistilBERT's activation). */
  act: Activation | 'config';
  /** The LayerNorm epsilon; `config`: the arch's (layer_norm_eps). */
  eps?: number;
  /**
   * The decoder's tensors transformers ties to the word embeddings and to `bias`: save_pretrained
   * leaves them out, but older checkpoints hold copies, which load as nothing new.
   */
  tied: readonly string[];
}

/** The head's parameters: transform dense + LayerNorm over the embedding width, and the vocabulary bias. */
export function maskedLmHeadParams(head: MaskedLmHead, arch: EncoderArch): ParamSpec[] {
  const E = arch.embeddingSize;
  return [
    { name: `${head.dense}.weight`, shape: [E, arch.hidden], init: { kind: 'normal', std: arch.initializerRange } },
    { name: `${head.dense}.bias`, shape: [E], init: { kind: 'zeros' } },
    { name: `${head.norm}.weight`, shape: [E], init: { kind: 'ones' } },
    { name: `${head.norm}.bias`, shape: [E], init: { kind: 'zeros' } },
    { name: head.bias, shape: [arch.vocabSize], init: { kind: 'zeros' } },
  ];
}

/** Vocabulary logits of every position. // [B, T, H] -> [B, T, V] */
export function maskedLmLogits(ctx: BlockContext, head: MaskedLmHead, arch: EncoderArch, sequence: Value): Value {
  const { g } = ctx;
  const act = head.act === 'config' ? arch.act : head.act;
  const hidden = activation(g, linear(ctx, sequence, head.dense), act, ctx.mode);
  const normed = layerNorm(ctx, hidden, head.norm, head.eps ?? arch.eps); // [B, T, E]
  const E = arch.embeddingSize;
  const lead = g.slice(g.shape(normed), [0], [-1]);
  const words = ctx.param(`${arch.basePrefix}.${arch.names.word}.weight`); // [V, E], the tied decoder
  const logits = g.gemm(g.reshape(normed, [-1, E]), words, ctx.param(head.bias), { transB: true }); // [N, V]
  return g.reshape(logits, g.concat([lead, g.ints([arch.vocabSize])], 0));
}
