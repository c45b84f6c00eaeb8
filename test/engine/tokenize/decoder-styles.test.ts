import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tokenizer } from '../../../src/engine/tokenize/index.js';
import { addedToken, BYTE_CHARS } from '../../fixtures/tokenizers.js';

/**
 * The tokenizer.json styles of today's decoder chat models, as tiny hand-made files: byte-level BPE
 * behind a Split pre-tokenizer with the model's regex (Llama 3 with ignore_merges, Qwen2 with NFC)
 * and SentencePiece-style BPE with byte fallback and fuse_unk behind Prepend + Replace (Llama 2)
 * or Metaspace (Mistral). Each is checked against @huggingface/tokenizers' own encode and decode,
 * and against ids written out by hand.
 */

const LLAMA3_REGEX =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const QWEN2_REGEX =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

const template = (bos: string, id: number) => ({
  type: 'TemplateProcessing',
  single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
  pair: [
    { SpecialToken: { id: bos, type_id: 0 } },
    { Sequence: { id: 'A', type_id: 0 } },
    { SpecialToken: { id: bos, type_id: 1 } },
    { Sequence: { id: 'B', type_id: 1 } },
  ],
  special_tokens: { [bos]: { id: bos, ids: [id], tokens: [bos] } },
});

const BYTE_MERGES = [
  ['Ġ', 'h'],
  ['e', 'l'],
  ['Ġh', 'el'],
  ['l', 'o'],
  ['Ġhel', 'lo'],
  ['Ġ', 'w'],
  ['o', 'r'],
  ['Ġw', 'or'],
  ['l', 'd'],
  ['Ġwor', 'ld'],
  ['1', '2'],
  ['12', '3'],
];

/** Llama 3 (Qwen2 with `qwen`): the byte alphabet, the merges' results, `Ġworld!` reachable only by ignore_merges. */
function byteLevelJson(qwen: boolean) {
  const vocab: Record<string, number> = {};
  for (const c of BYTE_CHARS) vocab[c] = Object.keys(vocab).length;
  for (const [a, b] of BYTE_MERGES) vocab[`${a}${b}`] = Object.keys(vocab).length;
  vocab.Ġthere = Object.keys(vocab).length;
  const n = Object.keys(vocab).length;
  const specials = qwen
    ? ['<|endoftext|>', '<|im_start|>', '<|im_end|>']
    : ['<|begin_of_text|>', '<|end_of_text|>', '<|eot_id|>'];
  return {
    json: {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: specials.map((s, i) => addedToken(n + i, s)),
      normalizer: qwen ? { type: 'NFC' } : null,
      pre_tokenizer: {
        type: 'Sequence',
        pretokenizers: [
          { type: 'Split', pattern: { Regex: qwen ? QWEN2_REGEX : LLAMA3_REGEX }, behavior: 'Isolated', invert: false },
          { type: 'ByteLevel', add_prefix_space: false, trim_offsets: !qwen, use_regex: false },
        ],
      },
      post_processor: qwen
        ? { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false }
        : {
            type: 'Sequence',
            processors: [
              { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
              template('<|begin_of_text|>', n),
            ],
          },
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: null,
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: false,
        byte_fallback: false,
        ignore_merges: !qwen,
        vocab,
        merges: BYTE_MERGES,
      },
    },
    vocab,
    n,
  };
}

const SP_MERGES = [
  ['▁', 'H'],
  ['e', 'l'],
  ['▁H', 'el'],
  ['l', 'o'],
  ['▁Hel', 'lo'],
  ['▁', 'w'],
  ['o', 'r'],
  ['▁w', 'or'],
  ['l', 'd'],
  ['▁wor', 'ld'],
];

/** Llama 2 (Prepend + Replace normalizer) or Mistral (Metaspace pre-tokenizer): <unk> <s> </s>, 256 byte tokens, pieces. */
function sentencePieceJson(style: 'llama2' | 'mistral', byteFallback = true) {
  const vocab: Record<string, number> = { '<unk>': 0, '<s>': 1, '</s>': 2 };
  if (byteFallback) {
    for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = 3 + b;
  }
  for (const c of ['▁', 'H', 'e', 'l', 'o', 'w', 'r', 'd', '!']) vocab[c] = Object.keys(vocab).length;
  for (const [a, b] of SP_MERGES) vocab[`${a}${b}`] = Object.keys(vocab).length;
  const llama2 = style === 'llama2';
  return {
    vocab,
    json: {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [addedToken(0, '<unk>'), addedToken(1, '<s>'), addedToken(2, '</s>')],
      normalizer: llama2
        ? {
            type: 'Sequence',
            normalizers: [
              { type: 'Prepend', prepend: '▁' },
              { type: 'Replace', pattern: { String: ' ' }, content: '▁' },
            ],
          }
        : null,
      pre_tokenizer: llama2 ? null : { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false },
      post_processor: template('<s>', 1),
      decoder: llama2
        ? {
            type: 'Sequence',
            decoders: [
              { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
              { type: 'ByteFallback' },
              { type: 'Fuse' },
              { type: 'Strip', content: ' ', start: 1, stop: 0 },
            ],
          }
        : { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false },
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: '<unk>',
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: true,
        byte_fallback: byteFallback,
        ignore_merges: false,
        vocab,
        merges: SP_MERGES.map(([a, b]) => `${a} ${b}`),
      },
    },
  };
}

