/**
 * The tokenizer types `finetune tokenizer train --type` trains, shared by the engine (which
 * writes each layout, src/engine/tokenizer-training/layouts.ts) and the extension's "Train
 * Tokenizer" command (which offers them).
 */
export const TOKENIZER_TYPES = ['wordpiece', 'bpe', 'byte-level-bpe', 'unigram'] as const;
export type TokenizerType = (typeof TOKENIZER_TYPES)[number];

/** One line per type: the models it suits and its special tokens. */
export const TOKENIZER_TYPE_DETAILS: Readonly<Record<TokenizerType, string>> = {
  wordpiece: 'BERT-style WordPiece ("##" pieces) with [PAD] [UNK] [CLS] [SEP] [MASK]',
  bpe: 'RoBERTa-style byte-level BPE with <s> <pad> </s> <unk> <mask>',
  'byte-level-bpe': 'GPT-2-style byte-level BPE with <|endoftext|>',
  unigram: 'SentencePiece Unigram (▁ word starts) with <pad> <unk> <s> </s> <mask>',
};
