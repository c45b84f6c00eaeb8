import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lmScores, perplexityOf } from '../../../src/engine/tasks/metrics/perplexity.js';
import {
  computeMetrics,
  type EvalOutputs,
  isImprovement,
  metricDirection,
} from '../../../src/engine/tasks/metrics/registry.js';
import { metricNamesForTask, TASK_NAMES, TASKS } from '../../../src/engine/tasks/registry.js';
import { generatedMetricsOf } from '../../../src/engine/tasks/seq2seq/evaluate.js';
import { METRIC_NAMES, METRICS } from '../../../src/shared/config-metrics.js';
import { near, nearAll } from './near.js';

test('perplexity weighs batches by their tokens, not by batch', () => {
  // Batch means 2.0 (3 tokens) and 0.5 (1 token): the token mean is (6 + 0.5) / 4, not (2 + 0.5) / 2.
  const s = lmScores([
    { nllSum: 6, tokens: 3 },
    { nllSum: 0.5, tokens: 1 },
    { nllSum: 0, tokens: 0 },
  ]);
  near(s.loss, 6.5 / 4, 'loss');
  near(s.perplexity, Math.exp(6.5 / 4), 'perplexity');
  near(perplexityOf(Math.log(7)), 7, 'exp(log 7)');
  assert.equal(perplexityOf(1000), Number.POSITIVE_INFINITY);
});

test('perplexity refuses no tokens and fractional token counts', () => {
  assert.throws(() => lmScores([]), /no scored tokens/);
  assert.throws(() => lmScores([{ nllSum: 1, tokens: 1.5 }]), /non-negative integer/);
});

test('single-label f1/precision/recall are binary for 2 labels and macro otherwise', () => {
  const binary: EvalOutputs = {
    kind: 'single-label',
    labels: [1, 1, 0, 0, 1],
    predictions: [1, 0, 0, 0, 1],
    numLabels: 2,
  };
  // Class 1: tp 2, predicted 2, true 3. Macro would average in class 0 (P 2/3, R 1, F1 4/5).
  nearAll(
    computeMetrics(binary, ['accuracy', 'f1', 'precision', 'recall', 'f1_macro']),
    { accuracy: 4 / 5, f1: 4 / 5, precision: 1, recall: 2 / 3, f1_macro: (4 / 5 + 4 / 5) / 2 },
    'binary',
  );
  // Same 3-class data as the classification tests: F1 per class 2/3, 4/7, 4/7.
  const multi: EvalOutputs = {
    kind: 'single-label',
    labels: [0, 0, 0, 1, 1, 1, 2, 2, 2, 2],
    predictions: [0, 1, 0, 1, 1, 2, 2, 2, 0, 1],
    numLabels: 3,
  };
  const got = computeMetrics(multi, ['f1', 'f1_macro', 'f1_micro', 'f1_weighted', 'precision_weighted', 'recall']);
  nearAll(
    got,
    {
      f1: (2 / 3 + 4 / 7 + 4 / 7) / 3,
      f1_macro: (2 / 3 + 4 / 7 + 4 / 7) / 3,
      f1_micro: 6 / 10,
      f1_weighted: (3 * (2 / 3) + 3 * (4 / 7) + 4 * (4 / 7)) / 10,
      precision_weighted: (3 * (2 / 3) + 3 * (2 / 4) + 4 * (2 / 3)) / 10,
      recall: (2 / 3 + 2 / 3 + 2 / 4) / 3,
    },
    '3 classes',
  );
});

test('multi-label: accuracy is subset accuracy and plain f1 is micro', () => {
  const o: EvalOutputs = {
    kind: 'multi-label',
    labels: [
      [1, 0, 1],
      [0, 1, 0],
    ],
    predictions: [
      [1, 0, 1],
      [0, 1, 1],
    ],
  };
  // Column counts: tp (1, 1, 1), predicted (1, 1, 2), true (1, 1, 1): micro tp 3, predicted 4, true 3.
  nearAll(
    computeMetrics(o, ['accuracy', 'f1', 'f1_macro']),
    { accuracy: 1 / 2, f1: (2 * 3) / (4 + 3), f1_macro: (1 + 1 + (2 * 1) / (2 + 1)) / 3 },
    'multi-label',
  );
});

test('regression, token classification, QA and causal-LM metrics through the registry', () => {
  nearAll(
    computeMetrics({ kind: 'regression', labels: [1, 2, 3], predictions: [1, 2, 5] }, ['mse', 'mae']),
    { mse: 4 / 3, mae: 2 / 3 },
    'regression',
  );
  const tokens: EvalOutputs = {
    kind: 'token-classification',
    labels: [['B-PER', 'I-PER', 'O', 'B-LOC']],
    predictions: [['B-PER', 'I-PER', 'O', 'O']],
  };
  // PER found, LOC missed: micro P 1/1, R 1/2; per type F1 PER 1, LOC 0.
  nearAll(
    computeMetrics(tokens, ['precision', 'recall', 'f1', 'accuracy', 'f1_macro']),
    { precision: 1, recall: 1 / 2, f1: 2 / 3, accuracy: 3 / 4, f1_macro: (0 + 1) / 2 },
    'token classification',
  );
  nearAll(
    computeMetrics({ kind: 'question-answering', examples: [{ prediction: 'the cat', answers: ['Cat'] }] }, [
      'exact_match',
      'f1',
    ]),
    { exact_match: 100, f1: 100 },
    'qa',
  );
  nearAll(
    computeMetrics({ kind: 'causal-lm', batches: [{ nllSum: 2 * Math.log(3), tokens: 2 }] }, ['perplexity']),
    { perplexity: 3 },
    'causal lm',
  );
});

