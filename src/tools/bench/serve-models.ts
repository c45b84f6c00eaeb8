import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeSafetensors } from '../../engine/io/safetensors.js';
import { encoderBaseSpecs } from '../../engine/models/encoder.js';
import { HfConfigReader } from '../../engine/models/hf-config.js';
import { initWeights } from '../../engine/models/init.js';
import { decoderFamilyOf, encoderFamilyOf } from '../../engine/models/registry.js';
import { encoderRecipe } from '../../engine/tasks/encoder/recipe.js';
import { Tokenizer } from '../../engine/tokenize/index.js';
import { exportFinal } from '../../engine/train/final-export.js';
import { applyDefaults } from '../../shared/config-validate.js';

/**
 * The random-weight model folders `--only serve` serves, written as fine-tuned folders are: a
 * BERT classifier at the throughput suite's h256 shape (4 layers, 4 heads, intermediate 1024,
 * vocab 30522) and a GPT-2-small-shaped causal LM (12 layers, 768 hidden, 12 heads, vocab 50257).
 * Their tokenizers are synthetic but real tokenizer.json files: WordPiece over the words
 * `w5 ... w30521` (one token each, so a text of n words is n + 2 tokens), and byte-level BPE
 * with GPT-2's byte alphabet and no merges (one token per byte).
 */
export const CLASSIFIER = { layers: 4, hidden: 256, heads: 4, intermediate: 1024, vocab: 30522 };
export const GPT2 = { layers: 12, hidden: 768, heads: 12, vocab: 50257, positions: 1024 };
const BERT_SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

/** An added special token of a tokenizer.json, as `tokenizers` writes it. */
export const special = (id: number, content: string) => ({
  id,
  content,
  single_word: false,
  lstrip: false,
  rstrip: false,
  normalized: false,
  special: true,
});

/** The text of `words` vocabulary words starting at `seed` (deterministic, no [UNK]). */
export function classifierText(words: number, seed: number): string {
  return Array.from(
    { length: words },
    (_, i) => `w${BERT_SPECIALS.length + ((seed * 7919 + i * 104729) % (CLASSIFIER.vocab - 5))}`,
  ).join(' ');
}

function writeWordPiece(dir: string): void {
  const vocab: Record<string, number> = {};
  BERT_SPECIALS.forEach((t, i) => {
    vocab[t] = i;
  });
  for (let i = BERT_SPECIALS.length; i < CLASSIFIER.vocab; i++) vocab[`w${i}`] = i;
  const sp = (id: string) => ({ SpecialToken: { id, type_id: 0 } });
  const tokenizer = {
    version: '1.0',
    added_tokens: BERT_SPECIALS.map((t, i) => special(i, t)),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [sp('[CLS]'), { Sequence: { id: 'A', type_id: 0 } }, sp('[SEP]')],
      pair: [
        sp('[CLS]'),
        { Sequence: { id: 'A', type_id: 0 } },
        sp('[SEP]'),
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab,
    },
  };
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
  const settings = {
    cls_token: '[CLS]',
    sep_token: '[SEP]',
    pad_token: '[PAD]',
    unk_token: '[UNK]',
    mask_token: '[MASK]',
    do_lower_case: true,
    model_max_length: 512,
  };
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(settings));
}

/** A BERT config.json (BertForMaskedLM, transformers' defaults besides the shape). */
export function bertConfig(shape: {
  vocab: number;
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
}): Record<string, unknown> {
  return {
    model_type: 'bert',
    architectures: ['BertForMaskedLM'],
    vocab_size: shape.vocab,
    hidden_size: shape.hidden,
    num_hidden_layers: shape.layers,
    num_attention_heads: shape.heads,
    intermediate_size: shape.intermediate,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.1,
    attention_probs_dropout_prob: 0.1,
    max_position_embeddings: 512,
    type_vocab_size: 2,
    initializer_range: 0.02,
    layer_norm_eps: 1e-12,
    pad_token_id: 0,
  };
}

/** A fine-tuned-looking BertForSequenceClassification folder (random weights, labels NEG/POS) at `dir`/final. */
export function writeBenchClassifier(dir: string): string {
  const base = join(dir, 'base');
  mkdirSync(base, { recursive: true });
  writeWordPiece(base);
  const config = bertConfig(CLASSIFIER);
  writeFileSync(join(base, 'config.json'), JSON.stringify(config));
  const reader = new HfConfigReader(config, `${base}/config.json`);
  writeSafetensors(
    join(base, 'model.safetensors'),
    initWeights(encoderBaseSpecs(encoderFamilyOf(reader).arch(reader)), 0),
  );
  const labels = ['NEG', 'POS'];
  const recipe = encoderRecipe({
    config: applyDefaults({ model: base, task: 'text-classification', data: { train: '', max_length: 512 } }),
    modelDir: base,
    tokenizer: Tokenizer.fromFolder(base),
    labelSet: { labels, ids: new Map(labels.map((l, i) => [l, i])), order: 'model-config' },
    seed: 0,
  });
  const final = join(dir, 'final');
  exportFinal(final, { recipe, weights: recipe.weights, modelDir: base, metrics: undefined });
  return final;
}

/** GPT-2's bytes_to_unicode: the printable character standing for each byte. */
function byteAlphabet(): string[] {
  const printable = [
    ...Array.from({ length: 94 }, (_, i) => 33 + i),
    ...Array.from({ length: 12 }, (_, i) => 161 + i),
    ...Array.from({ length: 82 }, (_, i) => 174 + i),
  ];
  const chars = new Array<string>(256);
  let n = 0;
  for (let b = 0; b < 256; b++) chars[b] = String.fromCodePoint(printable.includes(b) ? b : 256 + n++);
  return chars;
}

/** A GPT2LMHeadModel folder at GPT-2 small's shape with random weights. */
export function writeBenchGpt2(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const eos = '<|endoftext|>';
  const vocab: Record<string, number> = {};
  byteAlphabet().forEach((c, i) => {
    vocab[c] = i;
  });
  // Ids no merge reaches: the vocabulary is GPT-2's size so the embedding and head are too.
  for (let i = 256; i < GPT2.vocab - 1; i++) vocab[`tok${i}`] = i;
  vocab[eos] = GPT2.vocab - 1;
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  const tokenizer = {
    version: '1.0',
    added_tokens: [{ ...special(GPT2.vocab - 1, eos), normalized: true }],
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: byteLevel,
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: [],
    },
  };
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
  writeFileSync(
    join(dir, 'tokenizer_config.json'),
    JSON.stringify({ bos_token: eos, eos_token: eos, unk_token: eos, model_max_length: GPT2.positions }),
  );
  const config = {
    model_type: 'gpt2',
    architectures: ['GPT2LMHeadModel'],
    vocab_size: GPT2.vocab,
    n_layer: GPT2.layers,
    n_embd: GPT2.hidden,
    n_head: GPT2.heads,
    n_positions: GPT2.positions,
    n_ctx: GPT2.positions,
    activation_function: 'gelu_new',
    layer_norm_epsilon: 1e-5,
    initializer_range: 0.02,
    bos_token_id: GPT2.vocab - 1,
    eos_token_id: GPT2.vocab - 1,
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  const reader = new HfConfigReader(config, `${dir}/config.json`);
  writeSafetensors(join(dir, 'model.safetensors'), initWeights(decoderFamilyOf(reader).decoder(reader).params, 0));
  return dir;
}
