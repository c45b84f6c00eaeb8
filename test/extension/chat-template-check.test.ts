import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { RecordingConfigFs } from '../../src/extension/validation/config-fs.js';
import { type Diagnostic, validateConfig } from '../../src/shared/config-validate.js';
import { repoCacheFolder } from '../../src/shared/node/hub-cache.js';
import { tempDir } from './helpers.js';

/**
 * The chat template warning of the editor's file checks (src/shared/config-sft-files.ts): a
 * `messages` dataset needs the model's chat template, as the engine's SFT data pipeline does
 * (tasks/causal-lm/sft.ts), and the row columns follow data.format.
 */
function write(dir: string, rel: string, text: string): void {
  const path = join(dir, rel);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

/** A decoder folder as far as the validator reads it; `tokenizerConfig` undefined writes none. */
function writeModel(dir: string, rel: string, tokenizerConfig: Record<string, unknown> | undefined): void {
  const config = { architectures: ['LlamaForCausalLM'], model_type: 'llama', max_position_embeddings: 256 };
  write(dir, `${rel}/config.json`, JSON.stringify(config));
  write(dir, `${rel}/model.safetensors`, '');
  write(dir, `${rel}/tokenizer.json`, '{}');
  if (tokenizerConfig) write(dir, `${rel}/tokenizer_config.json`, JSON.stringify(tokenizerConfig));
}

const CONVERSATION = JSON.stringify({
  messages: [
    { role: 'user', content: 'hi' },
    { role: 'assistant', content: 'hello' },
  ],
});

async function check(dir: string, text: string, env: NodeJS.ProcessEnv = {}): Promise<Diagnostic[]> {
  return validateConfig(text, 'yaml', {
    fs: new RecordingConfigFs({ HF_HUB_CACHE: join(dir, 'hub'), ...env }),
    configDir: dir,
  });
}

const brief = (ds: Diagnostic[]) => ds.map((d) => `${d.severity} ${d.code} ${d.path.join('.')}: ${d.message}`);

test('messages data with a model without a chat template: a warning on data.format naming the folder', async (t) => {
  const dir = tempDir(t);
  writeModel(dir, 'models/base', { bos_token: '<s>' });
  write(dir, 'data/chat.jsonl', `${CONVERSATION}\n`);
  const ds = await check(
    dir,
    'model: models/base\ntask: causal-lm\ndata:\n  train: data/chat.jsonl\n  format: messages\n',
  );
  assert.deepEqual(brief(ds), [
    "warning chat-template-missing data.format: 'models/base' has no chat template (no chat_template in models/base/tokenizer_config.json and no models/base/chat_template.jinja), which data.format messages needs to render the conversations. Use an instruct or chat model, or add a chat template to the folder.",
  ]);
  assert.equal(ds[0]?.range.start.line, 4);
});

test('format unset: detected from the first row (messages or conversations); the warning is on model', async (t) => {
  const dir = tempDir(t);
  writeModel(dir, 'm', undefined);
  write(dir, 'chat.jsonl', `${JSON.stringify({ conversations: [{ from: 'human', value: 'hi' }] })}\n`);
  const ds = await check(dir, 'model: ./m\ntask: causal-lm\ndata:\n  train: chat.jsonl\n');
  assert.equal(ds.length, 1, brief(ds).join('\n'));
  assert.equal(ds[0]?.code, 'chat-template-missing');
  assert.deepEqual(ds[0]?.path, ['model']);
  assert.match(ds[0]?.message ?? '', /it has no tokenizer_config\.json at all\.$/);
  // Text rows need no template: no warning, and text_column is what is checked.
  write(dir, 'text.jsonl', '{"text": "plain"}\n');
  assert.deepEqual(brief(await check(dir, 'model: ./m\ntask: causal-lm\ndata:\n  train: text.jsonl\n')), []);
});

test('a chat template in tokenizer_config.json, a named list with a default, or chat_template.jinja: no warning', async (t) => {
  const dir = tempDir(t);
  write(dir, 'chat.jsonl', `${CONVERSATION}\n`);
  const config = (m: string) => `model: ${m}\ntask: causal-lm\ndata:\n  train: chat.jsonl\n  format: messages\n`;
  writeModel(dir, 'string', { chat_template: '{{ messages }}' });
  writeModel(dir, 'named', { chat_template: [{ name: 'default', template: '{{ messages }}' }] });
  writeModel(dir, 'jinja', {});
  write(dir, 'jinja/chat_template.jinja', '{{ messages }}');
  for (const m of ['string', 'named', 'jinja']) assert.deepEqual(brief(await check(dir, config(m))), [], m);
  writeModel(dir, 'tool-only', { chat_template: [{ name: 'tool_use', template: '{{ tools }}' }] });
  const ds = await check(dir, config('tool-only'));
  assert.deepEqual(brief(ds), [
    "warning chat-template-missing data.format: tool-only/tokenizer_config.json lists chat templates named 'tool_use' but none named 'default', the one used for data.format messages.",
  ]);
});

test('messages and prompt-completion rows: their columns are checked, not text_column', async (t) => {
  const dir = tempDir(t);
  writeModel(dir, 'm', { chat_template: '{{ messages }}' });
  write(dir, 'text.jsonl', '{"text": "plain"}\n');
  write(dir, 'pc.jsonl', '{"prompt": "2+2=", "completion": "4"}\n');
  const config = (train: string, format: string) =>
    `model: ./m\ntask: causal-lm\ndata:\n  train: ${train}\n  format: ${format}\n`;
  assert.deepEqual(brief(await check(dir, config('text.jsonl', 'messages'))), [
    "error column-not-found data.train: data.format messages reads a 'messages' column (or ShareGPT 'conversations') in 'text.jsonl'; its columns are: text.",
  ]);
  assert.deepEqual(brief(await check(dir, config('text.jsonl', 'prompt-completion'))), [
    "error column-not-found data.train: data.format prompt-completion reads 'prompt' and 'completion' columns; 'prompt' and 'completion' not found in 'text.jsonl'; its columns are: text.",
  ]);
  assert.deepEqual(brief(await check(dir, config('pc.jsonl', 'prompt-completion'))), []);
  // Detected as prompt-completion from the first row: no demand for a text column.
  assert.deepEqual(brief(await check(dir, 'model: ./m\ntask: causal-lm\ndata:\n  train: pc.jsonl\n')), []);
});

test('a Hub id found in the Hugging Face cache is checked as its snapshot folder; one not cached is not', async (t) => {
  const dir = tempDir(t);
  const hub = join(dir, 'hub');
  const commit = 'a'.repeat(40);
  const storage = repoCacheFolder(hub, 'org/base-model');
  write(storage, 'refs/main', commit);
  writeModel(storage, `snapshots/${commit}`, {});
  write(dir, 'chat.jsonl', `${CONVERSATION}\n`);
  const config = (m: string) => `model: ${m}\ntask: causal-lm\ndata:\n  train: chat.jsonl\n  format: messages\n`;
  const ds = await check(dir, config('org/base-model'));
  assert.deepEqual(
    ds.map((d) => d.code),
    ['chat-template-missing'],
  );
  const snapshot = `${storage}/snapshots/${commit}`;
  assert.ok(
    ds[0]?.message.startsWith(
      `'org/base-model' has no chat template (no chat_template in ${snapshot}/tokenizer_config.json`,
    ),
    ds[0]?.message,
  );
  assert.deepEqual(
    (await check(dir, config('org/base-model@main'))).map((d) => d.code),
    ['chat-template-missing'],
  );
  assert.deepEqual(brief(await check(dir, config('org/not-downloaded'))), []);
});
