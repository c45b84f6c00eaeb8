import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chartTitle, sharedTask, taskOf } from '../../src/webview/chart-titles.js';

test("a masked-LM run's charts: MLM loss, perplexity and masked-token accuracy", () => {
  assert.deepEqual(
    ['loss', 'eval-loss', 'eval-perplexity', 'eval-accuracy', 'lr'].map((id) => chartTitle(id, 'masked-lm')),
    [
      'Training loss (masked LM)',
      'Evaluation loss (masked LM)',
      'Evaluation perplexity',
      'Masked-token accuracy',
      'Learning rate',
    ],
  );
  assert.equal(chartTitle('loss', 'causal-lm'), 'Training loss (causal LM)');
  assert.equal(chartTitle('eval-perplexity', 'causal-lm'), 'Evaluation perplexity');
});

test('other tasks, and runs of mixed tasks, keep the plain titles', () => {
  for (const task of ['text-classification', undefined]) {
    assert.equal(chartTitle('loss', task), 'Training loss');
    assert.equal(chartTitle('eval-loss', task), 'Evaluation loss');
    assert.equal(chartTitle('eval-accuracy', task), 'Evaluation accuracy');
    assert.equal(chartTitle('eval-f1', task), 'Evaluation f1');
  }
  assert.equal(sharedTask([{ task: 'masked-lm' }, { task: 'masked-lm', seed: 1 }]), 'masked-lm');
  assert.equal(sharedTask([{ task: 'masked-lm' }, { task: 'text-classification' }]), undefined);
  assert.equal(sharedTask([{ task: 'masked-lm' }, undefined]), undefined);
  assert.equal(sharedTask([]), undefined);
  assert.equal(taskOf(['masked-lm']), undefined);
  assert.equal(taskOf({ task: 3 }), undefined);
});

test('translation and summarization metrics are titled as sacreBLEU and rouge-score name them', () => {
  assert.deepEqual(
    ['eval-bleu', 'eval-chrf', 'eval-rouge1', 'eval-rouge2', 'eval-rougeL', 'eval-rougeLsum', 'eval-loss'].map((id) =>
      chartTitle(id, 'translation'),
    ),
    [
      'Evaluation BLEU',
      'Evaluation chrF',
      'Evaluation ROUGE-1',
      'Evaluation ROUGE-2',
      'Evaluation ROUGE-L',
      'Evaluation ROUGE-Lsum',
      'Evaluation loss',
    ],
  );
});
