// Pairs and token type ids, the three truncation strategies, padding, and word ids of pre-split
// words.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { truncatedLengths } from '../../../src/engine/tokenize/postprocess.js';
import { Tokenizer } from '../../../src/engine/tokenize/tokenizer.js';
import { FIXTURES, fixture, writeFixture } from './setup.js';

/** Text of `n` tokens for the BERT fixture: "the" is one token. */
const words = (n: number) => Array.from({ length: n }, () => 'the').join(' ');

test('pairs: BERT and ALBERT mark the second text with type id 1, RoBERTa uses 0 throughout', () => {
  for (const name of ['bert', 'albert'] as const) {
    const tok = fixture(name);
    const e = tok.encode('the river', 'the city');
    const n = e.ids.length;
    assert.equal(e.ids[0], tok.clsTokenId);
    assert.equal(e.ids[n - 1], tok.sepTokenId);
    const firstSep = e.ids.indexOf(tok.sepTokenId as number);
    assert.deepEqual(e.tokenTypeIds, [...new Array(firstSep + 1).fill(0), ...new Array(n - firstSep - 1).fill(1)]);
    assert.deepEqual(
      e.sequenceIds,
      e.ids.map((_, i) => (e.specialTokensMask[i] ? null : i < firstSep ? 0 : 1)),
    );
    assert.ok(e.specialTokensMask.every((m, i) => m === (e.sequenceIds[i] === null ? 1 : 0)));
  }
  const r = fixture('roberta');
  const e = r.encode('the river', 'the city');
  assert.deepEqual(e.ids.filter((id) => id === r.sepTokenId).length, 3); // <s> A </s></s> B </s>
  assert.ok(e.tokenTypeIds.every((t) => t === 0));
  const g = fixture('gpt2').encode('the river', 'the city');
  assert.ok(g.specialTokensMask.every((m) => m === 0));
  assert.deepEqual(
    g.tokenTypeIds,
    g.sequenceIds.map((s) => s ?? -1),
  );
});

test("longest_first follows the Rust crate's arithmetic", () => {
  // Only the longer sequence is cut while the shorter one fits in half.
  assert.deepEqual(truncatedLengths(10, 4, 9, 'longest_first'), [5, 4]);
  assert.deepEqual(truncatedLengths(4, 10, 9, 'longest_first'), [4, 5]);
  // Both cut: the budget is split, the odd token going to the longer (or, on a tie, the second).
  assert.deepEqual(truncatedLengths(10, 8, 9, 'longest_first'), [5, 4]);
  assert.deepEqual(truncatedLengths(8, 8, 9, 'longest_first'), [4, 5]);
  assert.deepEqual(truncatedLengths(3, 3, 9, 'longest_first'), [3, 3]);
  assert.deepEqual(truncatedLengths(20, null, 9, 'only_second'), [9, null]);
  // Against removing one token at a time from the longer (ties from the second), as the slow
  // Python tokenizers do: the same lengths, except that when both sequences are cut to an odd
  // budget the odd token lands on the other side.
  for (let n1 = 0; n1 <= 12; n1++) {
    for (let n2 = 0; n2 <= 12; n2++) {
      for (let budget = 0; budget <= 14; budget++) {
        let [a, b] = [n1, n2];
        while (a + b > budget) {
          if (a > b) a--;
          else b--;
        }
        const [x, y] = truncatedLengths(n1, n2, budget, 'longest_first');
        const what = `${n1} + ${n2} to ${budget}`;
        assert.equal(x + (y ?? 0), a + b, what);
        if (x !== a) {
          assert.ok(Math.abs(x - a) === 1 && budget % 2 === 1 && Math.min(x, y ?? 0) === (budget - 1) / 2, what);
        }
      }
    }
  }
});

test('truncation modes on a real pair: longest_first, only_second, only_first', () => {
  const tok = fixture('bert');
  const [q, c] = [words(6), words(20)];
  const seqLens = (e: { sequenceIds: (0 | 1 | null)[] }) =>
    [0, 1].map((s) => e.sequenceIds.filter((x) => x === s).length);
  const lf = tok.encode(q, c, { maxLength: 15, truncation: 'longest_first' });
  assert.equal(lf.ids.length, 15);
  assert.deepEqual(seqLens(lf), [6, 6]);
  const os = tok.encode(q, c, { maxLength: 15, truncation: 'only_second' });
  assert.deepEqual(seqLens(os), [6, 6]);
  const of = tok.encode(c, q, { maxLength: 15, truncation: 'only_first' });
  assert.deepEqual(seqLens(of), [6, 6]);
  const os2 = tok.encode(words(2), c, { maxLength: 15, truncation: 'only_second' });
  assert.deepEqual(seqLens(os2), [2, 10]);
  assert.throws(() => tok.encode(c, q, { maxLength: 15, truncation: 'only_second' }), /only_second/);
  // Truncated offsets are the untruncated ones, cut.
  const full = tok.encode(q, c);
  const kept = full.offsets.filter((_, i) => full.sequenceIds[i] === 1).slice(0, 6);
  assert.deepEqual(
    lf.offsets.filter((_, i) => lf.sequenceIds[i] === 1),
    kept,
  );
  // A single text: cut to max length, special tokens kept at both ends.
  const single = tok.encode(words(30), null, { maxLength: 10 });
  assert.equal(single.ids.length, 10);
  assert.equal(single.ids[9], tok.sepTokenId);
  // No maxLength: truncation=true-like calls fall back to model_max_length.
  assert.equal(tok.encode(words(600), null, { truncation: 'longest_first' }).ids.length, 512);
  assert.equal(tok.encode(words(600)).ids.length, 602);
});

