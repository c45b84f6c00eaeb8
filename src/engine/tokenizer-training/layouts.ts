// What each `--type` writes: the special tokens, the normalizer / pre-tokenizer the corpus is split
// with, and the tokenizer.json, tokenizer_config.json and special_tokens_map.json (and vocab.txt
// for WordPiece) of the trained model, laid out as the Hugging Face classes a user would otherwise
// train with: BertWordPieceTokenizer (with bert-base's TemplateProcessing), RoBERTa's byte-level
// BPE (the "train a language model from scratch" recipe), GPT-2's ByteLevelBPETokenizer, and
// SentencePieceUnigramTokenizer.
import type { TokenizerType } from '../../shared/tokenizer-types.js';
import type { Json } from '../tokenize/library.js';
import { BYTE_TO_CHAR } from '../tokenize/pretokenizers.js';
import { plainNormalizers, type SplitterOptions } from './pre-tokenize.js';

export { TOKENIZER_TYPES, type TokenizerType } from '../../shared/tokenizer-types.js';

export type TrainedModel =
  | { kind: 'WordPiece'; vocab: readonly string[] }
  | { kind: 'BPE'; vocab: readonly string[]; merges: readonly (readonly [string, string])[] }
  | { kind: 'Unigram'; pieces: readonly (readonly [string, number])[]; unkId: number };

export interface Layout {
  specialTokens: readonly string[];
  unkToken: string | null;
  splitter: SplitterOptions;
  /** The BPE trainer's extras (WordPiece and both BPE types). */
  limitAlphabet?: number;
  initialAlphabet?: readonly string[];
  continuingSubwordPrefix?: string;
  /** The files of the trained model, name -> text. */
  files(model: TrainedModel): Record<string, string>;
}

/** transformers' "no limit" model_max_length (int(1e30)). */
const NO_MAX_LENGTH = 1e30;

function addedTokens(specials: readonly string[], lstrip: ReadonlySet<string> = new Set()): Json[] {
  return specials.map((content, id) => ({
    id,
    content,
    single_word: false,
    lstrip: lstrip.has(content),
    rstrip: false,
    normalized: false,
    special: true,
  }));
}

function vocabObject(tokens: readonly string[]): Json {
  return Object.fromEntries(tokens.map((t, i) => [t, i]));
}

function templateProcessing(first: string, last: string, idOf: (t: string) => number): Json {
  const special = (id: string, typeId: number) => ({ SpecialToken: { id, type_id: typeId } });
  const seq = (id: 'A' | 'B', typeId: number) => ({ Sequence: { id, type_id: typeId } });
  return {
    type: 'TemplateProcessing',
    single: [special(first, 0), seq('A', 0), special(last, 0)],
    pair: [special(first, 0), seq('A', 0), special(last, 0), seq('B', 1), special(last, 1)],
    special_tokens: Object.fromEntries(
      [...new Set([first, last])].map((t) => [t, { id: t, ids: [idOf(t)], tokens: [t] }]),
    ),
  };
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** The special tokens of RoBERTa, which the unigram layout uses too. */
const ROBERTA_MAP = {
  bos_token: '<s>',
  eos_token: '</s>',
  unk_token: '<unk>',
  sep_token: '</s>',
  pad_token: '<pad>',
  cls_token: '<s>',
  mask_token: '<mask>',
};

/**
 * tokenizer.json, tokenizer_config.json (the class's settings, no length limit, the special
 * tokens) and special_tokens_map.json.
 */
function tokenizerFiles(tokenizer: Json, settings: Json, map: Json): Record<string, string> {
  return {
    'tokenizer.json': json(tokenizer),
    'tokenizer_config.json': json({ ...settings, model_max_length: NO_MAX_LENGTH, ...map }),
    'special_tokens_map.json': json(map),
  };
}

function tokenizerJson(parts: Json, added: Json[]): Json {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: null,
    post_processor: null,
    decoder: null,
    ...parts,
  };
}

function bpeModel(model: TrainedModel): Json {
  if (model.kind !== 'BPE') throw new Error(`expected a BPE model, got ${model.kind}`);
  return {
    type: 'BPE',
    dropout: null,
    unk_token: null,
    continuing_subword_prefix: null,
    end_of_word_suffix: null,
    fuse_unk: false,
    byte_fallback: false,
    ignore_merges: false,
    vocab: vocabObject(model.vocab),
    merges: model.merges.map(([a, b]) => [a, b]),
  };
}

const BYTE_LEVEL = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
const LOWERCASE = { type: 'Lowercase' };

