import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { type LoadedCausalLm, loadCausalLm } from '../../src/engine/inference/causal-lm-model.js';
import { conversationPrompt } from '../../src/engine/inference/chat-prompt.js';
import { ChatServer, generationOf } from '../../src/engine/inference/chat-server.js';
import { TextStream } from '../../src/engine/inference/text-stream.js';
import { type ChatReply, parseChatReply } from '../../src/shared/chat-protocol.js';
import { GPT2_FIXTURE_SENTENCES, writeTinyGpt2 } from '../fixtures/tiny-gpt2.js';

const ROOT = join(__dirname, '..', '..');
let dir: string;
let lm: LoadedCausalLm;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'chat-'));
  writeTinyGpt2(dir, GPT2_FIXTURE_SENTENCES, { seed: 3 });
  lm = await loadCausalLm(dir, { threads: 1 });
});

after(async () => {
  await lm?.dispose();
});

/** A server over the fixture whose replies are collected; `onReply` may act on each (e.g. send stop). */
function server(onReply?: (r: ChatReply, s: ChatServer) => void) {
  const replies: ChatReply[] = [];
  const s: ChatServer = new ChatServer(lm, (r) => {
    replies.push(r);
    onReply?.(r, s);
  });
  return { s, replies };
}

const generate = (id: number, content: string, options: object = {}) =>
  JSON.stringify({ type: 'generate', id, messages: [{ role: 'user', content }], options });

test('chat: streamed deltas concatenate to the non-streamed greedy text, then done', async () => {
  for (const prompt of ['the cat', 'a dog helps the']) {
    const expected = await lm.generate(prompt, generationOf({ max_new_tokens: 20 }));
    const { s, replies } = server();
    s.handleLine(generate(8, prompt, { max_new_tokens: 20 }));
    await ended(replies, 8);
    const tokens = replies.filter((r) => r.type === 'token');
    assert.ok(tokens.length >= 1, 'tokens are streamed');
    assert.equal(tokens.map((t) => (t.type === 'token' ? t.text : '')).join(''), expected.text);
    assert.deepEqual(replies.at(-1), {
      type: 'done',
      id: 8,
      stoppedBy: expected.stoppedBy,
      tokens: expected.ids.length,
    });
  }
});

test('chat: stop mid-generation ends it with stoppedBy "stopped" after the tokens so far', async () => {
  const full = await lm.generate('the cat', generationOf({ max_new_tokens: 20 }));
  assert.ok(full.ids.length >= 3, 'the fixture generates more than 2 tokens for this prompt');
  let streamed = 0;
  const { s, replies } = server((r, srv) => {
    if (r.type === 'token' && ++streamed === 2) srv.handleLine(JSON.stringify({ type: 'stop', id: 1 }));
  });
  s.handleLine(generate(1, 'the cat', { max_new_tokens: 20 }));
  await ended(replies, 1);
  const done = replies.at(-1);
  assert.equal(done?.type, 'done');
  assert.equal(done?.type === 'done' && done.stoppedBy, 'stopped');
  assert.ok(done?.type === 'done' && done.tokens >= 2 && done.tokens < full.ids.length);
  // A stop for a generation that is not running is ignored (it may just have ended).
  s.handleLine(JSON.stringify({ type: 'stop', id: 1 }));
  assert.equal(replies.at(-1), done);
});

test('chat: a second generate while one runs is refused; malformed requests name the problem', async () => {
  const { s, replies } = server();
  s.handleLine(generate(1, 'the cat', { max_new_tokens: 5 }));
  s.handleLine(generate(2, 'the dog'));
  assert.deepEqual(replies[0], {
    type: 'error',
    id: 2,
    message: 'busy: generation 1 is still running (one at a time; stop it first)',
  });
  await ended(replies, 1);
  assert.equal(replies.at(-1)?.type, 'done');
  const bad: [string, ChatReply][] = [
    ['{oops', { type: 'error', message: `not JSON: ${jsonError('{oops')}` }],
    ['[1]', { type: 'error', message: 'a request must be a JSON object' }],
    [
      '{"type":"dance","id":3}',
      { type: 'error', id: 3, message: 'unknown request type "dance" (expected "generate" or "stop")' },
    ],
    [
      '{"type":"generate","id":-1,"messages":[]}',
      { type: 'error', message: 'generate: "id" must be a non-negative integer' },
    ],
    [
      '{"type":"generate","id":4,"messages":[]}',
      { type: 'error', id: 4, message: 'generate: "messages" must be a non-empty array of {role, content}' },
    ],
    [
      '{"type":"generate","id":5,"messages":[{"role":"bot","content":"x"}]}',
      { type: 'error', id: 5, message: 'generate: messages[0].role must be one of system, user, assistant' },
    ],
    [
      '{"type":"generate","id":6,"messages":[{"role":"user","content":1}]}',
      { type: 'error', id: 6, message: 'generate: messages[0].content must be a string' },
    ],
    [
      generate(7, 'x', { top_p: 2 }),
      { type: 'error', id: 7, message: 'generate: options.top_p must be a number in (0, 1], got 2' },
    ],
    [
      generate(8, 'x', { beams: 2 }),
      {
        type: 'error',
        id: 8,
        message:
          'generate: unknown option "beams" (known: max_new_tokens, temperature, top_p, top_k, seed, repetition_penalty, stop)',
      },
    ],
    [
      JSON.stringify({ type: 'generate', id: 9, messages: [{ role: 'system', content: 'be nice' }] }),
      { type: 'error', id: 9, message: 'the conversation has no user message to continue' },
    ],
  ];
  for (const [line, expected] of bad) {
    const { s: each, replies: got } = server();
    each.handleLine(line);
    await each.close();
    assert.deepEqual(got, [expected], line);
  }
});

