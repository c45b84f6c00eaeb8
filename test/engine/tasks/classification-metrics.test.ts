import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  accuracy,
  classificationReport,
  confusionMatrix,
  multiLabelPrecisionRecallF1,
  multiLabelPredictions,
  multiLabelSubsetAccuracy,
  precisionRecallF1,
} from '../../../src/engine/tasks/metrics/classification.js';
import { near, nearAll } from './near.js';

// A 3-class case worked by hand. Confusion matrix (rows true, columns predicted):
//            pred 0  pred 1  pred 2   | true support
//   true 0     2       1       0      |  3
//   true 1     0       2       1      |  3
//   true 2     1       1       2      |  4
//   predicted  3       4       3
// class 0: P = 2/3, R = 2/3, F1 = 2*2/(3+3) = 2/3
// class 1: P = 2/4, R = 2/3, F1 = 2*2/(3+4) = 4/7
// class 2: P = 2/3, R = 2/4, F1 = 2*2/(4+3) = 4/7
const Y_TRUE = [0, 0, 0, 1, 1, 1, 2, 2, 2, 2];
const Y_PRED = [0, 1, 0, 1, 1, 2, 2, 2, 0, 1];

test('3-class confusion matrix: rows are true labels, columns predicted, sorted label order', () => {
  assert.deepEqual(confusionMatrix(Y_TRUE, Y_PRED), {
    labels: [0, 1, 2],
    matrix: [
      [2, 1, 0],
      [0, 2, 1],
      [1, 1, 2],
    ],
  });
});

test('confusion matrix follows a given label order and drops samples outside the given labels', () => {
  assert.deepEqual(confusionMatrix(Y_TRUE, Y_PRED, [2, 0, 1]).matrix, [
    [2, 1, 1],
    [0, 2, 1],
    [1, 0, 2],
  ]);
  // Only classes 0 and 1: every sample with a 2 on either side is left out.
  assert.deepEqual(confusionMatrix(Y_TRUE, Y_PRED, [0, 1]).matrix, [
    [2, 1],
    [0, 2],
  ]);
});

test('accuracy is the share of exact label matches', () => {
  near(accuracy(Y_TRUE, Y_PRED), (2 + 2 + 2) / 10, 'accuracy');
  near(accuracy([3, 4], [3, 4]), 1, 'all right');
});

test('per-class report of the 3-class case', () => {
  const r = classificationReport(Y_TRUE, Y_PRED);
  assert.deepEqual(
    r.perClass.map((c) => [c.label, c.support]),
    [
      [0, 3],
      [1, 3],
      [2, 4],
    ],
  );
  nearAll({ ...r.perClass[0] }, { label: 0, precision: 2 / 3, recall: 2 / 3, f1: 2 / 3, support: 3 }, 'class 0');
  nearAll({ ...r.perClass[1] }, { label: 1, precision: 2 / 4, recall: 2 / 3, f1: 4 / 7, support: 3 }, 'class 1');
  nearAll({ ...r.perClass[2] }, { label: 2, precision: 2 / 3, recall: 2 / 4, f1: 4 / 7, support: 4 }, 'class 2');
  near(r.accuracy, 6 / 10, 'accuracy');
  assert.equal(r.support, 10);
});

test('macro, micro and weighted averages of the 3-class case', () => {
  const macro = {
    precision: (2 / 3 + 2 / 4 + 2 / 3) / 3,
    recall: (2 / 3 + 2 / 3 + 2 / 4) / 3,
    f1: (2 / 3 + 4 / 7 + 4 / 7) / 3,
  };
  // Weights are the true supports 3, 3, 4; weighted recall is always the accuracy.
  const weighted = {
    precision: (3 * (2 / 3) + 3 * (2 / 4) + 4 * (2 / 3)) / 10,
    recall: (3 * (2 / 3) + 3 * (2 / 3) + 4 * (2 / 4)) / 10,
    f1: (3 * (2 / 3) + 3 * (4 / 7) + 4 * (4 / 7)) / 10,
  };
  // Micro pools tp = 6 over 10 predictions and 10 true labels: all three equal the accuracy.
  const micro = { precision: 6 / 10, recall: 6 / 10, f1: 6 / 10 };
  nearAll(precisionRecallF1(Y_TRUE, Y_PRED, { average: 'macro' }), macro, 'macro');
  nearAll(precisionRecallF1(Y_TRUE, Y_PRED, { average: 'weighted' }), weighted, 'weighted');
  nearAll(precisionRecallF1(Y_TRUE, Y_PRED, { average: 'micro' }), micro, 'micro');
  const r = classificationReport(Y_TRUE, Y_PRED);
  nearAll(r.macro, macro, 'report macro');
  nearAll(r.weighted, weighted, 'report weighted');
  nearAll(r.micro, micro, 'report micro');
});

