import type { GraphBuilder } from '../graph/builder.js';
import type { Value } from '../graph/types.js';
import { appendPast, causalMask, type KeyValue, LM_IGNORE_INDEX } from './decoder.js';
import type { Seq2SeqFamily } from './family.js';
import type { HfConfigReader } from './hf-config.js';
import type { AdapterHook, BlockContext } from './layers.js';
import type { BatchInput, ForwardMode, ParamSpec, TrainableModel } from './model.js';

/**
 * What sequence-to-sequence code (teacher-forced training, evaluation, and later generation with a
 * cached decoder) needs from an encoder-decoder family, whatever its blocks: T5, BART, mBART and
 * Marian. A family folder builds one `Seq2Seq` per config.json; nothing outside the family
 * reads its own arch type.
 */
export interface Seq2SeqArch {
  vocabSize: number;
  /** d_model. */
  hidden: number;
  encoderLayers: number;
  decoderLayers: number;
  heads: number;
  headDim: number;
  padTokenId: number;
  eosTokenId: number | null;
  /** The first decoder input: shift_right puts it in front of the labels. */
  decoderStartTokenId: number;
  /**
   * mBART's shift_tokens_right: teacher forcing starts the decoder with the label row's last non-pad
   * token (the target language code its tokenizer puts last) instead of decoderStartTokenId.
   */
  startFromLastLabel?: boolean;
}

export interface EncoderInputs {
  /** [B, S] int64 */
  inputIds: Value;
  /** [B, S] int64, 1 for real tokens, 0 for padding. */
  attentionMask: Value;
}

export interface DecoderStepInputs {
  /** [B, T] int64: shift_right(labels) when teacher-forced. */
  inputIds: Value;
  /** The encoder's output. // [B, S, H] */
  encoderHidden: Value;
  /** The source's attention mask. // [B, S] int64 */
  encoderMask: Value;
}

/** One step of a KV-cached decoder (generation): the new tokens after `past`. */
export interface CachedDecoderInputs {
  /** [B, T] int64: the tokens after the past (T = 1 per generated token). */
  inputIds: Value;
  /** The source's attention mask. // [B, S] int64 */
  encoderMask: Value;
  /** Per decoder block, the self-attention keys/values of the earlier positions. // [B, heads, P, head_dim] */
  past: readonly KeyValue[];
  /** Per decoder block, the cross-attention keys/values (`crossKeyValues`). // [B, heads, S, head_dim] */
  cross: readonly KeyValue[];
}

export interface Seq2Seq {
  readonly arch: Seq2SeqArch;
  /** Parameters in Hugging Face's names and layouts. */
  readonly params: readonly ParamSpec[];
  /** A block context with the family's dropouts (and the LoRA hook given to `seq2seq()`). */
  context(g: GraphBuilder, param: (name: string) => Value, mode: ForwardMode): BlockContext;
  /** The encoder stack: embeddings, the blocks, the final norm. // [B, S, H] */
  encode(ctx: BlockContext, inputs: EncoderInputs): Value;
  /** The decoder stack with causal self-attention and cross-attention to the encoder. // [B, T, H] */
  decode(ctx: BlockContext, inputs: DecoderStepInputs): Value;
  /** Per decoder block, the cross-attention keys/values of the encoder output: computed once per source. */
  crossKeyValues(ctx: BlockContext, encoderHidden: Value): KeyValue[];
  /** `decode` with a KV cache: the hidden states of the new tokens and the self-attention keys/values extended by them. */
  decodeCached(ctx: BlockContext, inputs: CachedDecoderInputs): { hidden: Value; present: KeyValue[] };
  /** The LM head (with whatever rescaling the family applies first). // [B, T, H] -> [B, T, V] */
  lmHead(ctx: BlockContext, hidden: Value): Value;
  /** Checkpoint tensors the family's *ForConditionalGeneration ignores on load (tied copies, unused buffers). */
  isIgnoredTensor(name: string): boolean;
  /** The tied copies a parameter may be stored as instead (loadPretrained's `tiedNames`). */
  tiedNames(name: string): readonly string[];
}

export const SEQ2SEQ_INPUTS: readonly BatchInput[] = [
  { name: 'input_ids', dtype: 'int64', shape: ['batch', 'source'] },
  { name: 'attention_mask', dtype: 'int64', shape: ['batch', 'source'] },
  { name: 'decoder_input_ids', dtype: 'int64', shape: ['batch', 'target'] },
];

/**
 * What a cached decoder step shares across families: the causal self-attention mask over the past
 * and the new tokens (positions P … P + T − 1, P the past's length) and the self-attention hook
 * that appends each layer's fresh keys/values to its past, collected as `present`.
 */
export function cachedDecoderStep(
  g: GraphBuilder,
  inputs: CachedDecoderInputs,
): {
  /** P, the past's length. // [1] */
  pastLength: Value;
  /** P + T. // [1] */
  total: Value;
  /** The causal mask of the new tokens over past and new. // [B, 1, T, P + T] */
  mask: Value;
  self: (i: number, fresh: KeyValue) => KeyValue;
  present: KeyValue[];
} {
  const ids = inputs.inputIds;
  const dim = (v: Value, axis: number) => g.slice(g.shape(v), [axis], [axis + 1]); // [1]
  const pastLength = dim(inputs.past[0]?.key as Value, 2);
  const total = g.add(pastLength, dim(ids, 1));
  const visible = g.constantOfShape(g.concat([dim(ids, 0), total], 0), 1, 'int64'); // [B, P + T]
  const present: KeyValue[] = [];
  return {
    pastLength,
    total,
    mask: causalMask(g, ids, visible, true),
    self: (i, fresh) => {
      const kv = appendPast(g, inputs.past[i], fresh);
      present.push(kv);
      return kv;
    },
    present,
  };
}

