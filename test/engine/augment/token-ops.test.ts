import assert from 'node:assert/strict';
import { test } from 'node:test';
import { augmentTrain } from '../../../src/engine/augment/augment.js';
import {
  mentionReplacement,
  mentionSpans,
  mentionsByType,
  synonymReplaceOutside,
} from '../../../src/engine/augment/token-ops.js';
import { wordNet } from '../../../src/engine/augment/wordnet.js';
import { buildLabelSet, checkTagScheme } from '../../../src/engine/data/labels.js';
import type { Example, TokensExample } from '../../../src/engine/data/records.js';
import { rng } from '../../../src/shared/random.js';
import { nerRows } from '../../fixtures/datasets.js';

/** Token classification's label-preserving augmentation: synonyms of O tokens, mention replacement. */
const wn = wordNet();

const row = (tokens: string, tags: string): { tokens: string[]; tags: string[] } => ({
  tokens: tokens.split(' '),
  tags: tags.split(' '),
});

/** The mentions of a row as `TYPE:words`, in order. */
const mentionsOf = (r: { tokens: readonly string[]; tags: readonly (string | number)[] }) =>
  mentionSpans(r.tags).map((s) => `${s.type}:${r.tokens.slice(s.start, s.end).join(' ')}`);

test('mention spans: B- starts a mention, I- of the same type continues it, an I- after O starts one (IOB1)', () => {
  assert.deepEqual(mentionsOf(row('John Smith met Mary in New York', 'B-PER I-PER O B-PER O B-LOC I-LOC')), [
    'PER:John Smith',
    'PER:Mary',
    'LOC:New York',
  ]);
  assert.deepEqual(mentionsOf(row('in Paris now', 'O I-LOC O')), ['LOC:Paris']);
  assert.deepEqual(mentionsOf(row('Paris London', 'B-LOC B-LOC')), ['LOC:Paris', 'LOC:London']);
});

test('synonym replacement touches O tokens only: every mention and its tags stay, new tokens are O', () => {
  const r = row(
    'the quick reporter from London wrote a long story about Angela Merkel',
    'O O O O B-LOC O O O O O B-PER I-PER',
  );
  let changed = 0;
  for (let seed = 0; seed < 40; seed++) {
    const out = synonymReplaceOutside(wn, r, 0.2, rng(seed));
    assert.equal(out.tokens.length, out.tags.length);
    assert.deepEqual(mentionsOf(out), ['LOC:London', 'PER:Angela Merkel']);
    assert.deepEqual(
      out.tags.filter((t) => t !== 'O'),
      ['B-LOC', 'B-PER', 'I-PER'],
    );
    // n = max(1, int(0.2 * 12)) = 2 words replaced, each by a WordNet synonym; stop words stay.
    for (const stop of ['the', 'from', 'a', 'about']) assert.ok(out.tokens.includes(stop), `${stop} kept`);
    if (out.tokens.join(' ') !== r.tokens.join(' ')) changed++;
  }
  assert.ok(changed >= 35, `${changed} of 40 seeds changed the row`);
});

test('mention replacement swaps whole mentions for others of their type and rebuilds B-/I- tags (hand-checked draws)', () => {
  const train = [
    row('John Smith flew to Paris', 'B-PER I-PER O O B-LOC'),
    row('Mary met Ann in New York', 'B-PER O B-PER O B-LOC I-LOC'),
  ];
  const mentions = mentionsByType(train);
  assert.deepEqual(mentions.get('PER'), [['John', 'Smith'], ['Mary'], ['Ann']]);
  assert.deepEqual(mentions.get('LOC'), [['Paris'], ['New', 'York']]);
  // Row 0: John Smith (others: Mary, Ann): 0.1 < p, then 0.9 -> Ann; Paris (others: New York): 0.2 < p, 0 -> New York.
  let i = 0;
  const values = [0.1, 0.9, 0.2, 0];
  const out = mentionReplacement(train[0] as TokensExample, mentions, 0.5, () => values[i++] as number);
  assert.deepEqual(out, row('Ann flew to New York', 'B-PER O O B-LOC I-LOC'));
  // A draw above p keeps the mention.
  assert.deepEqual(
    mentionReplacement(train[0] as TokensExample, mentions, 0.5, () => 0.7),
    train[0],
  );
});

test('augmentTrain on NER rows: copies keep IOB2 and the label set; mention counts per type are preserved', () => {
  const examples: Example[] = nerRows(60, 3).map((r, i) => ({
    kind: 'tokens',
    tokens: r.tokens,
    tags: r.tags,
    source: { file: 'ner.jsonl', line: i + 1 },
  }));
  const labels = buildLabelSet(examples);
  const { train, report } = augmentTrain(
    examples,
    { eda: { n_aug: 2, alpha_sr: 0.3 }, mention_replacement: { n_aug: 2, p: 0.5 } },
    { seed: 7, labels },
  );
  assert.equal(report.before, 60);
  assert.ok(report.after > 60 + 60, `${report.after} rows`);
  assert.equal(train.length, report.after);
  assert.deepEqual(checkTagScheme(train, labels).violations, 0);
  const types = (r: Example) =>
    r.kind === 'tokens'
      ? mentionSpans(r.tags)
          .map((s) => s.type)
          .join(',')
      : '';
  // Each copy follows its original, with the same sequence of mention types.
  let original: Example | undefined;
  for (const e of train) {
    if (e.kind !== 'tokens') continue;
    if (original && e.source === original.source) assert.equal(types(e), types(original));
    else original = e;
  }
  // Same seed, same rows: what a resumed run trains on.
  const again = augmentTrain(
    examples,
    { eda: { n_aug: 2, alpha_sr: 0.3 }, mention_replacement: { n_aug: 2, p: 0.5 } },
    { seed: 7, labels },
  );
  assert.deepEqual(again.train, train);
});
