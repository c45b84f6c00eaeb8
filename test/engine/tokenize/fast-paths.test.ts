// The speed-ups of encode give the same results as the plain computation: the per-word cache of
// the model, and the normalizer steps that skip text they leave unchanged (checked against the
// plain per-code-point definitions, written out again here).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Aligned, identity, insert, lowercase, mapCodePoints } from '../../../src/engine/tokenize/aligned.js';
import { buildWordModel } from '../../../src/engine/tokenize/models.js';
import { testSeed } from '../helpers/random.js';
import { allTexts, FIXTURES, fixture } from './setup.js';

const seed = testSeed();
/** A mixed corpus: hard cases (accents, CJK, emoji, controls) and random mixed-case sentences, twice. */
const texts = [...allTexts(seed, 60), ...allTexts(seed + 1, 60)];

/** The per-code-point definition of mapCodePoints without its unchanged-prefix shortcut. */
function plainMap(a: Aligned, f: (ch: string) => string, attachDeleted = false): Aligned {
  const out: Aligned = { text: '', starts: [], ends: [] };
  for (let i = 0; i < a.text.length; ) {
    const n = (a.text.codePointAt(i) as number) > 0xffff ? 2 : 1;
    let s = Number.POSITIVE_INFINITY;
    let e = Number.NEGATIVE_INFINITY;
    for (let k = i; k < i + n; k++) {
      if ((a.ends[k] as number) <= (a.starts[k] as number)) continue;
      s = Math.min(s, a.starts[k] as number);
      e = Math.max(e, a.ends[k] as number);
    }
    if (e < s) [s, e] = [a.starts[i] as number, a.starts[i] as number];
    const mapped = f(a.text.slice(i, i + n));
    const last = out.ends.length - 1;
    if (
      mapped === '' &&
      attachDeleted &&
      last >= 0 &&
      out.ends[last] === s &&
      (out.starts[last] as number) < s &&
      e > s
    ) {
      for (let k = last; k >= 0 && out.ends[k] === s; k--) out.ends[k] = e;
    }
    out.text += mapped;
    for (let k = 0; k < mapped.length; k++) {
      out.starts.push(s);
      out.ends.push(e);
    }
    i += n;
  }
  return out;
}

const plain = (a: Aligned): Aligned => ({ text: a.text, starts: [...a.starts], ends: [...a.ends] });

test('mapCodePoints and lowercase equal their per-code-point definitions on a mixed corpus', () => {
  const maps: [string, (ch: string) => string][] = [
    ['identity', (ch) => ch],
    ['drop marks', (ch) => (/^\p{M}$/u.test(ch) ? '' : ch)],
    ['upper', (ch) => ch.toUpperCase()],
    ['space CJK', (ch) => (/^\p{Script=Han}$/u.test(ch) ? ` ${ch} ` : ch)],
  ];
  for (const text of texts) {
    // Plain, offset into a longer input, and with an inserted unit that owns no original text.
    const inputs = [identity(text), identity(text, 7), insert(identity(text), Math.min(2, text.length), '\u2581')];
    for (const a of inputs) {
      for (const [name, f] of maps) {
        for (const attach of [false, true]) {
          assert.deepEqual(
            plain(mapCodePoints(a, f, attach)),
            plainMap(a, f, attach),
            `${name} of ${JSON.stringify(text)}`,
          );
        }
      }
      const lower = lowercase(a);
      if (lower.text === a.text.toLowerCase() && lower !== a) {
        // Unit by unit where the whole-string lowercase keeps the length code point by code point.
        const byCodePoint = plainMap(a, (ch) => ch.toLowerCase());
        if (byCodePoint.text === lower.text) assert.deepEqual(plain(lower), byCodePoint, JSON.stringify(text));
      }
    }
  }
});

test('a line far longer than the call-argument limit maps its long unchanged prefix (and shares nothing mutable)', () => {
  // 300,000 unchanged units then one accent: the prefix is copied, never spread into a call.
  const long = identity(`${'a'.repeat(300_000)}e\u0301`);
  const dropMarks = (ch: string) => (/^\p{M}$/u.test(ch) ? '' : ch);
  const mapped = mapCodePoints(long, dropMarks, true);
  assert.equal(mapped.text.length, 300_001);
  assert.deepEqual([mapped.starts.at(-1), mapped.ends.at(-1)], [300_000, 300_002]);
  assert.deepEqual(plain(mapped), plainMap(long, dropMarks, true));
  assert.equal(long.ends.at(-2), 300_001, 'the input keeps its own spans');
});

test('cached word pieces equal the uncached model, on first use and on a cache hit', () => {
  for (const name of FIXTURES) {
    const model = fixture(name).lib.model;
    const cached = buildWordModel(model);
    const uncached = buildWordModel(model, 0);
    const words = texts.flatMap((t) => t.split(/\s+/u)).filter((w) => w.length > 0);
    for (const round of [0, 1]) {
      for (const w of words) assert.deepEqual(cached(w), uncached(w), `${name}, ${JSON.stringify(w)}, round ${round}`);
    }
  }
});

test('encode gives the same encoding before and after its words are cached', () => {
  for (const name of FIXTURES) {
    const first = fixture(name);
    const before = texts.map((t) => first.encode(t));
    assert.deepEqual(
      texts.map((t) => first.encode(t)),
      before,
      name,
    );
  }
});

test('forEachToken visits exactly the ids, offsets and specials of encode, whole and truncated', () => {
  for (const name of FIXTURES) {
    const tokenizer = fixture(name);
    for (const text of texts) {
      for (const maxLength of [null, 3, 7, 40]) {
        const want = tokenizer.encode(text, null, maxLength === null ? {} : { maxLength });
        const got: { ids: number[]; offsets: [number, number][]; specialTokensMask: number[] } = {
          ids: [],
          offsets: [],
          specialTokensMask: [],
        };
        const n = tokenizer.forEachToken(text, maxLength, (id, start, end, special) => {
          got.ids.push(id);
          got.offsets.push([start, end]);
          got.specialTokensMask.push(special ? 1 : 0);
        });
        const where = `${name}, ${JSON.stringify(text)}, maxLength ${maxLength}`;
        assert.equal(n, want.ids.length, where);
        assert.deepEqual(
          got,
          { ids: want.ids, offsets: want.offsets, specialTokensMask: want.specialTokensMask },
          where,
        );
      }
    }
  }
  // A budget smaller than the specials fails as truncating an Encoding does.
  const bert = fixture('bert');
  assert.throws(() => bert.forEachToken('hello', 1, () => undefined), /shorter than the special tokens/);
});