/**
 * transformers' `shift_tokens_right` / T5's `_shift_right` on one row of labels: the decoder start
 * token in front, the last label dropped, -100 (ignored labels) replaced by the pad token.
 */
export function shiftRight(labels: readonly number[], start: number, pad: number): number[] {
  return [start, ...labels.slice(0, -1)].map((id) => (id === LM_IGNORE_INDEX ? pad : id));
}

/**
 * The decoder inputs of one row of labels as the family's `shift_tokens_right` makes them:
 * `shiftRight` with the decoder start token, or for mBART (modeling_mbart.py) the labels with -100
 * as pad, shifted, and the token at (number of non-pad tokens − 1) wrapped to the front. That index
 * assumes right padding, as mBART's does; a row of pads only starts with pad.
 */
export function shiftTokensRight(
  labels: readonly number[],
  arch: Pick<Seq2SeqArch, 'decoderStartTokenId' | 'padTokenId' | 'startFromLastLabel'>,
): number[] {
  const pad = arch.padTokenId;
  if (!arch.startFromLastLabel) return shiftRight(labels, arch.decoderStartTokenId, pad);
  const ids = labels.map((id) => (id === LM_IGNORE_INDEX ? pad : id));
  const last = ids.filter((id) => id !== pad).length - 1;
  return [ids[last] ?? pad, ...ids.slice(0, -1)];
}

/**
 * The training loss of a seq2seq model: the mean cross-entropy over the labels that are not -100
 * (the model's own CrossEntropyLoss), or with `labelSmoothing` ε > 0 transformers' LabelSmoother
 * (Trainer's label_smoothing_factor): (1 − ε) · mean NLL + ε · mean over labels and vocabulary of
 * −log p, both over the non-ignored positions. // scalar
 */
export function seq2seqLoss(g: GraphBuilder, logits: Value, labels: Value, vocab: number, labelSmoothing: number) {
  const flat = g.reshape(logits, [-1, vocab]); // [N, V]
  const targets = g.reshape(labels, [-1]); // [N]
  const nll = g.softmaxCrossEntropy(flat, targets, { reduction: 'mean', ignoreIndex: LM_IGNORE_INDEX }).loss;
  if (labelSmoothing <= 0) return nll;
  const active = g.cast(g.greater(targets, LM_IGNORE_INDEX), g.floatType); // [N]; labels carry no gradient
  const negLogSum = g.neg(g.reduceSum(g.logSoftmax(flat, -1), [-1], false)); // [N]
  const count = g.reduceSum(active, undefined, false);
  const smoothed = g.div(g.reduceSum(g.mul(negLogSum, active), undefined, false), g.mul(count, vocab));
  return g.add(g.mul(nll, 1 - labelSmoothing), g.mul(smoothed, labelSmoothing));
}

export interface Seq2SeqLmModel extends TrainableModel {
  readonly seq2seq: Seq2Seq;
}

/**
 * A family's *ForConditionalGeneration: encoder over input_ids, decoder over decoder_input_ids
 * (teacher forcing), the LM head, and `seq2seqLoss` against `labels`. The exported inference
 * graph takes input_ids, attention_mask and decoder_input_ids and gives the logits.
 */
export function seq2seqLmModel(
  family: Seq2SeqFamily,
  o: { config: HfConfigReader; dropout?: number; adapters?: AdapterHook; labelSmoothing?: number },
): Seq2SeqLmModel {
  const seq2seq = family.seq2seq(o.config, {
    ...(o.dropout === undefined ? {} : { dropout: o.dropout }),
    ...(o.adapters ? { adapters: o.adapters } : {}),
  });
  const smoothing = o.labelSmoothing ?? 0;
  return {
    seq2seq,
    params: seq2seq.params,
    batchInputs: [...SEQ2SEQ_INPUTS, { name: 'labels', dtype: 'int64', shape: ['batch', 'target'] }],
    inferenceInputs: SEQ2SEQ_INPUTS.map((i) => i.name),
    forward(g, param, values, mode) {
      const ctx = seq2seq.context(g, param, mode);
      const mask = values.attention_mask as Value;
      const encoderHidden = g.scope('encoder', () =>
        seq2seq.encode(ctx, { inputIds: values.input_ids as Value, attentionMask: mask }),
      );
      const hidden = g.scope('decoder', () =>
        seq2seq.decode(ctx, { inputIds: values.decoder_input_ids as Value, encoderHidden, encoderMask: mask }),
      );
      const logits = g.scope('lm_head', () => seq2seq.lmHead(ctx, hidden));
      const loss = g.scope('loss', () =>
        seq2seqLoss(g, logits, values.labels as Value, seq2seq.arch.vocabSize, smoothing),
      );
      return { loss, logits };
    },
  };
}