const TEXTS = [
  'hello world',
  ' hello  world!\n\nthere',
  "It's 12345 hello's",
  'héllo wörld 🤗',
  '<|im_start|>hello<|im_end|>\n',
  '<|eot_id|> world',
  'Hello world',
  'Hello wé!!',
  '  Hello\tworld  ',
];

/** Our encode equals the library's, with and without special tokens, and decoding gives the text back. */
function crossCheck(tok: Tokenizer, lossless: boolean) {
  for (const text of TEXTS) {
    for (const addSpecialTokens of [true, false]) {
      const ours = tok.encode(text, null, { addSpecialTokens }).ids;
      const lib = tok.lib.encode(text, { add_special_tokens: addSpecialTokens }).ids;
      assert.deepEqual(ours, lib, `${JSON.stringify(text)} (special tokens ${addSpecialTokens})`);
    }
    const ids = tok.encode(text, null, { addSpecialTokens: false }).ids;
    assert.equal(tok.decode(ids), tok.lib.decode(ids), JSON.stringify(text));
    if (lossless) assert.equal(tok.decode(ids), text, JSON.stringify(text));
  }
}

test('Llama 3 byte-level BPE: Split regex + ByteLevel, ignore_merges, <|begin_of_text|> from the template', () => {
  const { json, vocab, n } = byteLevelJson(false);
  const tok = new Tokenizer(json, { bos_token: '<|begin_of_text|>', eos_token: '<|eot_id|>' });
  crossCheck(tok, true);
  assert.equal(tok.bosTokenId, n);
  // By hand: BOS; "hello" (no leading space, so no Ġh merge) is h, el, lo; " world" merges to
  // Ġworld; "!" is its byte.
  const id = (t: string) => vocab[t] as number;
  assert.deepEqual(tok.encode('hello world!').ids, [n, id('h'), id('el'), id('lo'), id('Ġworld'), id('!')]);
  // ignore_merges: "Ġthere" is in the vocabulary though no merge makes it: one token.
  assert.deepEqual(tok.encode(' there', null, { addSpecialTokens: false }).ids, [id('Ġthere')]);
  // Digits in groups of up to three: "12345" is "123" (merged) and "45" (no merge: 4, 5).
  assert.deepEqual(tok.encode('12345', null, { addSpecialTokens: false }).ids, [id('123'), id('4'), id('5')]);
  // Special tokens in text are single tokens.
  assert.deepEqual(tok.encode('<|eot_id|>', null, { addSpecialTokens: false }).ids, [n + 2]);
});

test('Qwen2 byte-level BPE: NFC, single digits, no BOS', () => {
  const { json, vocab, n } = byteLevelJson(true);
  const tok = new Tokenizer(json, { eos_token: '<|im_end|>', pad_token: '<|endoftext|>' });
  crossCheck(tok, false);
  const id = (t: string) => vocab[t] as number;
  assert.deepEqual(tok.encode('123').ids, [id('1'), id('2'), id('3')]);
  assert.deepEqual(tok.encode('<|im_start|>hello').ids, [n + 1, id('h'), id('el'), id('lo')]);
  // NFC: e + combining acute is é, the bytes C3 A9.
  assert.deepEqual(tok.encode('e\u0301').ids, tok.encode('é').ids);
});

test('Llama 2 SentencePiece BPE: Prepend + Replace, byte fallback, <s> from the template', () => {
  const { json, vocab } = sentencePieceJson('llama2');
  const tok = new Tokenizer(json, { bos_token: '<s>', eos_token: '</s>', unk_token: '<unk>' });
  crossCheck(tok, false);
  const id = (t: string) => vocab[t] as number;
  // By hand: "▁Hello▁world" merges to ▁Hello ▁world; é (C3 A9) is not a piece: its bytes.
  assert.deepEqual(tok.encode('Hello world').ids, [1, id('▁Hello'), id('▁world')]);
  assert.deepEqual(tok.encode('Hello wé!', null, { addSpecialTokens: false }).ids, [
    id('▁Hello'),
    id('▁w'),
    id('<0xC3>'),
    id('<0xA9>'),
    id('!'),
  ]);
  assert.equal(tok.decode(tok.encode('Hello wé!').ids, true), 'Hello wé!');
});

test('Mistral SentencePiece BPE: Metaspace, and fuse_unk without byte tokens', () => {
  const { json, vocab } = sentencePieceJson('mistral');
  const tok = new Tokenizer(json, { bos_token: '<s>', eos_token: '</s>', unk_token: '<unk>' });
  crossCheck(tok, false);
  const id = (t: string) => vocab[t] as number;
  assert.deepEqual(tok.encode('Hello world').ids, [1, id('▁Hello'), id('▁world')]);
  const bare = sentencePieceJson('mistral', false);
  const noBytes = new Tokenizer(bare.json, { bos_token: '<s>', unk_token: '<unk>' });
  crossCheck(noBytes, false);
  // "éü" has no piece and no byte tokens: one fused <unk>.
  assert.deepEqual(noBytes.encode('Hello éü', null, { addSpecialTokens: false }).ids, [
    bare.vocab['▁Hello'] as number,
    bare.vocab['▁'] as number,
    0,
  ]);
});
