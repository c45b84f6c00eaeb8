// Tokenization for fine-tuning: Hugging Face tokenizer.json with offsets, word ids, truncation,
// overflow windows and padding.
export type { Aligned } from './aligned.js';
export type { Encoding, SequenceTokens, TruncationStrategy } from './postprocess.js';
export {
  type BatchOptions,
  type EncodeOptions,
  type OverflowOptions,
  Tokenizer,
  type TokenVisitor,
} from './tokenizer.js';