function wordPiece(lowercase: boolean): Layout {
  const specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
  const normalizer = {
    type: 'BertNormalizer',
    clean_text: true,
    handle_chinese_chars: true,
    strip_accents: null,
    lowercase,
  };
  return {
    specialTokens: specials,
    unkToken: '[UNK]',
    splitter: {
      kind: 'bert',
      normalizer,
      plain: lowercase ? plainNormalizers.lowercase : plainNormalizers.identity,
    },
    limitAlphabet: 1000, // BertWordPieceTokenizer.train's default
    continuingSubwordPrefix: '##',
    files(model) {
      if (model.kind !== 'WordPiece') throw new Error(`expected a WordPiece model, got ${model.kind}`);
      const idOf = (t: string) => model.vocab.indexOf(t);
      const tokenizer = tokenizerJson(
        {
          normalizer,
          pre_tokenizer: { type: 'BertPreTokenizer' },
          post_processor: templateProcessing('[CLS]', '[SEP]', idOf),
          decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
          model: {
            type: 'WordPiece',
            unk_token: '[UNK]',
            continuing_subword_prefix: '##',
            max_input_chars_per_word: 100,
            vocab: vocabObject(model.vocab),
          },
        },
        addedTokens(specials),
      );
      const map = {
        unk_token: '[UNK]',
        sep_token: '[SEP]',
        pad_token: '[PAD]',
        cls_token: '[CLS]',
        mask_token: '[MASK]',
      };
      const settings = {
        tokenizer_class: 'BertTokenizer',
        do_lower_case: lowercase,
        tokenize_chinese_chars: true,
        strip_accents: null,
        clean_up_tokenization_spaces: true,
      };
      return { ...tokenizerFiles(tokenizer, settings, map), 'vocab.txt': `${model.vocab.join('\n')}\n` };
    },
  };
}

function byteLevelBpe(lowercase: boolean, roberta: boolean): Layout {
  const specials = roberta ? ['<s>', '<pad>', '</s>', '<unk>', '<mask>'] : ['<|endoftext|>'];
  const normalizer = lowercase ? LOWERCASE : null;
  return {
    specialTokens: specials,
    unkToken: roberta ? '<unk>' : '<|endoftext|>',
    splitter: {
      kind: 'byte-level',
      normalizer,
      plain: lowercase ? plainNormalizers.lowercase : plainNormalizers.identity,
    },
    initialAlphabet: BYTE_TO_CHAR, // ByteLevel.alphabet(): all 256 bytes, seen or not
    files(model) {
      const post = roberta
        ? { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0], trim_offsets: true, add_prefix_space: false }
        : { ...BYTE_LEVEL, trim_offsets: false };
      const tokenizer = tokenizerJson(
        { normalizer, pre_tokenizer: BYTE_LEVEL, post_processor: post, decoder: BYTE_LEVEL, model: bpeModel(model) },
        // RoBERTa's <mask> takes the space before it, as roberta-base's tokenizer.json says.
        addedTokens(specials, new Set(roberta ? ['<mask>'] : [])),
      );
      const map: Json = roberta
        ? ROBERTA_MAP
        : { bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', unk_token: '<|endoftext|>' };
      const settings = {
        tokenizer_class: roberta ? 'RobertaTokenizer' : 'GPT2Tokenizer',
        add_prefix_space: false,
        ...(roberta ? { trim_offsets: true } : {}),
        clean_up_tokenization_spaces: false,
      };
      return tokenizerFiles(tokenizer, settings, map);
    },
  };
}

/** Nmt (SentencePiece's text cleanup, which @huggingface/tokenizers lacks) as two Replace steps. */
function nmtAsReplace(): Json[] {
  const chr = (c: number) => String.fromCharCode(c);
  const removed = `[${chr(1)}-${chr(8)}${chr(0x0b)}${chr(0x0e)}-${chr(0x1f)}${chr(0x7f)}${chr(0x8f)}${chr(0x9f)}]`;
  const spaces = [0x09, 0x0a, 0x0c, 0x0d, 0x1680, 0x200b, 0x200c, 0x200d, 0x200e, 0x200f, 0x2028, 0x2029, 0x2581]
    .concat([0xfeff, 0xfffd])
    .map(chr)
    .join('');
  return [
    { type: 'Replace', pattern: { Regex: removed }, content: '' },
    { type: 'Replace', pattern: { Regex: `[${spaces}]` }, content: ' ' },
  ];
}

function unigram(lowercase: boolean): Layout {
  const specials = ['<pad>', '<unk>', '<s>', '</s>', '<mask>'];
  const normalizer = {
    type: 'Sequence',
    normalizers: [
      ...nmtAsReplace(),
      { type: 'NFKC' },
      { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' },
      ...(lowercase ? [LOWERCASE] : []),
    ],
  };
  const metaspace = { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'always', split: true };
  return {
    specialTokens: specials,
    unkToken: '<unk>',
    splitter: {
      kind: 'metaspace',
      normalizer,
      plain: lowercase ? plainNormalizers.sentencePieceLowercase : plainNormalizers.sentencePiece,
    },
    files(model) {
      if (model.kind !== 'Unigram') throw new Error(`expected a Unigram model, got ${model.kind}`);
      const idOf = (t: string) => model.pieces.findIndex(([p]) => p === t);
      const tokenizer = tokenizerJson(
        {
          normalizer,
          pre_tokenizer: metaspace,
          post_processor: templateProcessing('<s>', '</s>', idOf),
          decoder: metaspace,
          model: { type: 'Unigram', unk_id: model.unkId, vocab: model.pieces, byte_fallback: false },
        },
        addedTokens(specials),
      );
      return tokenizerFiles(
        tokenizer,
        { tokenizer_class: 'PreTrainedTokenizerFast', clean_up_tokenization_spaces: false },
        ROBERTA_MAP,
      );
    },
  };
}

export function layoutFor(type: TokenizerType, lowercase: boolean): Layout {
  switch (type) {
    case 'wordpiece':
      return wordPiece(lowercase);
    case 'bpe':
      return byteLevelBpe(lowercase, true);
    case 'byte-level-bpe':
      return byteLevelBpe(lowercase, false);
    case 'unigram':
      return unigram(lowercase);
  }
}
