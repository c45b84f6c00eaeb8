import { tensorOf } from '../../graph/types.js';
import type { Batch } from '../../step/batch.js';

/**
 * A tokenized training example, ready for batching. `label` is a class id (single-label), a
 * float vector (multi-label), a number (regression), or one id per token with -100 where a token
 * carries no label (token classification).
 */
export interface EncodedExample {
  inputIds: number[];
  tokenTypeIds: number[];
  label: number | number[];
  /** Line of the source file, for messages. */
  line?: number;
}

export interface CollateOptions {
  padId: number;
  withTokenTypes: boolean;
  /** How labels become a tensor. */
  labels: 'class' | 'float' | 'float-vector' | 'per-token';
  /** Label value of padding positions for per-token labels. */
  ignoreIndex?: number;
  /** The tokenizer's padding side (XLNet pads on the left; default right). */
  paddingSide?: 'left' | 'right';
  /** Token type id of padding (the tokenizer's pad_token_type_id: XLNet's is 3; default 0). */
  padTypeId?: number;
}

/** Where example e's token 0 sits in a batch padded to T tokens. */
export const padOffset = (e: EncodedExample, T: number, o: Pick<CollateOptions, 'paddingSide'>): number =>
  o.paddingSide === 'left' ? T - e.inputIds.length : 0;

/**
 * Pads a batch to its longest sequence on the tokenizer's padding side with its pad token type,
 * as Hugging Face's DataCollatorWithPadding (tokenizer.pad) does; padding never changes results
 * because attention masks it and the loss ignores it.
 */
export function collateEncoded(examples: readonly EncodedExample[], o: CollateOptions): Batch {
  const T = Math.max(...examples.map((e) => e.inputIds.length));
  const B = examples.length;
  const ids = new Array<number>(B * T).fill(o.padId);
  const mask = new Array<number>(B * T).fill(0);
  const types = new Array<number>(B * T).fill(o.padTypeId ?? 0);
  examples.forEach((e, b) => {
    const at = b * T + padOffset(e, T, o);
    e.inputIds.forEach((id, t) => {
      ids[at + t] = id;
      mask[at + t] = 1;
      types[at + t] = e.tokenTypeIds[t] ?? 0;
    });
  });
  const batch: Record<string, ReturnType<typeof tensorOf>> = {
    input_ids: tensorOf('int64', [B, T], ids),
    attention_mask: tensorOf('int64', [B, T], mask),
  };
  if (o.withTokenTypes) batch.token_type_ids = tensorOf('int64', [B, T], types);
  switch (o.labels) {
    case 'class':
      batch.labels = tensorOf(
        'int64',
        [B],
        examples.map((e) => e.label as number),
      );
      break;
    case 'float':
      batch.labels = tensorOf(
        'float32',
        [B],
        examples.map((e) => e.label as number),
      );
      break;
    case 'float-vector': {
      const width = examples[0] ? (examples[0].label as number[]).length : 0;
      batch.labels = tensorOf(
        'float32',
        [B, width],
        examples.flatMap((e) => e.label as number[]),
      );
      break;
    }
    case 'per-token': {
      const labels = new Array<number>(B * T).fill(o.ignoreIndex ?? -100);
      examples.forEach((e, b) => {
        const at = b * T + padOffset(e, T, o);
        (e.label as number[]).forEach((l, t) => {
          labels[at + t] = l;
        });
      });
      batch.labels = tensorOf('int64', [B, T], labels);
      break;
    }
  }
  return batch;
}

/** Non-padding tokens of an example (throughput counts these). */
export const tokenCount = (e: EncodedExample): number => e.inputIds.length;