test("model_max_length's int(1e30) sentinel means no limit", () => {
  const tok = Tokenizer.fromFolder(writeFixture('gpt2', { modelMaxLength: 1e30 }));
  assert.equal(tok.modelMaxLength, null);
  const long = words(1100);
  const n = tok.encode(long).ids.length;
  assert.ok(n > 1024);
  assert.equal(tok.encode(long, null, { truncation: 'longest_first' }).ids.length, n);
});

test('encodeBatch pads to the longest with the pad id, attention mask 0 and no sequence', () => {
  for (const name of FIXTURES.filter((n) => n !== 'gpt2')) {
    const tok = fixture(name);
    const batch = tok.encodeBatch(['the river', 'the river flows through the city', ['the city', 'the river']]);
    const n = Math.max(...batch.map((e) => e.ids.length));
    for (const e of batch) {
      assert.equal(e.ids.length, n);
      for (const key of ['attentionMask', 'tokenTypeIds', 'offsets', 'sequenceIds', 'wordIds', 'tokens'] as const) {
        assert.equal(e[key].length, n, key);
      }
      const real = e.attentionMask.filter((m) => m === 1).length;
      assert.deepEqual(e.attentionMask, [...new Array(real).fill(1), ...new Array(n - real).fill(0)]);
      assert.ok(e.ids.slice(real).every((id) => id === tok.padTokenId));
      assert.ok(e.sequenceIds.slice(real).every((s) => s === null));
    }
    const unpadded = tok.encode('the river');
    assert.deepEqual(batch[0]?.ids.slice(0, unpadded.ids.length), unpadded.ids);
    const fixed = tok.encodeBatch(['the river'], { padding: 'max_length', maxLength: 16 });
    assert.equal(fixed[0]?.ids.length, 16);
  }
});

test('padding_side left from tokenizer_config pads at the front', () => {
  const tok = Tokenizer.fromFolder(writeFixture('bert', { paddingSide: 'left' }));
  assert.equal(tok.paddingSide, 'left');
  const [short, long] = tok.encodeBatch(['the river', 'the river flows through the city']);
  const pad = (long?.ids.length ?? 0) - tok.encode('the river').ids.length;
  assert.ok(pad > 0);
  assert.deepEqual(short?.attentionMask.slice(0, pad), new Array(pad).fill(0));
  assert.equal(short?.ids[pad], tok.clsTokenId);
});

test('a tokenizer without pad token refuses to pad but batches equal lengths', () => {
  const tok = fixture('gpt2');
  assert.throws(() => tok.encodeBatch(['the river', 'the river flows through']), /no pad token/);
  assert.equal(tok.encodeBatch(['the river', 'the river']).length, 2);
});

test('pre-split words: word ids name the input word, so labels align to first sub-tokens', () => {
  const words = ['Understanding', 'unbelievable', 'tokenizers', 'in', 'München', '!'];
  const labels = ['O', 'B-X', 'I-X', 'O', 'B-LOC', 'O'];
  for (const name of FIXTURES) {
    const tok = fixture(name);
    const e = tok.encodeWords(words);
    // transformers' recipe: the label goes on each word's first token, -100 (ignored) elsewhere.
    const seen = new Set<number>();
    const tokenLabels = e.wordIds.map((w) => {
      if (w === null || seen.has(w)) return null;
      seen.add(w);
      return labels[w] ?? null;
    });
    assert.deepEqual(
      tokenLabels.filter((l) => l !== null),
      labels,
      `${name}: every word has a first token`,
    );
    assert.ok(e.wordIds.filter((w) => w !== null).length > words.length, `${name}: some words have several tokens`);
    // Word ids never go backwards, and offsets are within each word.
    const ids = e.wordIds.filter((w): w is number => w !== null);
    assert.deepEqual(
      ids,
      [...ids].sort((x, y) => x - y),
    );
    e.wordIds.forEach((w, i) => {
      if (w === null) return;
      const [s, t] = e.offsets[i] as [number, number];
      assert.ok(t <= (words[w] as string).length && s <= t, `${name}: offsets inside word ${w}`);
    });
  }
  // In plain text, word ids count pre-tokens: BERT splits off punctuation.
  const bert = fixture('bert').encode('the river, flows');
  assert.deepEqual([...new Set(bert.wordIds.filter((w) => w !== null))], [0, 1, 2, 3]);
});
