// Properties of the fixture tokenizers on random text (fast-check), chosen to be true of Hugging
// Face's tokenizers themselves: encode never throws and its offsets index into the text, byte-level
// BPE decodes back to the exact text, and WordPiece decodes to the normalized text modulo [UNK].
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Encoding, Tokenizer } from '../../../src/engine/tokenize/tokenizer.js';
import { TRAINING_SENTENCES } from '../../fixtures/tokenizers.js';
import { fuzz } from '../../fuzz.js';
import { FIXTURES, type FixtureName, fixture, HARD_TEXTS } from './setup.js';

const RUNS = 400;

/** Every special / added token the fixtures know: random text stays clear of them (see below). */
const ADDED = [
  '[UNK]',
  '[CLS]',
  '[SEP]',
  '[PAD]',
  '[MASK]',
  '<s>',
  '</s>',
  '<pad>',
  '<unk>',
  '<mask>',
  '<|endoftext|>',
];

/**
 * Text the tokenizers meet and text they never saw: words of the fixtures' training text (so that
 * not everything is [UNK]), any graphemes, any code points (controls, unassigned, astral), lone
 * surrogates (JSON.parse('"\\ud800"') makes them), odd spaces, and the hand-picked hard cases.
 */
const WORDS = [...new Set(TRAINING_SENTENCES.join(' ').split(/\s+/u))];
const piece = fc.oneof(
  { arbitrary: fc.constantFrom(...WORDS, 'do', 'not', "n't", "'s", '...', '--'), weight: 5 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }), weight: 2 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 4 }), weight: 2 },
  { arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)), weight: 1 },
  {
    arbitrary: fc.constantFrom(' ', '  ', '\t', '\n', '\r\n', '\u00a0', '\u3000', '\u200b', '\u0301', '\ufeff'),
    weight: 3,
  },
  { arbitrary: fc.constantFrom(...HARD_TEXTS), weight: 1 },
);
const text = fc
  .array(piece, { maxLength: 16 })
  .map((pieces) => pieces.join(''))
  .filter((s) => !ADDED.some((t) => s.includes(t)));

/** What UTF-8 does to a JS string: each lone surrogate becomes U+FFFD. */
const wellFormed = (s: string) => Buffer.from(s, 'utf8').toString('utf8');

/** Offsets of sequence `seq` index into `source`, in order; special tokens carry [0, 0]. */
function checkOffsets(tok: Tokenizer, e: Encoding, source: string, seq: 0 | 1): void {
  let lastStart = 0;
  for (let i = 0; i < e.ids.length; i++) {
    const [s, end] = e.offsets[i] as [number, number];
    const id = e.ids[i] as number;
    assert.ok(Number.isInteger(id) && id >= 0 && id < tok.vocabSize, `token ${i}: id ${id}`);
    assert.equal(e.tokens[i], tok.idToToken(id), `token ${i}: token text of id ${id}`);
    if (e.sequenceIds[i] !== seq) continue;
    assert.ok(Number.isInteger(s) && Number.isInteger(end), `token ${i}: offsets [${s}, ${end}]`);
    assert.ok(0 <= s && s <= end && end <= source.length, `token ${i}: [${s}, ${end}] outside 0..${source.length}`);
    assert.ok(s >= lastStart, `token ${i}: starts at ${s}, before the previous token's ${lastStart}`);
    lastStart = s;
  }
}

for (const name of FIXTURES) {
  test(`${name}: encode never throws; ids are the vocabulary's and offsets index into the text`, () => {
    const tok = fixture(name);
    fuzz(
      `${name} encode (single)`,
      text,
      (x) => {
        const e = tok.encode(x);
        assert.equal(e.ids.length, e.offsets.length);
        checkOffsets(tok, e, x, 0);
        return true;
      },
      { numRuns: RUNS },
    );
    fuzz(
      `${name} encode (pair, truncated)`,
      fc.tuple(text, text, fc.integer({ min: 4, max: 24 })),
      ([a, b, max]) => {
        const e = tok.encode(a, b, { maxLength: max });
        assert.ok(e.ids.length <= max, `${e.ids.length} tokens > maxLength ${max}`);
        checkOffsets(tok, e, a, 0);
        checkOffsets(tok, e, b, 1);
        return true;
      },
      { numRuns: RUNS },
    );
  });
}