test('given labels: an absent class counts as 0 in macro, a subset restricts micro', () => {
  // Class 3 occurs nowhere: P, R, F1 are 0/0 -> 0 and it still weighs 1/4 in the macro mean.
  near(
    precisionRecallF1(Y_TRUE, Y_PRED, { average: 'macro', labels: [0, 1, 2, 3] }).f1,
    (2 / 3 + 4 / 7 + 4 / 7 + 0) / 4,
    'macro f1',
  );
  // Labels 0 and 1 only: tp = 2 + 2, predicted = 3 + 4, true = 3 + 3.
  nearAll(
    precisionRecallF1(Y_TRUE, Y_PRED, { average: 'micro', labels: [0, 1] }),
    { precision: 4 / 7, recall: 4 / 6, f1: (2 * 4) / (7 + 6) },
    'micro over {0, 1}',
  );
});

test('zero division: a class never predicted has precision 0 and F1 0', () => {
  // class 0: P 1/1, R 1/1, F1 1; class 1: P 1/2, R 1/1, F1 2/3; class 2: never predicted -> P 0, R 0/1, F1 0.
  const r = classificationReport([0, 1, 2], [0, 1, 1]);
  nearAll({ ...r.perClass[2] }, { label: 2, precision: 0, recall: 0, f1: 0, support: 1 }, 'class 2');
  nearAll(r.macro, { precision: (1 + 1 / 2 + 0) / 3, recall: (1 + 1 + 0) / 3, f1: (1 + 2 / 3 + 0) / 3 }, 'macro');
});

test('zero division: a class predicted but never true has recall 0, and weight 0 in weighted', () => {
  // class 0: tp 1, predicted 1, true 2 -> P 1, R 1/2, F1 2/3; class 1: tp 0, predicted 1, true 0 -> all 0.
  const r = classificationReport([0, 0], [0, 1]);
  nearAll({ ...r.perClass[1] }, { label: 1, precision: 0, recall: 0, f1: 0, support: 0 }, 'class 1');
  nearAll(r.macro, { precision: (1 + 0) / 2, recall: (1 / 2 + 0) / 2, f1: (2 / 3 + 0) / 2 }, 'macro');
  nearAll(r.weighted, { precision: 1, recall: 1 / 2, f1: 2 / 3 }, 'weighted (weights 2 and 0)');
});

test('zero division: weighted average with no listed class in y_true is 0', () => {
  nearAll(
    precisionRecallF1([0, 0], [1, 1], { average: 'weighted', labels: [1] }),
    { precision: 0, recall: 0, f1: 0 },
    'weighted',
  );
});

test("binary average scores the positive class 1 only (sklearn's average='binary')", () => {
  // tp = 2 (positions 0, 4), predicted positives 2, true positives 3: P 2/2, R 2/3, F1 2*2/(3+2).
  nearAll(
    precisionRecallF1([1, 1, 0, 0, 1], [1, 0, 0, 0, 1], { average: 'binary' }),
    { precision: 1, recall: 2 / 3, f1: 4 / 5 },
    'binary',
  );
  // posLabel 0 swaps the roles: tp 2, predicted 3, true 2.
  nearAll(
    precisionRecallF1([1, 1, 0, 0, 1], [1, 0, 0, 0, 1], { average: 'binary', posLabel: 0 }),
    { precision: 2 / 3, recall: 2 / 2, f1: 4 / 5 },
    'binary, posLabel 0',
  );
  // No positive anywhere: 0/0 everywhere -> 0 (sklearn warns and returns 0).
  nearAll(precisionRecallF1([0, 0], [0, 0], { average: 'binary' }), { precision: 0, recall: 0, f1: 0 }, 'no positives');
});

