// The aligned normalizers and pre-tokenizers against the library's own, config by config, and the
// alignment they keep.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Aligned, identity, lowercase, spanOf, unicodeNormalize } from '../../../src/engine/tokenize/aligned.js';
import { createLibNormalizer, createLibPreTokenizer, type Json } from '../../../src/engine/tokenize/library.js';
import { buildNormalizer } from '../../../src/engine/tokenize/normalizers.js';
import { buildPreTokenizer } from '../../../src/engine/tokenize/pretokenizers.js';
import { testSeed } from '../helpers/random.js';
import { allTexts } from './setup.js';

const seed = testSeed();
const texts = [
  ...allTexts(seed, 20),
  'ＡＢＣ～ｘ',
  'Ǆ ǅ ǆ ﬀ ㈱ ½',
  'ᄀ\u1161ᆨ 한국어',
  "``quoted'' text",
  ' \u3000 wide space\u2581',
];

/** Spans must stay inside the original and never go backwards. */
function checkAlignment(a: Aligned, original: string, what: string): void {
  assert.equal(a.starts.length, a.text.length, what);
  assert.equal(a.ends.length, a.text.length, what);
  let last = 0;
  for (let i = 0; i < a.text.length; i++) {
    const [s, e] = [a.starts[i] as number, a.ends[i] as number];
    assert.ok(s >= 0 && s <= e && e <= original.length, `${what}: unit ${i} [${s}, ${e}]`);
    assert.ok(s >= last, `${what}: unit ${i} goes backwards`);
    last = s;
  }
}

const NORMALIZERS: Json[] = [
  { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
  { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: false },
  { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: false, strip_accents: false, lowercase: true },
  { type: 'BertNormalizer', clean_text: false, handle_chinese_chars: true, strip_accents: true, lowercase: false },
  { type: 'NFC' },
  { type: 'NFD' },
  { type: 'NFKC' },
  { type: 'NFKD' },
  { type: 'Lowercase' },
  { type: 'StripAccents' },
  { type: 'Strip', strip_left: true, strip_right: true },
  { type: 'Strip', strip_left: false, strip_right: true },
  { type: 'Replace', pattern: { String: '``' }, content: '"' },
  { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' },
  { type: 'Prepend', prepend: '\u2581' },
  { type: 'Precompiled', precompiled_charsmap: '' },
  {
    type: 'Sequence',
    normalizers: [
      { type: 'NFKD' },
      { type: 'StripAccents' },
      { type: 'Lowercase' },
      { type: 'Replace', pattern: { String: ' ' }, content: '\u2581' },
    ],
  },
];

test("aligned normalizers produce the library normalizers' text and keep a valid alignment", () => {
  for (const config of NORMALIZERS) {
    const ours = buildNormalizer(config);
    const lib = createLibNormalizer(config);
    assert.ok(ours);
    for (const text of texts) {
      if (text.length === 0 && config.type === 'Prepend') continue; // the library prepends to '' too
      const what = `${JSON.stringify(config)} on ${JSON.stringify(text)}`;
      const out = ours(identity(text));
      // The library tests BERT's CJK ranges per UTF-16 unit and misses supplementary-plane ideographs; no text here has one.
      assert.equal(out.text, lib.normalize(text), what);
      checkAlignment(out, text, what);
    }
  }
});

const PRE_TOKENIZERS: Json[] = [
  { type: 'BertPreTokenizer' },
  { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
  { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
  { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
  { type: 'WhitespaceSplit' },
  { type: 'Digits', individual_digits: true },
  { type: 'Digits', individual_digits: false },
  { type: 'Punctuation', behavior: 'Contiguous' },
  { type: 'Split', pattern: { Regex: '\\s+' }, behavior: 'Isolated', invert: false },
  {
    type: 'Sequence',
    pretokenizers: [
      {
        type: 'Split',
        pattern: { Regex: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}" },
        behavior: 'Isolated',
        invert: false,
      },
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
    ],
  },
];

test("aligned pre-tokenizers split into the library's words", () => {
  for (const config of PRE_TOKENIZERS) {
    const ours = buildPreTokenizer(config);
    const lib = createLibPreTokenizer(config);
    assert.ok(ours);
    for (const text of texts) {
      // Digits: the library knows only ASCII digits, the Rust crate (and we) every numeric character.
      if (config.type === 'Digits' && /[^\P{N}0-9]/u.test(text)) continue;
      const what = `${JSON.stringify(config)} on ${JSON.stringify(text)}`;
      const words = ours([identity(text)], { sectionIndex: 0 });
      assert.deepEqual(
        words.map((w) => w.text),
        lib.pre_tokenize_text(text, { section_index: 0 }),
        what,
      );
      for (const w of words) checkAlignment(w, text, what);
    }
  }
  // Metaspace: the library keeps one string, the Rust crate (and we) split before each ▁.
  const meta = { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'always', split: true };
  const metaspace = buildPreTokenizer(meta);
  assert.ok(metaspace);
  for (const text of texts) {
    const words: string[] = metaspace([identity(text)], { sectionIndex: 0 }).map((w) => w.text);
    assert.equal(words.join(''), createLibPreTokenizer(meta).pre_tokenize_text(text, { section_index: 0 }).join(''));
    assert.ok(words.slice(1).every((w) => w.startsWith('\u2581')));
  }
});

test('unicode normalization maps composed and decomposed characters to their whole source', () => {
  const nfc = unicodeNormalize(identity('Cafe\u0301!'), 'NFC');
  assert.equal(nfc.text, 'Café!');
  assert.deepEqual(spanOf(nfc, 3, 4), [3, 5]);
  assert.deepEqual(spanOf(nfc, 4, 5), [5, 6]);
  const nfd = unicodeNormalize(identity('é!'), 'NFD');
  assert.equal(nfd.text, 'e\u0301!');
  assert.deepEqual(
    [spanOf(nfd, 0, 1), spanOf(nfd, 1, 2)],
    [
      [0, 1],
      [0, 1],
    ],
  );
  const hangul = unicodeNormalize(identity('\u1100\u1161\u11a8x'), 'NFC');
  assert.equal(hangul.text, '각x');
  assert.deepEqual(spanOf(hangul, 0, 1), [0, 3]);
  const ligature = unicodeNormalize(identity('ﬁne'), 'NFKC');
  assert.equal(ligature.text, 'fine');
  assert.deepEqual(
    [spanOf(ligature, 0, 1), spanOf(ligature, 1, 2), spanOf(ligature, 2, 3)],
    [
      [0, 1],
      [0, 1],
      [1, 2],
    ],
  );
});

test('lowercasing keeps alignment when a character grows and follows context rules', () => {
  const dotted = lowercase(identity('İx'));
  assert.equal(dotted.text, 'i\u0307x');
  assert.deepEqual(spanOf(dotted, 2, 3), [1, 2]);
  const sigma = lowercase(identity('ΟΔΟΣ ΣΑ'));
  assert.equal(sigma.text, 'ΟΔΟΣ ΣΑ'.toLowerCase());
  assert.equal(sigma.text[3], 'ς');
});
