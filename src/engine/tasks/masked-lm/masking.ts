import { tensorOf } from '../../graph/types.js';
import type { Batch } from '../../step/batch.js';
import { counterSeed, rng } from '../../util/random.js';

/**
 * The masking of transformers' DataCollatorForLanguageModeling (mlm=True), drawn from a
 * counter-based seed rather than a global generator: each row of a batch gets its own stream,
 * seeded by (run seed, epoch, batch index, row), so a resumed run draws exactly the masks the
 * uninterrupted run would have, whatever happened before.
 */
export interface MlmExample {
  inputIds: number[];
  /** 1 where the tokenizer added a special token ([CLS], [SEP], <s>, ...): never selected. */
  specialMask: number[];
  /** The word of each token (wordIdsFromOffsets); null for specials. Distinct across the texts of a block. */
  wordIds: (number | null)[];
  /** Line of the source file (line_by_line), for messages. */
  line?: number;
}

export interface MaskingOptions {
  /** data.mlm_probability: the chance that a non-special token (or word) is selected. */
  probability: number;
  maskId: number;
  /** Random replacements are drawn from ids [0, randomVocab), as torch.randint(len(tokenizer)). */
  randomVocab: number;
  /** data.whole_word_masking: a word is selected, and replaced the same way, as a whole. */
  wholeWord: boolean;
}

/** Where a batch sits in the run: with the run seed, it decides the batch's masks. */
export interface BatchPosition {
  epoch: number;
  batch: number;
}

/** PyTorch CrossEntropyLoss's ignore index: positions that are not predicted. */
export const MLM_IGNORE_INDEX = -100;

/**
 * Masks one example as torch_mask_tokens does: each non-special token is selected with
 * `probability` (with whole-word masking, the first token of each word draws, and the selection
 * spreads to the whole word); each selected token becomes the mask token with probability 0.8, a
 * uniformly random id with 0.1, and stays with 0.1. Labels hold the original id at the selected
 * positions and -100 elsewhere.
 */
export function maskExample(
  e: MlmExample,
  rand: () => number,
  o: MaskingOptions,
): { inputIds: number[]; labels: number[] } {
  const inputIds = [...e.inputIds];
  const labels = new Array<number>(inputIds.length).fill(MLM_IGNORE_INDEX);
  let word: number | null = null;
  let wordSelected = false;
  for (let t = 0; t < inputIds.length; t++) {
    if (e.specialMask[t] === 1) continue;
    const w = e.wordIds[t] ?? null;
    let selected: boolean;
    if (o.wholeWord && w !== null) {
      if (w !== word) {
        word = w;
        wordSelected = rand() < o.probability;
      }
      selected = wordSelected;
    } else {
      selected = rand() < o.probability;
    }
    if (!selected) continue;
    labels[t] = e.inputIds[t] as number;
    if (rand() < 0.8) inputIds[t] = o.maskId;
    else if (rand() < 0.5) inputIds[t] = Math.floor(rand() * o.randomVocab);
  }
  return { inputIds, labels };
}

export interface MlmCollateOptions extends MaskingOptions {
  padId: number;
  withTokenTypes: boolean;
  seed: number;
}

/** A right-padded batch with its masks drawn for `at` (padding is never selected: labels -100). */
export function collateMlm(examples: readonly MlmExample[], at: BatchPosition, o: MlmCollateOptions): Batch {
  const T = Math.max(1, ...examples.map((e) => e.inputIds.length));
  const B = examples.length;
  const ids = new Array<number>(B * T).fill(o.padId);
  const mask = new Array<number>(B * T).fill(0);
  const labels = new Array<number>(B * T).fill(MLM_IGNORE_INDEX);
  examples.forEach((e, b) => {
    const masked = maskExample(e, rng(counterSeed(o.seed, at.epoch, at.batch, b)), o);
    masked.inputIds.forEach((id, t) => {
      ids[b * T + t] = id;
      mask[b * T + t] = 1;
      labels[b * T + t] = masked.labels[t] as number;
    });
  });
  const batch: Record<string, ReturnType<typeof tensorOf>> = {
    input_ids: tensorOf('int64', [B, T], ids),
    attention_mask: tensorOf('int64', [B, T], mask),
    labels: tensorOf('int64', [B, T], labels),
  };
  if (o.withTokenTypes) batch.token_type_ids = tensorOf('int64', [B, T], new Array<number>(B * T).fill(0));
  return batch;
}