test('chat: completion mode prompts with the last user message; a chat template renders the whole conversation', () => {
  const messages = [
    { role: 'system', content: 'be brief' },
    { role: 'user', content: 'first' },
    { role: 'assistant', content: 'reply' },
    { role: 'user', content: 'the cat' },
  ] as const;
  assert.equal(conversationPrompt(lm, [...messages]), 'the cat');
  // The same GPT-2 folder with a template: the rendered text with the generation prompt, tokenized
  // without special tokens (the template writes its own), as apply_chat_template(tokenize=True).
  const templated = mkdtempSync(join(tmpdir(), 'chat-template-'));
  writeTinyGpt2(templated, GPT2_FIXTURE_SENTENCES, { seed: 3 });
  const template =
    '{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}';
  writeFileSync(join(templated, 'tokenizer_config.json'), JSON.stringify({ chat_template: template }));
  const rendered = 'system: be brief\nuser: first\nassistant: reply\nuser: the cat\nassistant:';
  assert.deepEqual(
    conversationPrompt({ folder: templated, tokenizer: lm.tokenizer }, [...messages]),
    lm.tokenizer.encode(rendered, null, { addSpecialTokens: false }).ids,
  );
  // A template that refuses the conversation: its own message, no silent fallback.
  writeFileSync(
    join(templated, 'tokenizer_config.json'),
    JSON.stringify({ chat_template: "{{ raise_exception('roles must alternate') }}" }),
  );
  assert.throws(
    () => conversationPrompt({ folder: templated, tokenizer: lm.tokenizer }, [...messages]),
    /roles must alternate/,
  );
});

test('text stream: a character split across byte tokens is held back until whole', () => {
  // Byte-level decoding as a tokenizer does it: ids are bytes, an incomplete UTF-8 tail decodes to U+FFFD.
  const decode = (ids: readonly number[]) => new TextDecoder().decode(new Uint8Array(ids));
  const bytes = [...new TextEncoder().encode('a é 🙂!')];
  const stream = new TextStream(decode);
  const deltas = bytes.map((b) => stream.push(b));
  assert.ok(
    deltas.every((d) => !d.includes('\uFFFD')),
    JSON.stringify(deltas),
  );
  assert.ok(deltas.includes('🙂'), 'the 4-byte emoji is sent whole, once complete');
  assert.equal(deltas.join('') + stream.finish(decode(bytes)), 'a é 🙂!');
  // A generation that ends inside a character still delivers its final text (with the U+FFFD).
  const cut = new TextStream(decode);
  const partial = bytes.slice(0, 5);
  const sent = partial.map((b) => cut.push(b)).join('');
  assert.equal(sent + cut.finish(decode(partial)), decode(partial));
});

test('finetune chat: the CLI answers ready, streams, reports bad lines, and exits 0 when stdin closes', async () => {
  const tsx = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
  const child = spawn(
    process.execPath,
    ['--import', tsx, join(ROOT, 'src', 'engine', 'cli.ts'), 'chat', '--model', dir, '--threads', '1'],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += String(d);
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<ChatReply> => {
    const { value, done } = await lines.next();
    assert.ok(!done, `the engine ended early: ${stderr}`);
    const parsed = parseChatReply(value as string);
    assert.ok(parsed.ok, `a protocol reply: ${value}`);
    return parsed.value;
  };
  assert.deepEqual(await next(), { type: 'ready', model: dir, architecture: 'GPT2LMHeadModel', chat: false });
  child.stdin.write('not json\n');
  assert.equal((await next()).type, 'error');
  const expected = await lm.generate('the cat', generationOf({ max_new_tokens: 12 }));
  child.stdin.write(`${generate(1, 'the cat', { max_new_tokens: 12 })}\n`);
  let text = '';
  for (let r = await next(); ; r = await next()) {
    if (r.type === 'token') text += r.text;
    else {
      assert.deepEqual(r, { type: 'done', id: 1, stoppedBy: expected.stoppedBy, tokens: expected.ids.length });
      break;
    }
  }
  assert.equal(text, expected.text);
  const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
  child.stdin.end();
  assert.equal(await exit, 0, stderr);
});

/** Until generation `id` has its done or error reply (no time limit: the runner's timeout guards a hang). */
async function ended(replies: ChatReply[], id: number): Promise<void> {
  while (!replies.some((r) => (r.type === 'done' || r.type === 'error') && r.id === id))
    await new Promise((resolve) => setImmediate(resolve));
}

function jsonError(text: string): string {
  try {
    JSON.parse(text);
  } catch (err) {
    return (err as Error).message;
  }
  return '';
}