/**
 * transformers' clean_up_tokenization, which decode applies when tokenizer_config.json says
 * clean_up_tokenization_spaces: true (GPT-2's and RoBERTa's configs did for years; the fixtures
 * do): " !" decodes to "!". The byte-level decoder itself is lossless.
 */
const cleanUp = (s: string) =>
  s
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");

for (const name of ['gpt2', 'roberta'] as const) {
  test(`${name} (byte-level BPE): decode(encode(x)) is x for any string, up to the configured clean-up`, () => {
    const tok = fixture(name);
    fuzz(
      `${name} decode(encode(x)) == x`,
      text,
      (x) => {
        const ids = tok.encode(x, null, { addSpecialTokens: false }).ids;
        // Lone surrogates come back as U+FFFD, as UTF-8 has them.
        // (The library's decode refuses [] where the Rust crate returns "": Tokenizer.decode guards it.)
        const raw = ids.length === 0 ? '' : tok.lib.decode(ids, { clean_up_tokenization_spaces: false });
        assert.equal(raw, wellFormed(x));
        assert.equal(tok.decode(ids), cleanUp(wellFormed(x)));
        return true;
      },
      { numRuns: RUNS },
    );
  });
}

/**
 * BertNormalizer, written from Hugging Face's definition (tokenizers/src/normalizers/bert.rs):
 * clean_text drops NUL, U+FFFD and "control" characters (Unicode category C, but \t \n \r are
 * whitespace) and makes whitespace a space; handle_chinese_chars spaces out CJK ideographs;
 * strip_accents is NFD without nonspacing marks; then lowercase.
 */
const CJK =
  /[\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff\u{20000}-\u{2a6df}\u{2a700}-\u{2b73f}\u{2b740}-\u{2b81f}\u{2b820}-\u{2ceaf}\u{2f800}-\u{2fa1f}]/gu;
function bertNormalize(x: string, lowercase: boolean): string {
  let t = [...x]
    .filter((c) => c !== '\0' && c !== '\ufffd' && (/[\t\n\r]/u.test(c) || !/\p{C}/u.test(c)))
    .map((c) => (/[\t\n\r]|\p{White_Space}/u.test(c) ? ' ' : c))
    .join('')
    .replace(CJK, (c) => ` ${c} `);
  if (lowercase)
    t = t
      .normalize('NFD')
      .replace(/\p{Mn}/gu, '')
      .toLowerCase();
  return t;
}

/** BertPreTokenizer: split on whitespace, each punctuation character (ASCII or \p{P}) a word. */
const bertWords = (normalized: string) => normalized.match(/[!-/:-@[-`{-~]|\p{P}|[^\s!-/:-@[-`{-~\p{P}]+/gu) ?? [];

/**
 * The WordPiece decoder joins words with spaces, glues ## pieces, and its `cleanup` removes spaces
 * before punctuation and contractions, so the two sides are compared without whitespace. Each
 * [UNK] stands for a whole word the vocabulary cannot spell (or one over max_input_chars_per_word).
 * The Rust crate's cleanup also turns " do not" into " don't" (the JS library's does not): a
 * decoded "don't" may stand for "donot".
 */
const noSpace = (s: string) => s.replace(/\s+/gu, '');
const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replaceAll("don't", "don(?:'t|ot)");
const decodedPattern = (decoded: string) => new RegExp(`^${decoded.split('[UNK]').map(literal).join('.+?')}$`, 'su');

/**
 * Without unassigned code points: Hugging Face's Rust BertNormalizer drops them with the controls
 * (its is_control is "Cc, Cf, Cn or Co", from the unicode_categories tables of its own Unicode
 * version), while @huggingface/tokenizers, and so the engine, keeps them, as [UNK].
 */
const assignedText = text.filter((x) => !/\p{Cn}/u.test(x));

for (const [name, lowercase] of [
  ['bert', true],
  ['bert-cased', false],
] as [FixtureName, boolean][]) {
  test(`${name} (WordPiece): decode(encode(x)) is the normalized text, modulo [UNK]`, () => {
    const tok = fixture(name);
    fuzz(
      `${name} decode(encode(x)) ~ normalize(x)`,
      assignedText,
      (x) => {
        const decoded = noSpace(tok.decode(tok.encode(x, null, { addSpecialTokens: false }).ids));
        const expected = noSpace(bertWords(bertNormalize(x, lowercase)).join(' '));
        assert.match(expected, decodedPattern(decoded), `decoded ${JSON.stringify(decoded)}`);
        return true;
      },
      { numRuns: RUNS },
    );
  });
}