test('a metric the head does not define is an error naming the valid ones', () => {
  assert.throws(
    () => computeMetrics({ kind: 'regression', labels: [1, 2], predictions: [1, 2] }, ['accuracy']),
    /'accuracy' is not a regression metric; choose from mse, mae, pearson, spearmanr/,
  );
  for (const name of ['constructor', 'toString', '__proto__']) {
    assert.throws(
      () => computeMetrics({ kind: 'causal-lm', batches: [{ nllSum: 1, tokens: 1 }] }, [name]),
      /is not a causal-lm metric; choose from perplexity$/,
      name,
    );
  }
});

test('metric names valid per task', () => {
  const text = metricNamesForTask('text-classification');
  for (const name of [
    'accuracy',
    'f1',
    'f1_macro',
    'f1_micro',
    'f1_weighted',
    'precision',
    'recall',
    'mse',
    'spearmanr',
  ] as const) {
    assert.ok(text.includes(name), `text-classification lists ${name}`);
  }
  assert.equal(new Set(text).size, text.length, 'no duplicates');
  assert.deepEqual(metricNamesForTask('question-answering'), ['exact_match', 'f1']);
  assert.deepEqual(metricNamesForTask('causal-lm'), ['perplexity']);
  const ner = metricNamesForTask('token-classification');
  assert.deepEqual(ner.slice(0, 4), ['accuracy', 'precision', 'recall', 'f1']);
  assert.ok(!ner.includes('mse'));
});

test('directions: errors and perplexity and loss are minimised, scores maximised', () => {
  for (const name of ['loss', 'mse', 'mae', 'perplexity']) assert.equal(metricDirection(name), 'min', name);
  for (const name of ['accuracy', 'f1', 'f1_weighted', 'exact_match', 'pearson', 'spearmanr', 'recall_micro']) {
    assert.equal(metricDirection(name), 'max', name);
  }
  assert.throws(() => metricDirection('meteor'), /unknown metric 'meteor'/);
  assert.equal(metricDirection('bleu'), 'max');
  assert.ok(isImprovement('f1', 0.8, 0.7));
  assert.ok(!isImprovement('f1', 0.7, 0.7), 'equal is not an improvement');
  assert.ok(isImprovement('loss', 0.3, 0.4));
  assert.ok(isImprovement('perplexity', 5, undefined));
  assert.ok(!isImprovement('loss', Number.NaN, 0.4));
  assert.ok(isImprovement('loss', 0.4, Number.NaN));
});

// The shared table (what validation and completion offer) and the engine (what a task's heads
// compute) must agree per task; the metrics `finetune evaluate` prints by default must be among them.
test('per task, the registry computes exactly the metrics the shared table lists', () => {
  for (const task of TASK_NAMES) {
    const listed = METRIC_NAMES.filter((name) => (METRICS[name].tasks as readonly string[]).includes(task));
    const computed = metricNamesForTask(task);
    assert.deepEqual([...computed].sort(), [...listed].sort(), task);
    for (const name of TASKS[task].evaluateMetrics)
      assert.ok(computed.includes(name), `${task}: default metric ${name}`);
  }
});

test('seq2seq (eval.generate): BLEU and chrF as sacreBLEU, ROUGE F-measures ×100, by hand', () => {
  const outputs = {
    kind: 'seq2seq',
    predictions: ['the cat sat', 'a dog'],
    references: ['the cat sat down', 'a dog'],
  } as const;
  const m = computeMetrics(outputs, ['rouge1', 'rouge2', 'rougeL', 'rougeLsum']);
  // rouge1 per row: P 3/3, R 3/4 -> F 6/7; row 2: 1. Mean 13/14. rouge2: 2/2, 2/3 -> F 4/5; row 2: 1 -> 0.9.
  near(m.rouge1 as number, (100 * 13) / 14, 'm.rouge1', 1e-9);
  near(m.rouge2 as number, 90, 'm.rouge2', 1e-9);
  near(m.rougeL as number, (100 * 13) / 14, 'm.rougeL', 1e-9);
  near(m.rougeLsum as number, (100 * 13) / 14, 'm.rougeLsum', 1e-9);
  // BLEU by hand (sacreBLEU: 13a tokens, no smoothing needed): 'the cat sat on the mat' against
  // 'the cat sat on the red mat': n-gram precisions 6/6, 4/5, 3/4, 2/3; BP = exp(1 - 7/6).
  const bleu = computeMetrics(
    { kind: 'seq2seq', predictions: ['the cat sat on the mat'], references: ['the cat sat on the red mat'] },
    ['bleu', 'chrf'],
  );
  const byHand =
    100 * Math.exp(1 - 7 / 6) * Math.exp((Math.log(1) + Math.log(0.8) + Math.log(0.75) + Math.log(2 / 3)) / 4);
  near(bleu.bleu as number, byHand, 'bleu.bleu', 1e-9);
  assert.ok((bleu.chrf as number) > 50 && (bleu.chrf as number) < 100, String(bleu.chrf));
  const same = computeMetrics({ kind: 'seq2seq', predictions: ['a b c d'], references: ['a b c d'] }, ['bleu', 'chrf']);
  near(same.bleu as number, 100, 'same.bleu', 1e-9); // sacreBLEU's own float: 100.00000000000004
  assert.equal(same.chrf, 100);
  assert.equal(generatedMetricsOf('translation', []).join(), 'bleu,chrf');
  assert.equal(generatedMetricsOf('summarization', []).join(), 'rouge1,rouge2,rougeL,rougeLsum');
  assert.equal(generatedMetricsOf('summarization', ['bleu']).join(), 'bleu');
});
