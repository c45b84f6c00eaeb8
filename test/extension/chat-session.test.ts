import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { chatModelPath, chatModelsOf } from '../../src/extension/chat/chat-models.js';
import { type ChatProcess, ChatSession, type ChatSink } from '../../src/extension/chat/chat-session.js';
import { type ChatReply, type ChatRequest, parseChatRequest } from '../../src/shared/chat-protocol.js';
import { tempDir } from './helpers.js';

/**
 * A fake `finetune chat` process: it reads the requests the session writes (checked against the
 * protocol) and answers what the test tells it to, so every turn of the conversation is explicit.
 */
class FakeEngine extends EventEmitter implements ChatProcess {
  readonly stdin = new PassThrough();
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly requests: ChatRequest[] = [];
  killed = false;
  private waiting: (() => void)[] = [];

  constructor(readonly modelDir: string) {
    super();
    let buffer = '';
    this.stdin.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
        const parsed = parseChatRequest(buffer.slice(0, i));
        buffer = buffer.slice(i + 1);
        assert.ok(parsed.ok, 'the session writes protocol requests');
        this.requests.push(parsed.value);
        for (const w of this.waiting.splice(0)) w();
      }
    });
  }

  reply(r: ChatReply): void {
    this.stdout.write(`${JSON.stringify(r)}\n`);
  }

  async request(n: number): Promise<ChatRequest> {
    while (this.requests.length < n) await new Promise<void>((resolve) => this.waiting.push(resolve));
    return this.requests[n - 1] as ChatRequest;
  }

  kill(): boolean {
    this.killed = true;
    this.emit('exit', null, 'SIGTERM');
    return true;
  }

  exit(code: number, stderr = ''): void {
    if (stderr) this.stderr.write(stderr);
    setImmediate(() => this.emit('exit', code, null));
  }
}

function session() {
  const engines: FakeEngine[] = [];
  const s = new ChatSession({
    start: (dir) => {
      const e = new FakeEngine(dir);
      engines.push(e);
      return e;
    },
    log: () => {},
  });
  return { s, engines };
}

function sink() {
  const got = { ready: [] as boolean[], text: '', done: [] as [string, number][] };
  const s: ChatSink = {
    ready: (chat) => got.ready.push(chat),
    token: (t) => {
      got.text += t;
    },
    done: (why, n) => got.done.push([why, n]),
  };
  return { got, s };
}

const user = [{ role: 'user' as const, content: 'the cat' }];
const tick = () => new Promise((resolve) => setImmediate(resolve));

test('chat session: starts the engine on the first send, streams tokens, reuses it for the next', async () => {
  const { s, engines } = session();
  assert.equal(engines.length, 0, 'nothing starts before a send');
  const a = sink();
  const sent = s.send('/run/final', user, { max_new_tokens: 5 }, a.s);
  const engine = engines[0] as FakeEngine;
  engine.reply({ type: 'ready', model: '/run/final', architecture: 'GPT2LMHeadModel', chat: false });
  const req = await engine.request(1);
  assert.deepEqual(req, { type: 'generate', id: 1, messages: user, options: { max_new_tokens: 5 } });
  engine.reply({ type: 'token', id: 1, text: ' sat' });
  engine.reply({ type: 'token', id: 99, text: 'not ours' });
  engine.reply({ type: 'token', id: 1, text: ' down' });
  engine.reply({ type: 'done', id: 1, stoppedBy: 'eos', tokens: 2 });
  await sent;
  assert.deepEqual(a.got, { ready: [false], text: ' sat down', done: [['eos', 2]] });
  assert.equal(s.busy, false);

  const b = sink();
  const second = s.send('/run/final', user, {}, b.s);
  const req2 = await engine.request(2);
  assert.equal(req2.id, 2);
  engine.reply({ type: 'done', id: 2, stoppedBy: 'max_new_tokens', tokens: 0 });
  await second;
  assert.equal(engines.length, 1, 'the same model keeps its engine');
  s.dispose();
  assert.ok(engine.killed, 'disposing the session kills the engine');
});

