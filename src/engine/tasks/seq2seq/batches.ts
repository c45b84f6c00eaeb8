import type { Seq2SeqExample } from '../../data/records.js';
import { tensorOf } from '../../graph/types.js';
import { LM_IGNORE_INDEX } from '../../models/decoder.js';
import { type Seq2SeqArch, shiftTokensRight } from '../../models/seq2seq.js';
import type { Batch } from '../../step/batch.js';
import type { Tokenizer } from '../../tokenize/index.js';

/**
 * Seq2seq examples as run_translation.py / run_summarization.py prepare them, and their batches as
 * DataCollatorForSeq2Seq builds them for a model with `prepare_decoder_input_ids_from_labels`.
 */
export interface Seq2SeqEncoded {
  /** tokenizer(source_prefix + source), with its special tokens (T5: `</s>` last), truncated. */
  inputIds: number[];
  /** tokenizer(text_target=target), with its special tokens, truncated: the labels. */
  labels: number[];
  /** The source text as the row gives it (without the prefix): the evaluation's samples show it. */
  source: string;
  line?: number;
}

export interface Seq2SeqEncoding {
  prefix: string;
  maxSourceLength: number;
  maxTargetLength: number;
}

export function encodeSeq2Seq(
  tokenizer: Tokenizer,
  examples: readonly Seq2SeqExample[],
  o: Seq2SeqEncoding,
): Seq2SeqEncoded[] {
  return examples.map((e) => ({
    inputIds: tokenizer.encode(`${o.prefix}${e.sourceText}`, null, { maxLength: o.maxSourceLength }).ids,
    labels: tokenizer.encode(e.targetText, null, { maxLength: o.maxTargetLength }).ids,
    source: e.sourceText,
    line: e.source.line,
  }));
}

/** What collating reads of a model: its pad token and how its decoder inputs start. */
export type Seq2SeqTokens = Pick<Seq2SeqArch, 'padTokenId' | 'decoderStartTokenId' | 'startFromLastLabel'>;

/**
 * A batch: input_ids right-padded with the pad token (attention_mask 0 there), labels right-padded
 * with -100, and decoder_input_ids = the family's shift_tokens_right(labels) (`shiftTokensRight`:
 * the decoder start token, or mBART's last label token, then the labels but the last, -100 as the
 * pad token).
 */
export function collateSeq2Seq(examples: readonly Seq2SeqEncoded[], o: Seq2SeqTokens): Batch {
  const B = examples.length;
  const S = Math.max(1, ...examples.map((e) => e.inputIds.length));
  const T = Math.max(1, ...examples.map((e) => e.labels.length));
  const ids = new Array<number>(B * S).fill(o.padTokenId);
  const mask = new Array<number>(B * S).fill(0);
  const labels: number[] = [];
  const decoder: number[] = [];
  examples.forEach((e, b) => {
    e.inputIds.forEach((id, s) => {
      ids[b * S + s] = id;
      mask[b * S + s] = 1;
    });
    const row = Array.from({ length: T }, (_, t) => e.labels[t] ?? LM_IGNORE_INDEX);
    labels.push(...row);
    decoder.push(...shiftTokensRight(row, o));
  });
  return {
    input_ids: tensorOf('int64', [B, S], ids),
    attention_mask: tensorOf('int64', [B, S], mask),
    decoder_input_ids: tensorOf('int64', [B, T], decoder),
    labels: tensorOf('int64', [B, T], labels),
  };
}
