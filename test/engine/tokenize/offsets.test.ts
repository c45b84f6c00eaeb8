// Offsets must point at the original characters of each token: slicing the input at a token's
// offsets gives the token's text once the tokenizer's normalization is applied to the slice.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Encoding, Tokenizer } from '../../../src/engine/tokenize/tokenizer.js';
import { Tokenizer as TokenizerClass } from '../../../src/engine/tokenize/tokenizer.js';
import { testSeed } from '../helpers/random.js';
import { allTexts, FIXTURES, type FixtureName, fixture, writeFixture } from './setup.js';

const seed = testSeed();

/** GPT-2 byte characters back to bytes (the table is rebuilt here, independently). */
const CHAR_TO_BYTE = (() => {
  const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  const map = new Map<string, number>();
  let extra = 0;
  for (let b = 0; b < 256; b++) map.set(String.fromCodePoint(printable(b) ? b : 256 + extra++), b);
  return map;
})();
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Removes what BertNormalizer's clean_text drops (controls, format characters, U+FFFD). */
const clean = (s: string) => s.replace(/[\p{Cc}\p{Cf}\p{Co}\p{Cs}\uFFFD]/gu, '');

/** The text a token should have, given the original slice its offsets select. */
function expectedToken(name: FixtureName, slice: string): string {
  switch (name) {
    case 'bert':
      return clean(slice)
        .toLowerCase()
        .normalize('NFD')
        .replace(/\p{Mn}/gu, '');
    case 'bert-cased':
      return clean(slice);
    case 'albert':
      return slice.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().replace(/\s+/gu, '\u2581');
    default:
      return slice;
  }
}