test('chat session: another model replaces the engine; stop is forwarded; one reply at a time', async () => {
  const { s, engines } = session();
  const first = s.send('/run/final', user, {}, sink().s);
  (engines[0] as FakeEngine).reply({ type: 'ready', model: 'f', architecture: 'A', chat: true });
  await (engines[0] as FakeEngine).request(1);
  await assert.rejects(s.send('/run/final', user, {}, sink().s), /still being generated/);
  s.stop();
  assert.deepEqual(await (engines[0] as FakeEngine).request(2), { type: 'stop', id: 1 });
  (engines[0] as FakeEngine).reply({ type: 'done', id: 1, stoppedBy: 'stopped', tokens: 3 });
  await first;

  const c = sink();
  const other = s.send('/run/checkpoints/step-4', user, {}, c.s);
  assert.ok((engines[0] as FakeEngine).killed, "the old model's engine is killed");
  const engine = engines[1] as FakeEngine;
  assert.equal(engine.modelDir, '/run/checkpoints/step-4');
  engine.reply({ type: 'ready', model: 'c', architecture: 'A', chat: false });
  const req = await engine.request(1);
  engine.reply({ type: 'error', id: req.type === 'generate' ? req.id : -1, message: 'boom' });
  await assert.rejects(other, /^Error: boom$/);
  s.dispose();
});

test('chat session: a stop while the model loads ends the reply without generating', async () => {
  const { s, engines } = session();
  const a = sink();
  const sent = s.send('/m', user, {}, a.s);
  s.stop();
  (engines[0] as FakeEngine).reply({ type: 'ready', model: 'm', architecture: 'A', chat: false });
  await sent;
  assert.deepEqual(a.got.done, [['stopped', 0]]);
  assert.equal((engines[0] as FakeEngine).requests.length, 0);
  s.dispose();
});

test("chat session: a load failure or a crash rejects the send with the engine's words; the next send restarts it", async () => {
  const { s, engines } = session();
  const sent = s.send('/m', user, {}, sink().s);
  (engines[0] as FakeEngine).reply({ type: 'error', message: 'could not load /m: no config.json' });
  await assert.rejects(sent, /could not load \/m: no config.json/);
  (engines[0] as FakeEngine).exit(1);
  await tick();

  const again = s.send('/m', user, {}, sink().s);
  assert.equal(engines.length, 2, 'a dead engine is replaced');
  const engine = engines[1] as FakeEngine;
  engine.reply({ type: 'ready', model: 'm', architecture: 'A', chat: false });
  await engine.request(1);
  engine.exit(134, 'Error: out of memory\n    at generate\n');
  await assert.rejects(again, /the chat engine exited \(code 134\): Error: out of memory/);
  s.dispose();
});

test('chat models: final and checkpoints newest first, only for causal-lm runs; keys map to folders', async (t) => {
  const run = tempDir(t);
  assert.match(
    (await chatModelsOf(run, 'text-classification')).unavailable ?? '',
    /this run's task is text-classification/,
  );
  assert.match((await chatModelsOf(run, undefined)).unavailable ?? '', /config.yaml/);
  assert.deepEqual(await chatModelsOf(run, 'causal-lm'), {
    models: [],
    unavailable: "No model yet: chat becomes available with the run's first checkpoint.",
  });
  for (const step of [2, 10, 4]) {
    mkdirSync(join(run, 'checkpoints', `step-${step}`), { recursive: true });
    writeFileSync(join(run, 'checkpoints', `step-${step}`, 'model.safetensors'), '');
  }
  mkdirSync(join(run, 'checkpoints', 'step-6.tmp-1'), { recursive: true });
  mkdirSync(join(run, 'final'));
  writeFileSync(join(run, 'final', 'config.json'), '{}');
  assert.deepEqual((await chatModelsOf(run, 'causal-lm')).models, [
    { key: 'final', label: 'final model' },
    { key: 'step-10', label: 'checkpoint step 10' },
    { key: 'step-4', label: 'checkpoint step 4' },
    { key: 'step-2', label: 'checkpoint step 2' },
  ]);
  assert.equal(chatModelPath(run, 'step-4'), join(run, 'checkpoints', 'step-4'));
  assert.equal(chatModelPath(run, 'final'), join(run, 'final'));
  assert.throws(() => chatModelPath(run, '../../etc'), /Unknown model "..\/..\/etc"/);
});
