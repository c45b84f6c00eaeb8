// Question answering: a long context cut into overlapping windows (transformers' doc_stride).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { windowRanges } from '../../../src/engine/tokenize/postprocess.js';
import { TRAINING_SENTENCES } from '../../fixtures/tokenizers.js';
import { FIXTURES, fixture } from './setup.js';

const question = 'Where does the river flow?';
const context = TRAINING_SENTENCES.join(' ');

test('window ranges step by capacity minus stride until the end is reached', () => {
  assert.deepEqual(windowRanges(5, 8, 2), [[0, 5]]);
  assert.deepEqual(windowRanges(10, 4, 1), [
    [0, 4],
    [3, 7],
    [6, 10],
  ]);
  assert.deepEqual(windowRanges(11, 4, 1), [
    [0, 4],
    [3, 7],
    [6, 10],
    [9, 11],
  ]);
  assert.throws(() => windowRanges(10, 4, 4), /stride 4/);
});

for (const name of FIXTURES) {
  test(`${name}: windows fit max length, repeat the question, overlap by stride and cover the context`, () => {
    const tok = fixture(name);
    const [maxLength, stride] = [48, 12];
    const windows = tok.encodeWithOverflow(question, context, { maxLength, stride });
    const full = tok.encode(context, null, { addSpecialTokens: false });
    assert.ok(windows.length >= 3, `${windows.length} windows`);
    const questionIds = tok.encode(question, null, { addSpecialTokens: false }).ids;
    const contextTokens: { offsets: [number, number][]; ids: number[] }[] = [];
    for (const [k, w] of windows.entries()) {
      assert.ok(w.ids.length <= maxLength, `window ${k}: ${w.ids.length} tokens`);
      if (k < windows.length - 1) assert.equal(w.ids.length, maxLength, `window ${k} is full`);
      assert.deepEqual(
        w.ids.filter((_, i) => w.sequenceIds[i] === 0),
        questionIds,
      );
      const ctx = w.sequenceIds.map((s, i) => (s === 1 ? i : -1)).filter((i) => i >= 0);
      contextTokens.push({
        offsets: ctx.map((i) => w.offsets[i] as [number, number]),
        ids: ctx.map((i) => w.ids[i] as number),
      });
      if (name === 'bert' || name === 'albert') {
        assert.ok(ctx.every((i) => w.tokenTypeIds[i] === 1));
      }
    }
    // Consecutive windows share exactly `stride` tokens: the same ids at the same offsets.
    for (let k = 0; k + 1 < contextTokens.length; k++) {
      const [a, b] = [contextTokens[k], contextTokens[k + 1]] as [(typeof contextTokens)[0], (typeof contextTokens)[0]];
      assert.deepEqual(a.offsets.slice(-stride), b.offsets.slice(0, stride), `windows ${k} and ${k + 1}`);
      assert.deepEqual(a.ids.slice(-stride), b.ids.slice(0, stride));
      assert.ok(
        b.offsets[stride]?.[0] !== undefined &&
          (b.offsets[stride] as [number, number])[0] >= (a.offsets.at(-1) as [number, number])[0],
      );
    }
    // Windows stitched back together (minus the overlaps) are the whole context's tokens.
    const stitched = contextTokens.flatMap((c, k) => (k === 0 ? c.ids : c.ids.slice(stride)));
    assert.deepEqual(stitched, full.ids);
    // Every non-space character of the context lies inside some token of some window.
    const covered = new Uint8Array(context.length);
    for (const c of contextTokens) for (const [s, t] of c.offsets) covered.fill(1, s, t);
    for (let i = 0; i < context.length; i++) {
      if (!/\s/u.test(context[i] as string))
        assert.equal(covered[i], 1, `character ${i} ${JSON.stringify(context[i])}`);
    }
  });
}

test('a short context gives one window; a question that leaves no room is an error', () => {
  const tok = fixture('bert');
  const one = tok.encodeWithOverflow(question, 'The river flows.', { maxLength: 64, stride: 16 });
  assert.equal(one.length, 1);
  assert.deepEqual(one[0]?.ids, tok.encode(question, 'The river flows.').ids);
  assert.throws(() => tok.encodeWithOverflow(context, question, { maxLength: 32, stride: 4 }), /question/);
  assert.throws(() => tok.encodeWithOverflow(question, context, { maxLength: 32, stride: 30 }), /stride/);
});
