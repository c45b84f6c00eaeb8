import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CHAT_DATA_FILE, CHAT_TEMPLATE } from '../../src/extension/configs/chat-template.js';
import { CONFIG_TEMPLATES, writeTemplateFiles } from '../../src/extension/configs/templates.js';
import { CONFIG_FILE_RE } from '../../src/extension/ids.js';
import { RecordingConfigFs } from '../../src/extension/validation/config-fs.js';
import { toValue } from '../../src/shared/config-tree.js';
import { validateConfig, validateConfigText } from '../../src/shared/config-validate.js';
import { replaced } from '../fixtures/text-edit.js';

test('every task has a template, and each validates without errors or warnings', () => {
  assert.deepEqual(
    CONFIG_TEMPLATES.map((t) => t.task),
    [
      'text-classification',
      'token-classification',
      'question-answering',
      'causal-lm',
      'masked-lm',
      'translation',
      'summarization',
      'causal-lm',
    ],
  );
  for (const t of CONFIG_TEMPLATES) {
    assert.match(t.fileName, CONFIG_FILE_RE);
    const { parsed, diagnostics } = validateConfigText(t.yaml, 'yaml');
    const serious = diagnostics.filter((d) => d.severity === 'error' || d.severity === 'warning');
    assert.deepEqual(
      serious.map((d) => `${d.code}: ${d.message}`),
      [],
      t.task,
    );
    assert.equal(parsed.root?.kind, 'object');
  }
});

test('the chat template: messages data, LoRA r 16 / alpha 32 on all-linear, lr 2e-4, with its example data', () => {
  const { parsed } = validateConfigText(CHAT_TEMPLATE.yaml, 'yaml');
  const v = toValue(parsed.root) as {
    task: string;
    data: { train: string; format: string; max_length: number };
    training: { method: string; learning_rate: number; lora: Record<string, unknown> };
  };
  assert.equal(v.task, 'causal-lm');
  assert.equal(v.data.format, 'messages');
  assert.equal(v.data.train, CHAT_DATA_FILE);
  assert.equal(v.training.method, 'lora');
  assert.equal(v.training.learning_rate, 2e-4);
  assert.deepEqual(v.training.lora, { r: 16, alpha: 32, dropout: 0.05, target_modules: 'all-linear' });
  // Every key has its comment, as in the other templates.
  const uncommented = CHAT_TEMPLATE.yaml.split('\n').filter((l) => /^\s+\w+: \S/.test(l) && !l.includes('#'));
  assert.ok(uncommented.length <= 2, uncommented.join('\n'));
  const rows = (CHAT_TEMPLATE.files?.[CHAT_DATA_FILE] ?? '').trim().split('\n');
  assert.ok(rows.length >= 3);
  for (const line of rows) {
    const { messages } = JSON.parse(line) as { messages: { role: string; content: string }[] };
    assert.deepEqual(
      messages.map((m) => m.role),
      ['system', 'user', 'assistant'],
    );
    for (const m of messages) assert.ok(m.content.length > 0);
  }
});

test('the chat config validates with its example file checked, and a file the user has is kept', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ft-template-'));
  try {
    await writeTemplateFiles(CHAT_TEMPLATE, dir);
    writeFileSync(join(dir, CHAT_TEMPLATE.fileName), CHAT_TEMPLATE.yaml);
    const diagnostics = await validateConfig(CHAT_TEMPLATE.yaml, 'yaml', {
      fs: new RecordingConfigFs(),
      configDir: dir,
    });
    assert.deepEqual(
      diagnostics.map((d) => `${d.code}: ${d.message}`),
      [],
    );
    writeFileSync(join(dir, CHAT_DATA_FILE), 'mine\n');
    await writeTemplateFiles(CHAT_TEMPLATE, dir);
    assert.equal(readFileSync(join(dir, CHAT_DATA_FILE), 'utf8'), 'mine\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the pre-training template: masked-lm with held-out text for perplexity and masked accuracy, and its scratch variant valid too', () => {
  const template = CONFIG_TEMPLATES.find((t) => t.task === 'masked-lm');
  assert.ok(template);
  assert.equal(template.label, 'Pre-train / domain-adapt (masked LM)');
  const v = toValue(validateConfigText(template.yaml, 'yaml').parsed.root) as {
    data: { validation_split: number; mlm_probability: number };
    training: { init: string };
    eval: { metrics: string[] };
  };
  assert.equal(v.training.init, 'pretrained');
  assert.ok(v.data.validation_split > 0, 'without held-out text no evaluation runs, and the panel has no perplexity');
  assert.equal(v.data.mlm_probability, 0.15);
  assert.deepEqual(v.eval.metrics, ['perplexity', 'accuracy']);
  // The comments explain both starts: the scratch variant the user makes from it validates as well.
  assert.match(template.yaml, /scratch: model is a folder holding only config\.json and a tokenizer/);
  const scratch = replaced(
    replaced(template.yaml, 'init: pretrained ', 'init: scratch    '),
    'google-bert/bert-base-uncased',
    './scratch',
  );
  const { diagnostics } = validateConfigText(scratch, 'yaml');
  assert.deepEqual(
    diagnostics.filter((d) => d.severity === 'error' || d.severity === 'warning').map((d) => d.message),
    [],
  );
});
