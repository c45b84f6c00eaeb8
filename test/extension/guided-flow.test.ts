import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runGuidedFlow, typedModel } from '../../src/extension/configs/guided-flow.js';
import { RecordingConfigFs } from '../../src/extension/validation/config-fs.js';
import { validateConfig } from '../../src/shared/config-validate.js';
import { flow, scripted, workspace } from './fixtures/guided-workspace.js';

/**
 * The guided New Fine-tune Config end to end without VS Code (fixtures/guided-workspace.ts): the
 * written configs validate with the file checks, with no error and no warning.
 */
test('classification: the picked model and data, the detected columns, the validation file beside it', async (t) => {
  const ws = workspace(t);
  const seen: { models?: string[]; tasks?: string[] } = {};
  const { path, text, value } = await flow(ws, './models/tiny-bert', 'data/train.jsonl', seen);
  assert.deepEqual(seen.models, ['./models/chat-gpt2', './models/tiny-bert', './models/tiny-gpt2', './models/tiny-t5']);
  assert.deepEqual(seen.tasks, ['text-classification', 'masked-lm']);
  assert.equal(path, join(ws.dir, 'classifier.finetune.yaml'));
  assert.equal(value.model as unknown, './models/tiny-bert');
  assert.equal(value.task as unknown, 'text-classification');
  // tinyConfig's BERT has 40 positions: max_length is cut to fit.
  assert.deepEqual(value.data, {
    train: 'data/train.jsonl',
    validation: 'data/validation.jsonl',
    text_column: 'text',
    label_column: 'label',
    max_length: 40,
  });
  assert.deepEqual(value.eval, { every: 'epoch', metrics: ['accuracy', 'f1'] });
  assert.match(
    text,
    /^# Written by New Fine-tune Config from data\/train\.jsonl: 2 labels in 'label', text in 'text'\.\n# Labels seen in its first rows: negative, positive\./,
  );
  // A second config of the same task gets another name rather than overwriting the first.
  const again = await flow(ws, './models/tiny-bert', 'data/train.jsonl');
  assert.equal(again.path, join(ws.dir, 'x-classifier.finetune.yaml'));
});

test('regression, token classification and question answering on the encoder', async (t) => {
  const ws = workspace(t);
  const reg = await flow(ws, './models/tiny-bert', 'data/scores.jsonl');
  assert.equal(reg.value.data?.validation_split, 0.1);
  assert.deepEqual(reg.value.eval?.metrics, ['mse', 'pearson']);
  const ner = await flow(ws, './models/tiny-bert', 'data/ner.jsonl');
  assert.equal(ner.value.task as unknown, 'token-classification');
  assert.equal(ner.value.data?.tags_column, 'tags');
  const qa = await flow(ws, './models/tiny-bert', 'data/squad.jsonl');
  assert.equal(qa.value.task as unknown, 'question-answering');
  assert.equal(qa.value.data?.max_length, 40);
});

test('chat SFT and text on GPT-2 (LoRA on all linear layers), masked-lm on BERT', async (t) => {
  const ws = workspace(t);
  const chat = await flow(ws, './models/chat-gpt2', 'data/chat.jsonl');
  assert.equal(chat.value.task as unknown, 'causal-lm');
  assert.deepEqual(chat.value.data, {
    train: 'data/chat.jsonl',
    validation_split: 0.1,
    format: 'messages',
    max_length: 64,
  });
  assert.equal(chat.value.training?.method, 'lora');
  const lm = await flow(ws, './models/tiny-gpt2', 'data/corpus.jsonl');
  assert.deepEqual(lm.value.data?.format, 'text');
  const mlm = await flow(ws, './models/tiny-bert', 'data/corpus.jsonl');
  assert.equal(mlm.value.task as unknown, 'masked-lm');
  assert.equal(mlm.path, join(ws.dir, 'mlm.finetune.yaml'));
});

test("HF translation rows on T5: the object's languages and T5's prefix, no max_length", async (t) => {
  const ws = workspace(t);
  const seen: { tasks?: string[] } = {};
  const { path, value } = await flow(ws, './models/tiny-t5', 'data/wmt.jsonl', seen);
  assert.deepEqual(seen.tasks, ['translation']);
  assert.equal(path, join(ws.dir, 'translation.finetune.yaml'));
  assert.equal(value.task as unknown, 'translation');
  // run_translation.py's README trains t5-small with --source_prefix "translate English to Romanian: ".
  assert.deepEqual(value.data, {
    train: 'data/wmt.jsonl',
    validation_split: 0.1,
    source_lang: 'en',
    target_lang: 'de',
    source_prefix: 'translate English to German: ',
  });
  assert.equal(value.training?.learning_rate, 5e-5);
  assert.deepEqual(value.eval, { every: 'epoch', metrics: [] });
});

test('a typed Hub id is used as it is; a dataset with no text stops the flow with a message', async (t) => {
  const ws = workspace(t);
  const hub = await flow(ws, 'openai-community/gpt2', 'data/corpus.jsonl');
  assert.equal(hub.value.model as unknown, 'openai-community/gpt2');
  assert.equal(hub.value.task as unknown, 'causal-lm');
  assert.equal(hub.value.data?.max_length, 256);
  assert.equal(typedModel('./not a hub id'), undefined);

  writeFileSync(join(ws.dir, 'data', 'numbers.csv'), 'a,b\n1,2\n');
  const errors: string[] = [];
  const path = await runGuidedFlow(scripted('./models/tiny-bert', 'data/numbers.csv', errors), {
    folder: ws.dir,
    roots: [ws.dir],
    env: { HF_HUB_CACHE: ws.cache },
  });
  assert.equal(path, undefined);
  assert.deepEqual(errors, [
    'No task fits the columns of data/numbers.csv (a, b): a task needs a text column, token lists, SQuAD fields, chat messages or source/target texts.',
  ]);
});

test('a .finetune.json name gets the same config as JSON, which validates', async (t) => {
  const ws = workspace(t);
  const errors: string[] = [];
  const ui = { ...scripted('./models/tiny-bert', 'data/ner.jsonl', errors), fileName: async () => 'ner.finetune.json' };
  const path = await runGuidedFlow(ui, { folder: ws.dir, roots: [ws.dir], env: { HF_HUB_CACHE: ws.cache } });
  assert.equal(path, join(ws.dir, 'ner.finetune.json'));
  const text = readFileSync(path ?? '', 'utf8');
  const value = JSON.parse(text) as { task: string; data: Record<string, unknown> };
  assert.equal(value.task, 'token-classification');
  assert.deepEqual(value.data, {
    train: 'data/ner.jsonl',
    validation_split: 0.1,
    tokens_column: 'tokens',
    tags_column: 'tags',
    max_length: 40,
  });
  const diagnostics = await validateConfig(text, 'json', {
    fs: new RecordingConfigFs({ HF_HUB_CACHE: ws.cache }),
    configDir: ws.dir,
  });
  assert.deepEqual(
    diagnostics.filter((d) => d.severity === 'error' || d.severity === 'warning').map((d) => d.message),
    [],
  );
  assert.deepEqual(errors, []);
});
