import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { generationStopIds } from '../../../src/engine/chat/generation-config.js';
import { predictCommand } from '../../../src/engine/commands/model-commands.js';
import { type LoadedCausalLm, loadCausalLm } from '../../../src/engine/inference/causal-lm-model.js';
import { conversationPrompt } from '../../../src/engine/inference/chat-prompt.js';
import { loadServedModel, type ServedModel } from '../../../src/engine/serve/served-model.js';
import { writeChatGpt2 } from '../../fixtures/chat.js';
import { GPT2_FIXTURE_SENTENCES, writeTinyGpt2 } from '../../fixtures/tiny-gpt2.js';
import { startServer } from './helpers.js';

/**
 * `finetune serve` against the official `openai` npm client, over tiny random GPT-2s: a ChatML chat
 * model (template applied) and a plain one (completions, compared with `finetune predict`).
 * Response shapes are OpenAI's API reference (chat.completion, chat.completion.chunk,
 * text_completion), which the client's types follow.
 */
let dir: string;
let chatDir: string;
let plainDir: string;
let lm: LoadedCausalLm;
let chatModel: ServedModel;
let plainModel: ServedModel;
let chat: { url: string; close: () => Promise<void> };
let plain: { url: string; close: () => Promise<void> };
const client = (url: string) => new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'serve-openai-'));
  chatDir = join(dir, 'chat');
  plainDir = join(dir, 'plain');
  writeChatGpt2(chatDir, GPT2_FIXTURE_SENTENCES);
  writeTinyGpt2(plainDir, GPT2_FIXTURE_SENTENCES, { seed: 3 });
  lm = await loadCausalLm(chatDir, { threads: 1 });
  chatModel = await loadServedModel(chatDir, 'tiny-chat', { threads: 1 });
  plainModel = await loadServedModel(plainDir, 'tiny-plain', { threads: 1 });
  chat = await startServer(chatModel);
  plain = await startServer(plainModel);
});

after(async () => {
  await Promise.all([chat?.close(), plain?.close()]);
  await Promise.all([lm?.dispose(), chatModel?.dispose(), plainModel?.dispose()]);
});

const messages = [
  { role: 'system' as const, content: 'You are terse.' },
  { role: 'user' as const, content: 'the cat sees' },
];

test('serve: GET /v1/models lists the served model', async () => {
  const page = await client(chat.url).models.list();
  assert.deepEqual(
    page.data.map((m) => ({ id: m.id, object: m.object })),
    [{ id: 'tiny-chat', object: 'model' }],
  );
});

test('serve: chat completion (greedy) is the model reply to the templated conversation', async () => {
  const reply = await client(chat.url).chat.completions.create({
    model: 'tiny-chat',
    messages,
    max_tokens: 12,
    temperature: 0,
  });
  const expected = await lm.generate(conversationPrompt(lm, messages), {
    maxNewTokens: 12,
    stopTokenIds: generationStopIds(chatDir, [lm.eosTokenId]),
  });
  assert.match(reply.id, /^chatcmpl-/);
  assert.equal(reply.object, 'chat.completion');
  assert.equal(reply.model, 'tiny-chat');
  assert.equal(typeof reply.created, 'number');
  assert.equal(reply.choices.length, 1);
  const [choice] = reply.choices;
  assert.deepEqual(choice?.message, { role: 'assistant', content: expected.text, refusal: null });
  assert.equal(choice?.index, 0);
  assert.equal(choice?.logprobs, null);
  assert.equal(choice?.finish_reason, expected.stoppedBy === 'eos' ? 'stop' : 'length');
  const promptTokens = (conversationPrompt(lm, messages) as number[]).length;
  assert.deepEqual(reply.usage, {
    prompt_tokens: promptTokens,
    completion_tokens: expected.ids.length,
    total_tokens: promptTokens + expected.ids.length,
  });
});

test('serve: streamed chat chunks concatenate to the non-streamed reply; usage in the last chunk', async () => {
  const request = { model: 'tiny-chat', messages, max_completion_tokens: 16, temperature: 0 };
  const whole = await client(chat.url).chat.completions.create(request);
  const stream = await client(chat.url).chat.completions.create({
    ...request,
    stream: true,
    stream_options: { include_usage: true },
  });
  const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  assert.ok(chunks.length >= 3, 'role chunk, content, finish');
  assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0]?.id));
  assert.deepEqual(chunks[0]?.choices[0]?.delta, { role: 'assistant', content: '' });
  const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
  assert.equal(text, whole.choices[0]?.message.content);
  const finishing = chunks.filter((c) => c.choices[0]?.finish_reason);
  assert.equal(finishing.length, 1);
  assert.equal(finishing[0]?.choices[0]?.finish_reason, whole.choices[0]?.finish_reason);
  const last = chunks.at(-1);
  assert.deepEqual(last?.choices, []);
  assert.deepEqual(last?.usage, whole.usage);
});

test('serve: SSE framing is "data: <json>\\n\\n" events ending with data: [DONE]', async () => {
  const res = await fetch(`${plain.url}/v1/completions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ prompt: 'the cat', max_tokens: 5, temperature: 0, stream: true }),
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const body = await res.text();
  assert.ok(body.endsWith('data: [DONE]\n\n'));
  const events = body.split('\n\n').filter(Boolean);
  assert.ok(events.every((e) => e.startsWith('data: ') && !e.slice(6).includes('\n')));
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice(6)));
  assert.ok(chunks.every((c) => c.object === 'text_completion' && c.choices[0].logprobs === null));
  assert.equal(chunks.at(-1).choices[0].finish_reason, 'length');
});

test('serve: greedy /v1/completions equals `finetune predict` for the same prompt', async () => {
  const prompts = ['the cat', 'a dog helps the'];
  const input = join(dir, 'prompts.jsonl');
  const output = join(dir, 'predicted.jsonl');
  writeFileSync(input, prompts.map((text) => `${JSON.stringify({ text })}\n`).join(''));
  assert.equal(await predictCommand.run(['--model', plainDir, '--input', input, '--output', output]), 0);
  const predicted = readFileSync(output, 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { text: string }).text);
  for (const [i, prompt] of prompts.entries()) {
    // predict's default is 50 new tokens, greedy.
    const reply = await client(plain.url).completions.create({
      model: 'tiny-plain',
      prompt,
      max_tokens: 50,
      temperature: 0,
    });
    assert.equal(reply.object, 'text_completion');
    assert.match(reply.id, /^cmpl-/);
    assert.equal(reply.choices[0]?.text, predicted[i], `prompt ${JSON.stringify(prompt)}`);
  }
});

test('serve: stop strings end the text before the stop; the same seed samples the same text', async () => {
  const full = await client(plain.url).completions.create({
    model: 'x',
    prompt: 'the cat',
    max_tokens: 20,
    temperature: 0,
  });
  const text = full.choices[0]?.text ?? '';
  assert.ok(text.length >= 6, 'the fixture generates some text');
  const stop = text.slice(3, 5);
  const cut = await client(plain.url).completions.create({
    model: 'x',
    prompt: 'the cat',
    max_tokens: 20,
    temperature: 0,
    stop: [stop, 'never produced'],
  });
  assert.equal(cut.choices[0]?.text, text.slice(0, text.indexOf(stop)));
  assert.equal(cut.choices[0]?.finish_reason, 'stop');
  const sampled = () =>
    client(plain.url).completions.create({ model: 'x', prompt: 'the cat', max_tokens: 12, temperature: 1.5, seed: 7 });
  assert.equal((await sampled()).choices[0]?.text, (await sampled()).choices[0]?.text);
});