test('binary average refuses data that is not binary', () => {
  assert.throws(() => precisionRecallF1([0, 1, 2], [0, 1, 2], { average: 'binary' }), /binary/);
  assert.throws(() => precisionRecallF1([0, 2], [0, 2], { average: 'binary' }), /positive class 1/);
});

test('mismatched lengths and empty inputs are errors, not scores', () => {
  assert.throws(() => accuracy([0, 1], [0]), /2 true labels but 1 predictions/);
  assert.throws(() => accuracy([], []), /no samples/);
  assert.throws(() => classificationReport([], []), /no samples/);
});

// Multi-label: 4 samples, 3 labels. Logits become decisions at sigmoid >= 0.5, i.e. logit >= 0.
const ML_TRUE = [
  [1, 0, 1],
  [0, 1, 0],
  [1, 1, 0],
  [0, 0, 0],
];
const ML_LOGITS = [
  [2.0, -1, 0.5],
  [-3, 0.1, 1],
  [0, -0.2, -5],
  [-1, -1, -1],
];
const ML_PRED = [
  [1, 0, 1],
  [0, 1, 1],
  [1, 0, 0],
  [0, 0, 0],
];

test('multi-label decisions threshold the sigmoid at 0.5 (sigmoid(0) = 0.5 counts as on)', () => {
  assert.deepEqual(multiLabelPredictions(ML_LOGITS), ML_PRED);
  // Threshold 0.7 needs logit >= ln(0.7/0.3) = 0.847...: only the 2.0 and 1 logits pass.
  assert.deepEqual(multiLabelPredictions(ML_LOGITS, 0.7), [
    [1, 0, 0],
    [0, 0, 1],
    [0, 0, 0],
    [0, 0, 0],
  ]);
  assert.deepEqual(multiLabelPredictions([[-1000, 1000]]), [[0, 1]]);
});

test('multi-label subset accuracy counts only rows predicted exactly', () => {
  // Rows 0 and 3 match; row 1 has an extra label 2, row 2 misses label 1.
  near(multiLabelSubsetAccuracy(ML_TRUE, ML_PRED), 2 / 4, 'subset accuracy');
});

test('multi-label micro, macro and weighted F1', () => {
  // Per column: label 0 tp 2, predicted 2, true 2 -> F1 1; label 1 tp 1, predicted 1, true 2 -> F1 2/3;
  // label 2 tp 1, predicted 2, true 1 -> F1 2/3. Micro pools tp 4, predicted 5, true 5.
  nearAll(
    multiLabelPrecisionRecallF1(ML_TRUE, ML_PRED, 'micro'),
    { precision: 4 / 5, recall: 4 / 5, f1: 8 / 10 },
    'micro',
  );
  nearAll(
    multiLabelPrecisionRecallF1(ML_TRUE, ML_PRED, 'macro'),
    { precision: (1 + 1 + 1 / 2) / 3, recall: (1 + 1 / 2 + 1) / 3, f1: (1 + 2 / 3 + 2 / 3) / 3 },
    'macro',
  );
  // Supports 2, 2, 1.
  near(
    multiLabelPrecisionRecallF1(ML_TRUE, ML_PRED, 'weighted').f1,
    (2 * 1 + 2 * (2 / 3) + 1 * (2 / 3)) / 5,
    'weighted f1',
  );
});

test('multi-label macro counts a label that is never true nor predicted as 0', () => {
  const withEmpty = (rows: number[][]) => rows.map((r) => [...r, 0]);
  near(
    multiLabelPrecisionRecallF1(withEmpty(ML_TRUE), withEmpty(ML_PRED), 'macro').f1,
    (1 + 2 / 3 + 2 / 3 + 0) / 4,
    'macro f1',
  );
  // Micro is unchanged: the empty column adds no counts.
  near(multiLabelPrecisionRecallF1(withEmpty(ML_TRUE), withEmpty(ML_PRED), 'micro').f1, 8 / 10, 'micro f1');
});

test('multi-label inputs must be 0/1 rows of one width', () => {
  assert.throws(() => multiLabelSubsetAccuracy([[1, 0]], [[1]]), /1 indicators, expected 2/);
  assert.throws(() => multiLabelSubsetAccuracy([[1, 0]], [[0.7, 0]]), /0 or 1/);
});
