import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tensorNumbers } from '../../../src/engine/graph/types.js';
import {
  collateMlm,
  MLM_IGNORE_INDEX,
  type MlmCollateOptions,
  type MlmExample,
  maskExample,
} from '../../../src/engine/tasks/masked-lm/masking.js';
import { wordIdsFromOffsets } from '../../../src/engine/tokenize/words.js';
import { rng } from '../../../src/engine/util/random.js';

/**
 * The masking of transformers' DataCollatorForLanguageModeling.torch_mask_tokens
 * (data/data_collator.py): mlm_probability of the non-special tokens selected, of those 80% the
 * mask token, 10% a random id, 10% unchanged, labels -100 elsewhere.
 */
const MASK = 4;
const VOCAB = 50_000;

/** [CLS] w w w ... [SEP]: 2 specials around n words of `perWord` tokens (ids from 1000 up). */
function example(words: number, perWord: number): MlmExample {
  const inputIds = [101];
  const specialMask = [1];
  const wordIds: (number | null)[] = [null];
  for (let w = 0; w < words; w++) {
    for (let k = 0; k < perWord; k++) {
      inputIds.push(1000 + w * perWord + k);
      specialMask.push(0);
      wordIds.push(w);
    }
  }
  inputIds.push(102);
  specialMask.push(1);
  wordIds.push(null);
  return { inputIds, specialMask, wordIds };
}

/** Within `sd` binomial standard deviations of n·p. */
function near(count: number, n: number, p: number, sd = 5): void {
  const mean = n * p;
  const tolerance = sd * Math.sqrt(n * p * (1 - p));
  assert.ok(Math.abs(count - mean) <= tolerance, `${count} of ${n}: expected ${mean} ± ${tolerance.toFixed(1)}`);
}

test('15% of non-special tokens selected; 80% [MASK], 10% random, 10% unchanged; specials never', () => {
  const e = example(200, 1);
  const o = { probability: 0.15, maskId: MASK, randomVocab: VOCAB, wholeWord: false };
  const rand = rng(12345);
  let candidates = 0;
  let selected = 0;
  let masked = 0;
  let random = 0;
  let unchanged = 0;
  for (let draw = 0; draw < 500; draw++) {
    const out = maskExample(e, rand, o);
    e.inputIds.forEach((id, t) => {
      if (e.specialMask[t] === 1) {
        assert.equal(out.labels[t], MLM_IGNORE_INDEX, 'a special token is never selected');
        assert.equal(out.inputIds[t], id, 'a special token is never replaced');
        return;
      }
      candidates++;
      if (out.labels[t] === MLM_IGNORE_INDEX) {
        assert.equal(out.inputIds[t], id, 'an unselected token stays');
        return;
      }
      assert.equal(out.labels[t], id, 'the label is the original token');
      selected++;
      if (out.inputIds[t] === MASK) masked++;
      else if (out.inputIds[t] === id) unchanged++;
      else random++;
    });
  }
  near(selected, candidates, 0.15);
  // A random draw equal to the original id or the mask id (2 of 50,000) is negligible at this size.
  near(masked, selected, 0.8);
  near(random, selected, 0.1);
  near(unchanged, selected, 0.1);
});

test('padding is never selected, and a batch position always draws the same masks', () => {
  const short = example(3, 1);
  const long = example(40, 1);
  const o: MlmCollateOptions = {
    probability: 0.5,
    maskId: MASK,
    randomVocab: VOCAB,
    wholeWord: false,
    padId: 0,
    withTokenTypes: true,
    seed: 42,
  };
  for (let batch = 0; batch < 50; batch++) {
    const b = collateMlm([short, long], { epoch: 1, batch }, o);
    const labels = tensorNumbers(b.labels as NonNullable<typeof b.labels>);
    const mask = tensorNumbers(b.attention_mask as NonNullable<typeof b.attention_mask>);
    labels.forEach((l, i) => {
      if (mask[i] === 0) assert.equal(l, MLM_IGNORE_INDEX, 'padding carries no label');
    });
    assert.deepEqual(
      tensorNumbers(b.token_type_ids as NonNullable<typeof b.token_type_ids>),
      new Array(labels.length).fill(0),
    );
  }
  const at = { epoch: 2, batch: 7 };
  assert.deepEqual(collateMlm([long], at, o), collateMlm([long], at, o), 'counter-based: same position, same masks');
  const other = collateMlm([long], { epoch: 2, batch: 8 }, o);
  assert.notDeepEqual(other.labels, collateMlm([long], at, o).labels, 'another step draws other masks');
  assert.notDeepEqual(collateMlm([long], at, { ...o, seed: 43 }).labels, collateMlm([long], at, o).labels);
});

test('whole-word masking selects every sub-token of a word together, at the rate of words; 80/10/10 per token', () => {
  const e = example(100, 3);
  const o = { probability: 0.15, maskId: MASK, randomVocab: VOCAB, wholeWord: true };
  const rand = rng(7);
  let words = 0;
  let selectedWords = 0;
  let selectedTokens = 0;
  let maskedTokens = 0;
  for (let draw = 0; draw < 300; draw++) {
    const out = maskExample(e, rand, o);
    for (let w = 0; w < 100; w++) {
      const positions = [1 + 3 * w, 2 + 3 * w, 3 + 3 * w];
      const picked = positions.map((t) => out.labels[t] !== MLM_IGNORE_INDEX);
      assert.ok(
        picked.every((p) => p === picked[0]),
        `word ${w}: all of its tokens or none`,
      );
      words++;
      if (!picked[0]) continue;
      selectedWords++;
      selectedTokens += 3;
      maskedTokens += positions.filter((t) => out.inputIds[t] === MASK).length;
    }
  }
  near(selectedWords, words, 0.15);
  // torch_mask_tokens draws [MASK] / random / unchanged per token, after the word selection.
  near(maskedTokens, selectedTokens, 0.8);
});

test("words from offsets as transformers' _calc_word_ids_and_prob_mask finds them", () => {
  // The cases of tests/trainer/test_data_collator.py (test_calc_word_ids_and_prob_mask), -1 there is null here.
  // [offsets as start,end pairs flattened, special tokens mask, expected words]
  const cases: [number[], number[], (number | null)[]][] = [
    [
      [0, 0, 0, 3, 3, 4, 5, 6, 6, 7, 8, 9],
      [1, 0, 0, 0, 0, 0],
      [null, 1, 1, 2, 2, 3],
    ],
    [
      [0, 0, 0, 3, 3, 4, 5, 6, 6, 7, 0, 0],
      [1, 0, 0, 0, 0, 1],
      [null, 1, 1, 2, 2, null],
    ],
    [
      [0, 0, 0, 3, 3, 4, 0, 0, 6, 7, 0, 0],
      [1, 0, 0, 1, 0, 1],
      [null, 1, 1, null, 2, null],
    ],
    [
      [1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7],
      [0, 0, 0, 0, 0, 0],
      [1, 1, 1, 1, 1, 1],
    ],
    [
      [1, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      [0, 0, 0, 0, 0, 0],
      [1, 2, 3, 4, 5, 6],
    ],
    [
      [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
      [1, 1, 1, 1, 1, 1],
      [null, null, null, null, null, null],
    ],
  ];
  const pairs = (flat: number[]) =>
    Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i], flat[2 * i + 1]] as [number, number]);
  for (const [offsets, special, words] of cases) assert.deepEqual(wordIdsFromOffsets(pairs(offsets), special), words);
});
