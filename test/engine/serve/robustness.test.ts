import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import type { Generation, GenerationOptions } from '../../../src/engine/inference/causal-lm-model.js';
import type { ServedLm } from '../../../src/engine/serve/completion-routes.js';
import { loadServedModel, type ServedModel } from '../../../src/engine/serve/served-model.js';
import { GPT2_FIXTURE_SENTENCES, writeTinyGpt2 } from '../../fixtures/tiny-gpt2.js';
import { metricValue, startServer } from './helpers.js';

/**
 * What the server does with bad, excess and abandoned requests. A "gated" model stands in for the
 * engine where a test must hold a generation in flight: it emits one real token, then waits until
 * the test opens the gate or the request's AbortSignal fires, so nothing depends on timing.
 */
let real: ServedModel & { kind: 'causal-lm' };

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'serve-robust-'));
  writeTinyGpt2(dir, GPT2_FIXTURE_SENTENCES, { seed: 3 });
  real = (await loadServedModel(dir, 'tiny', { threads: 1 })) as ServedModel & { kind: 'causal-lm' };
});

after(async () => {
  await real?.dispose();
});

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** A model whose generations wait at a gate; `calls` counts generations started. */
function gated() {
  const started = deferred();
  const ended = deferred<{ aborted: boolean }>();
  const gate = deferred();
  let calls = 0;
  const token = real.lm.tokenizer.encode('the', null).ids[0] as number;
  const generate = async (_prompt: readonly number[], o: GenerationOptions): Promise<Generation> => {
    calls++;
    const text = real.lm.tokenizer.decode([token], true);
    o.onToken?.(token);
    o.onText?.(text);
    started.resolve();
    await Promise.race([
      gate.promise,
      new Promise<void>((r) => o.signal?.addEventListener('abort', () => r(), { once: true })),
    ]);
    const aborted = o.signal?.aborted ?? false;
    ended.resolve({ aborted });
    return {
      ids: [token],
      text,
      stoppedBy: aborted ? 'stopped' : 'max_new_tokens',
      finishReason: aborted ? 'abort' : 'length',
    };
  };
  const lm: ServedLm = { ...real.lm, decoder: () => ({ generate }) };
  const model: ServedModel = { kind: 'causal-lm', id: 'gated', lm, dispose: async () => {} };
  return { model, started: started.promise, ended: ended.promise, open: gate.resolve, calls: () => calls };
}

const post = (url: string, path: string, body: unknown, init: RequestInit = {}) =>
  fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...init,
  });

const completion = { prompt: 'the cat', max_tokens: 4, temperature: 0 };

async function errorOf(res: Response) {
  const body = (await res.json()) as { error: Record<string, unknown> };
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
  return body.error;
}

test('serve: invalid JSON and schema errors are 400 with an OpenAI error naming the field', async () => {
  const s = await startServer(real);
  try {
    const bad = await post(s.url, '/v1/completions', '{"prompt": ');
    assert.equal(bad.status, 400);
    assert.match(String((await errorOf(bad)).message), /not valid JSON/);
    const cases: [string, unknown, string][] = [
      ['/v1/completions', { ...completion, n: 2 }, 'n'],
      ['/v1/completions', { ...completion, temperature: 3 }, 'temperature'],
      ['/v1/completions', { max_tokens: 3 }, 'prompt'],
      ['/v1/completions', { ...completion, frobnicate: 1 }, 'frobnicate'],
      ['/v1/chat/completions', { model: 'x', messages: [] }, 'messages'],
      ['/v1/chat/completions', { messages: [{ role: 'tool', content: 'x' }] }, 'messages[0]'],
      ['/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }], stop: 3 }, 'stop'],
    ];
    for (const [path, body, param] of cases) {
      const res = await post(s.url, path, body);
      assert.equal(res.status, 400, JSON.stringify(body));
      const error = await errorOf(res);
      assert.equal(error.type, 'invalid_request_error');
      assert.equal(error.param, param, JSON.stringify(body));
    }
    // The client maps it to its BadRequestError with the server's message.
    const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'x', maxRetries: 0 });
    await assert.rejects(
      client.completions.create({ model: 'x', prompt: 'a', n: 3 }),
      (e: unknown) => e instanceof OpenAI.BadRequestError && /n must be 1/.test(e.message),
    );
  } finally {
    await s.close();
  }
});

