import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DataError } from '../../../src/engine/data/errors.js';
import { buildLabelSet, checkTagScheme, checkValidationLabels } from '../../../src/engine/data/labels.js';
import type { Example, Label, TokensExample } from '../../../src/engine/data/records.js';
import { checkLeakage, splitValidation } from '../../../src/engine/data/split.js';
import { testSeed } from '../helpers/random.js';

const ex = (text: string, label: Label, line: number, file = 'train.jsonl'): Example => ({
  kind: 'text',
  text,
  label,
  source: { file, line },
});

const COUNTS: Record<string, number> = { a: 50, b: 33, c: 7, d: 1 };

function dataset(): Example[] {
  const out: Example[] = [];
  let line = 0;
  // Interleaved so that file order and label order differ.
  for (let round = 0; round < 50; round++) {
    for (const [label, n] of Object.entries(COUNTS)) if (round < n) out.push(ex(`${label}${round}`, label, ++line));
  }
  return out;
}

const perLabel = (es: readonly Example[]) => {
  const m: Record<string, number> = {};
  for (const e of es) if (e.kind === 'text') m[String(e.label)] = (m[String(e.label)] ?? 0) + 1;
  return m;
};

test('stratified split: each label puts exactly round(fraction x count) in validation, for any seed', () => {
  const seed = testSeed();
  const data = dataset();
  const { train, validation } = splitValidation(data, 0.2, seed, true);
  assert.deepEqual(perLabel(validation), { a: 10, b: 7, c: 1 }, `seed ${seed}`);
  assert.deepEqual(perLabel(train), { a: 40, b: 26, c: 6, d: 1 }, `seed ${seed}`);
  const lines = (es: readonly Example[]) => es.map((e) => e.source.line);
  assert.deepEqual(
    [...lines(train), ...lines(validation)].sort((x, y) => x - y),
    lines(data),
  );
  assert.deepEqual(
    lines(validation),
    [...lines(validation)].sort((x, y) => x - y),
    'keeps file order',
  );
  assert.deepEqual(splitValidation(data, 0.2, seed, true), { train, validation }, 'same seed, same split');
  const other = splitValidation(data, 0.2, seed + 1, true);
  assert.notDeepEqual(lines(other.validation), lines(validation), 'another seed picks other examples');
});

test('unstratified split holds out round(fraction x n); a fraction outside (0, 1) is refused', () => {
  const data = dataset();
  assert.equal(splitValidation(data, 0.15, 1, false).validation.length, Math.round(0.15 * data.length));
  assert.throws(
    () => splitValidation(data, 1, 1, false),
    (e: DataError) => e.kind === 'config',
  );
});

test('leakage: validation texts present in train are counted and listed with both places', () => {
  const train = [ex('alpha', 'a', 1), ex('beta', 'b', 2), ex('alpha', 'b', 3)];
  const validation = [
    ex('gamma', 'a', 1, 'val.jsonl'),
    ex('alpha', 'a', 2, 'val.jsonl'),
    ex('beta', 'a', 3, 'val.jsonl'),
  ];
  const report = checkLeakage(train, validation);
  assert.equal(report.count, 2);
  assert.deepEqual(report.examples[0], {
    text: 'alpha',
    train: { file: 'train.jsonl', line: 1 },
    validation: { file: 'val.jsonl', line: 2 },
  });
});

test('label order: strings lexicographically, integers numerically', () => {
  const strings = buildLabelSet([ex('1', 'b', 1), ex('2', 'a', 2), ex('3', 'B', 3), ex('4', 'a', 4)]);
  assert.deepEqual(strings.labels, ['B', 'a', 'b']);
  assert.equal(strings.order, 'sorted');
  assert.equal(strings.ids.get('a'), 1);
  assert.deepEqual(buildLabelSet([ex('1', 10, 1), ex('2', 2, 2), ex('3', 1, 3)]).labels, [1, 2, 10]);
});

test("label order: the model config's label2id when its keys are exactly the data's labels", () => {
  const data = [ex('1', 'neg', 1), ex('2', 'pos', 2), ex('3', 'neutral', 3)];
  const used = buildLabelSet(data, { pos: 0, neutral: 1, neg: 2 });
  assert.deepEqual(used.labels, ['pos', 'neutral', 'neg']);
  assert.equal(used.order, 'model-config');
  const ints = buildLabelSet([ex('1', 1, 1), ex('2', 0, 2)], { '1': 0, '0': 1 });
  assert.deepEqual(ints.labels, [1, 0]);
  const extra = buildLabelSet(data, { pos: 0, neutral: 1, neg: 2, other: 3 });
  assert.deepEqual(extra.labels, ['neg', 'neutral', 'pos']);
  assert.match(extra.note ?? '', /not in the data: other/);
  const placeholder = buildLabelSet(data, { LABEL_0: 0, LABEL_1: 1, LABEL_2: 2 });
  assert.deepEqual([placeholder.labels, placeholder.note], [['neg', 'neutral', 'pos'], undefined]);
  const gaps = buildLabelSet(data, { pos: 0, neutral: 1, neg: 5 });
  assert.equal(gaps.order, 'sorted');
  assert.match(gaps.note ?? '', /ids are not 0\.\.2/);
});

test('mixed string and integer labels are an error naming both', () => {
  assert.throws(
    () => buildLabelSet([ex('1', 'pos', 1), ex('2', 3, 7)]),
    (e: DataError) => e.kind === 'mixed-labels' && /train\.jsonl:1/.test(e.message) && /train\.jsonl:7/.test(e.message),
  );
});

test('a validation label outside the training labels is an error naming file and line', () => {
  const set = buildLabelSet([ex('1', 'pos', 1), ex('2', 'neg', 2)]);
  checkValidationLabels([ex('x', 'pos', 1, 'val.csv')], set);
  assert.throws(
    () => checkValidationLabels([ex('x', 'pos', 1, 'val.csv'), ex('y', 'neutral', 9, 'val.csv')], set),
    (e: DataError) =>
      e.kind === 'unknown-label' && e.source?.file === 'val.csv' && e.source.line === 9 && /'neutral'/.test(e.message),
  );
});

test('token classification: the label set is the set of tags; IOB2 violations are counted', () => {
  const tok = (tags: string[], line: number): TokensExample => ({
    kind: 'tokens',
    tokens: tags.map((_, i) => `w${i}`),
    tags,
    source: { file: 'ner.jsonl', line },
  });
  const data = [tok(['B-PER', 'I-PER', 'O'], 1), tok(['O', 'I-LOC', 'B-LOC'], 2), tok(['B-PER', 'I-LOC'], 3)];
  const set = buildLabelSet(data);
  assert.deepEqual(set.labels, ['B-LOC', 'B-PER', 'I-LOC', 'I-PER', 'O']);
  const scheme = checkTagScheme(data, set);
  assert.equal(scheme.scheme, 'IOB2');
  assert.equal(scheme.violations, 2);
  assert.deepEqual(scheme.first, { file: 'ner.jsonl', line: 2, tag: 'I-LOC', previous: 'O' });
  const other = [tok(['S-PER', 'O'], 1)];
  assert.equal(checkTagScheme(other, buildLabelSet(other)).scheme, 'other');
});
