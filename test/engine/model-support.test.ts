import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FAMILIES } from '../../src/engine/models/registry.js';
import { TASKS } from '../../src/engine/tasks/registry.js';
import { TASK_NAMES } from '../../src/shared/config-tasks.js';
import { languageModellingTask, modelSupport, TASK_MODEL_TYPES, tasksOf } from '../../src/shared/model-support.js';

const sorted = (xs: readonly string[]) => [...xs].sort();

test("the shared table of model_types per task is the engine's registry", () => {
  const encoders = FAMILIES.filter((f) => f.kind === 'encoder').flatMap((f) => f.modelTypes);
  const decoders = FAMILIES.filter((f) => f.kind === 'decoder').flatMap((f) => f.modelTypes);
  const mlm = FAMILIES.flatMap((f) => (f.kind === 'encoder' && f.maskedLmHead ? f.modelTypes : []));
  for (const task of ['text-classification', 'token-classification', 'question-answering'] as const)
    assert.deepEqual(sorted(TASK_MODEL_TYPES[task]), sorted(encoders), task);
  assert.deepEqual(sorted(TASK_MODEL_TYPES['masked-lm']), sorted(mlm));
  // causal-lm: the decoders, and XLNet's permutation LM (tasks/causal-lm/index.ts dispatches on it).
  assert.deepEqual(sorted(TASK_MODEL_TYPES['causal-lm']), sorted([...decoders, 'xlnet']));
  const seq2seq = FAMILIES.filter((f) => f.kind === 'seq2seq').flatMap((f) => f.modelTypes);
  for (const task of ['translation', 'summarization'] as const)
    assert.deepEqual(sorted(TASK_MODEL_TYPES[task]), sorted(seq2seq), task);
  assert.deepEqual(sorted(Object.keys(TASK_MODEL_TYPES)), sorted(TASK_NAMES));
  assert.deepEqual(sorted(Object.keys(TASKS)), sorted(TASK_NAMES));
});

test('support says why not: an unknown family, a task the family is not trained for, no model_type', () => {
  assert.deepEqual(modelSupport('bert', 'text-classification'), { supported: true });
  assert.deepEqual(tasksOf('gpt2'), ['causal-lm']);
  const bart = modelSupport('pegasus');
  assert.equal(bart.supported, false);
  assert.match(bart.reason ?? '', /model_type 'pegasus' is not a family this engine trains \(bert, .*gpt2/);
  const gpt2 = modelSupport('gpt2', 'text-classification');
  assert.equal(gpt2.supported, false);
  assert.match(gpt2.reason ?? '', /text-classification is not trained on 'gpt2' \(its tasks: causal-lm\)/);
  assert.match(modelSupport(undefined).reason ?? '', /no model_type/);
  assert.equal(languageModellingTask('bert'), 'masked-lm');
  assert.equal(languageModellingTask('llama'), 'causal-lm');
  assert.equal(languageModellingTask('xlnet'), 'causal-lm');
  assert.equal(languageModellingTask(undefined), 'causal-lm');
});