test('serve: a body over the limit is 413', async () => {
  const s = await startServer(real, { maxBodyBytes: 1000 });
  try {
    const res = await post(s.url, '/v1/completions', { ...completion, prompt: 'x'.repeat(2000) });
    assert.equal(res.status, 413);
    assert.equal((await errorOf(res)).code, 'request_too_large');
    assert.equal((await post(s.url, '/v1/completions', completion)).status, 200, 'the server still answers');
  } finally {
    await s.close();
  }
});

test('serve: --api-key requires the bearer token (401 otherwise); /health needs none', async () => {
  const s = await startServer(real, { apiKey: 'sekret' });
  try {
    const missing = await post(s.url, '/v1/completions', completion);
    assert.equal(missing.status, 401);
    assert.equal((await errorOf(missing)).code, 'invalid_api_key');
    const wrong = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'nope', maxRetries: 0 });
    await assert.rejects(wrong.models.list(), (e: unknown) => e instanceof OpenAI.AuthenticationError);
    const right = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'sekret', maxRetries: 0 });
    assert.equal((await right.completions.create({ model: 'tiny', ...completion })).object, 'text_completion');
    assert.equal((await fetch(`${s.url}/health`)).status, 200);
  } finally {
    await s.close();
  }
});

test('serve: beyond --max-concurrency a request gets 429 with Retry-After', async () => {
  const g = gated();
  const s = await startServer(g.model, { maxConcurrency: 1 });
  try {
    const first = post(s.url, '/v1/completions', completion);
    await g.started;
    const second = await post(s.url, '/v1/completions', completion);
    assert.equal(second.status, 429);
    assert.equal(second.headers.get('retry-after'), '1');
    assert.equal((await errorOf(second)).code, 'rate_limit_exceeded');
    assert.equal((await fetch(`${s.url}/health`)).status, 200, '/health is not counted');
    g.open();
    assert.equal((await first).status, 200);
  } finally {
    await s.close();
  }
});

test('serve: a client that disconnects cancels its running generation', async () => {
  const g = gated();
  const s = await startServer(g.model);
  try {
    const running = new AbortController();
    const res = await post(s.url, '/v1/completions', { ...completion, stream: true }, { signal: running.signal });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read(); // the first token's chunk
    running.abort();
    assert.deepEqual(await g.ended, { aborted: true }, 'the running generation saw its signal abort');
    // The server has seen that client go (its response closed unfinished: status 499).
    const metrics = async () => (await fetch(`${s.url}/metrics`)).text();
    while (metricValue(await metrics(), 'finetune_serve_requests_total', { status: '499' }) < 1);
    while (metricValue(await metrics(), 'finetune_serve_generations_total', { finish: 'cancelled' }) < 1);
    assert.equal(g.calls(), 1);
  } finally {
    await s.close();
  }
});

test('serve: an engine error fails that request with 500, not the server', async () => {
  const failing: ServedModel = {
    ...real,
    lm: {
      ...real.lm,
      decoder: (batching) => {
        const inner = real.lm.decoder(batching);
        return {
          generate: (prompt, o) =>
            real.lm.tokenizer.decode(prompt).includes('boom')
              ? Promise.reject(new Error('onnxruntime: out of memory'))
              : inner.generate(prompt, o),
        };
      },
    },
  };
  const logged: string[] = [];
  const s = await startServer(failing, { log: (l) => logged.push(l) });
  try {
    const res = await post(s.url, '/v1/completions', { ...completion, prompt: 'boom' });
    assert.equal(res.status, 500);
    const error = await errorOf(res);
    assert.equal(error.type, 'server_error');
    assert.match(String(error.message), /out of memory/);
    assert.equal(logged.length, 1);
    assert.equal((await post(s.url, '/v1/completions', completion)).status, 200);
  } finally {
    await s.close();
  }
});

test('serve: drain lets the request in flight finish and refuses new connections', async () => {
  const g = gated();
  const s = await startServer(g.model);
  const first = post(s.url, '/v1/completions', completion);
  await g.started;
  let drained = false;
  const drain = s.app.drain().then(() => {
    drained = true;
  });
  await assert.rejects(fetch(`${s.url}/health`), 'a new connection is refused while draining');
  assert.equal(drained, false, 'the server waits for the request in flight');
  g.open();
  const res = await first;
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { object: string }).object, 'text_completion');
  await drain;
});