/** Checks one sequence's tokens against the original text they came from. */
function checkTokens(name: FixtureName, tok: Tokenizer, e: Encoding, text: string, seq: 0 | 1): void {
  let lastStart = 0;
  for (let i = 0; i < e.ids.length; i++) {
    if (e.sequenceIds[i] !== seq) continue;
    const [s, end] = e.offsets[i] as [number, number];
    const what = `${name} ${JSON.stringify(text)} token ${i} ${JSON.stringify(e.tokens[i])} at [${s}, ${end}]`;
    assert.ok(s >= 0 && s <= end && end <= text.length, what);
    assert.ok(s >= lastStart, `${what}: offsets go backwards`);
    lastStart = s;
    const slice = text.slice(s, end);
    const token = e.tokens[i] as string;
    if (e.ids[i] === tok.unkTokenId) {
      assert.ok(slice.length > 0 && !/\s/u.test(slice), `${what}: unknown token covers ${JSON.stringify(slice)}`);
      continue;
    }
    if (tok.lib.get_added_tokens_decoder().get(e.ids[i] as number)?.content === token) {
      assert.equal(slice, token, what);
      continue;
    }
    if (name === 'roberta' || name === 'gpt2') {
      const bytes = Uint8Array.from([...token], (c) => CHAR_TO_BYTE.get(c) as number);
      let decoded: string | null = null;
      try {
        decoded = strictUtf8.decode(bytes);
      } catch {
        // Part of a multi-byte character: the offsets take in that whole character, so the
        // slice's bytes contain the token's, and would not without its first or last character.
        const trimmed = name === 'roberta' ? bytes.filter((b, k) => !(b === 32 && k === 0)) : bytes;
        const has = (s: string) => `,${Array.from(utf8.encode(s)).join(',')},`.includes(`,${trimmed.join(',')},`);
        const cps = [...slice];
        assert.ok(has(slice), what);
        assert.ok(!has(cps.slice(1).join('')) && !has(cps.slice(0, -1).join('')), `${what}: not minimal`);
        continue;
      }
      // RoBERTa trims offsets to the token without its spaces; GPT-2 keeps them.
      assert.equal(slice, name === 'roberta' ? decoded.replace(/^ +| +$/gu, '') : decoded, what);
      continue;
    }
    const plain = name === 'albert' ? token : token.replace(/^##/u, '');
    // A Metaspace ▁ prepended to a text owns no character.
    const want = name === 'albert' && !/^\s/u.test(slice) ? plain.replace(/^\u2581/u, '') : plain;
    const got = expectedToken(name, slice);
    // A character that normalizes to several (the ligature ﬁ -> fi) can be split between tokens,
    // each of which then points at the whole character.
    const expands = slice.normalize('NFKD').length > slice.length;
    assert.ok(got === want || (expands && got.includes(want.replace(/^\u2581/u, ''))), `${what}: ${got} != ${want}`);
  }
}

for (const name of FIXTURES) {
  test(`${name}: every token's offsets slice the original text to the token (seed ${seed})`, () => {
    const tok = fixture(name);
    for (const text of allTexts(seed)) checkTokens(name, tok, tok.encode(text), text, 0);
  });

  test(`${name}: pair offsets index into the pair's own text`, () => {
    const tok = fixture(name);
    const [q, c] = ['Where does the river flow?', 'The river flows through the city, naïve café.'];
    const e = tok.encode(q, c);
    checkTokens(name, tok, e, q, 0);
    checkTokens(name, tok, e, c, 1);
    assert.ok(e.sequenceIds.includes(0) && e.sequenceIds.includes(1));
    e.sequenceIds.forEach((sid, i) => {
      if (sid === null) assert.deepEqual(e.offsets[i], [0, 0]);
    });
  });
}

/** The original span of each word: the union of its tokens' offsets. */
function wordSpans(e: Encoding): Map<number, [number, number]> {
  const spans = new Map<number, [number, number]>();
  e.wordIds.forEach((w, i) => {
    if (w === null) return;
    const [s, t] = e.offsets[i] as [number, number];
    const old = spans.get(w);
    spans.set(w, old ? [Math.min(old[0], s), Math.max(old[1], t)] : [s, t]);
  });
  return spans;
}

test('accents: stripped by uncased BERT, kept by cased BERT, offsets on the original either way', () => {
  const text = 'Café naïve résumé';
  const uncased = fixture('bert').encode(text);
  assert.deepEqual(
    [...wordSpans(uncased).values()],
    [
      [0, 4],
      [5, 10],
      [11, 17],
    ],
  );
  assert.ok(uncased.tokens.every((t) => !/[éï]/u.test(t)));
  const cased = fixture('bert-cased').encode(text);
  const accented = cased.tokens.map((t, i) => [t, text.slice(...(cased.offsets[i] as [number, number]))]);
  assert.ok(
    accented.some(([t, s]) => t === '##ï' && s === 'ï'),
    JSON.stringify(accented),
  );
  // Lowercased but accents kept (strip_accents false).
  const keep = TokenizerClass.fromFolder(writeFixture('bert', { stripAccents: false })).encode(text);
  assert.ok(keep.tokens.some((t) => /[éï]/u.test(t)));
  assert.deepEqual([...wordSpans(keep).values()], [...wordSpans(uncased).values()]);
  // Decomposed input: the combining accent belongs to the word's span.
  const nfd = 'Cafe\u0301 nai\u0308ve';
  assert.deepEqual(
    [...wordSpans(fixture('bert').encode(nfd)).values()],
    [
      [0, 5],
      [6, 12],
    ],
  );
  assert.deepEqual(fixture('bert').encode(nfd).ids, fixture('bert').encode('Café naïve').ids);
});

test("CJK: BERT's handle_chinese_chars makes each ideograph a token with its own offsets", () => {
  const text = 'I said 我喜欢自然语言处理 today.';
  const e = fixture('bert').encode(text);
  const start = text.indexOf('我');
  for (let k = 0; k < 9; k++) {
    const i = e.tokens.indexOf(text[start + k] as string);
    assert.ok(i > 0, `token for ${text[start + k]}`);
    assert.deepEqual(e.offsets[i], [start + k, start + k + 1]);
  }
  // Byte-level BPE: every byte-token of an ideograph points at that ideograph.
  const r = fixture('roberta').encode('我喜欢');
  const spans = r.offsets.filter((_, i) => r.sequenceIds[i] === 0).map(([s, t]) => `${s}-${t}`);
  assert.deepEqual(spans, ['0-1', '0-1', '0-1', '1-2', '1-2', '1-2', '2-3', '2-3', '2-3']);
});

test('emoji: unknown to WordPiece as whole characters, split into bytes by byte-level BPE', () => {
  const text = 'ok 🤗 and 👍🏽 done';
  const bert = fixture('bert').encode(text);
  const unk = bert.offsets.filter((_, i) => bert.ids[i] === fixture('bert').unkTokenId);
  assert.deepEqual(unk, [
    [3, 5],
    [10, 14],
  ]);
  const gpt2 = fixture('gpt2').encode(text);
  const hug = gpt2.offsets.filter(([s, t]) => s === 3 && t === 5);
  assert.equal(hug.length, gpt2.tokens.filter((_, i) => gpt2.offsets[i]?.[0] === 3).length);
  assert.ok(hug.length >= 2, 'the 4 bytes of 🤗 take several tokens');
});

test('Metaspace: ▁ stands for the space before a word and is part of its offsets', () => {
  const text = 'the river flows';
  const e = fixture('albert').encode(text);
  const i = e.tokens.findIndex((t, k) => k > 1 && t.startsWith('\u2581') && t.length > 1);
  assert.ok(i > 0, e.tokens.join(' '));
  assert.equal(text.slice(...(e.offsets[i] as [number, number]))[0], ' ');
  const first = e.offsets[1] as [number, number];
  assert.equal(first[0], 0, 'the prepended ▁ owns no character');
});

test('added tokens written in the text are single tokens with their own offsets', () => {
  const text = 'The [MASK] sat near the river.';
  const e = fixture('bert').encode(text);
  const i = e.tokens.indexOf('[MASK]');
  assert.deepEqual(e.offsets[i], [4, 10]);
  const r = fixture('roberta').encode('The <mask> sat.');
  const j = r.tokens.indexOf('<mask>');
  assert.deepEqual(r.offsets[j], [4, 10]);
  assert.equal(r.ids[j], fixture('roberta').maskTokenId);
});
