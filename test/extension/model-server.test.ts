import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { serveArgs } from '../../src/extension/runs/engine-process.js';
import { ModelServer, type ServeProcess } from '../../src/extension/serve/model-server.js';
import { sseData } from '../../src/extension/serve/sse.js';
import { writeTinyFinetuned } from '../engine/serve/helpers.js';
import { GPT2_FIXTURE_SENTENCES, writeTinyGpt2 } from '../fixtures/tiny-gpt2.js';

/**
 * The Playground's model server against the real `finetune serve` (run from source through tsx,
 * as the serve CLI test does), with the arguments the extension passes: it waits for the
 * listening line, answers each task's input in the Playground's result shape (the same numbers
 * as the server's own /predict and greedy completion), streams a continuation, stops one, and
 * reports a server that could not start with its stderr.
 */
const ROOT = join(__dirname, '..', '..');
const TSX = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const CLI = join(ROOT, 'src', 'engine', 'cli.ts');

const started: ReturnType<typeof spawn>[] = [];
const exits = new Map<string, Promise<number | null>>();
function start(modelDir: string): ServeProcess {
  const args = serveArgs(CLI, modelDir, { device: 'cpu', threads: 1 }, 0, true);
  const child = spawn(process.execPath, ['--import', TSX, ...args], { stdio: 'pipe' });
  started.push(child);
  exits.set(modelDir, new Promise((resolve) => child.on('exit', (code) => resolve(code))));
  return child;
}

let dir: string;
let classifier: string;
let lm: string;
let missing: string;
const logged: string[] = [];
const server = new ModelServer({ start, log: (line) => logged.push(line) });

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'model-server-'));
  classifier = writeTinyFinetuned(join(dir, 'cls'), 'text-classification', ['negative', 'neutral', 'positive']);
  lm = join(dir, 'lm');
  writeTinyGpt2(lm, GPT2_FIXTURE_SENTENCES, { seed: 3 });
  missing = join(dir, 'no-such-model');
});

after(() => {
  server.dispose();
  for (const child of started) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const post = async (url: string, path: string, body: unknown) =>
  (await fetch(`${url}${path}`, { method: 'POST', body: JSON.stringify(body) })).json();

test('serveArgs: loopback, the port, the engine flags, and --exit-with-stdin for a child of the Playground', () => {
  assert.deepEqual(serveArgs('cli.js', '/r/final', { device: 'auto', threads: 0 }, 8080, false), [
    'cli.js',
    'serve',
    '--model',
    '/r/final',
    '--host',
    '127.0.0.1',
    '--port',
    '8080',
  ]);
  assert.deepEqual(serveArgs('cli.js', 'm', { device: 'cuda', threads: 2 }, 0, true).slice(6), [
    '--port',
    '0',
    '--device',
    'cuda',
    '--threads',
    '2',
    '--exit-with-stdin',
  ]);
});

test('a classifier: every label with its probability, as the server answers /predict with top_k null', async () => {
  const result = await server.predict(classifier, { task: 'text-classification', text: 'a fine film' });
  assert.equal(result.task, 'text-classification');
  if (result.task !== 'text-classification') return;
  assert.deepEqual(result.labels.map((l) => l.label).sort(), ['negative', 'neutral', 'positive']);
  const sum = result.labels.reduce((s, l) => s + l.score, 0);
  assert.ok(Math.abs(sum - 1) < 1e-6, `softmax probabilities sum to 1, got ${sum}`);
  const url = await server.urlFor(classifier);
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.deepEqual(result.labels, await post(url, '/predict', { inputs: 'a fine film', parameters: { top_k: null } }));
});

test('a causal LM: the continuation streams, and equals the greedy completion; Stop ends it', async () => {
  const deltas: string[] = [];
  const input = { task: 'causal-lm', prompt: 'the cat', maxTokens: 12, temperature: 0 } as const;
  const result = await server.predict(lm, input, (t) => deltas.push(t));
  assert.equal(exits.has(classifier) && (await exits.get(classifier)), 0, 'the classifier server ended, drained');
  assert.equal(result.task, 'causal-lm');
  if (result.task !== 'causal-lm') return;
  assert.ok(deltas.length >= 2, `streamed in pieces: ${JSON.stringify(deltas)}`);
  assert.equal(deltas.join(''), result.text);
  assert.equal(result.finishReason, 'length');
  const url = await server.urlFor(lm);
  const whole = (await post(url, '/v1/completions', { prompt: 'the cat', max_tokens: 12, temperature: 0 })) as {
    choices: { text: string }[];
  };
  assert.equal(result.text, whole.choices[0]?.text);

  const abort = new AbortController();
  const stopped = await server.predict(lm, { ...input, maxTokens: 200 }, () => abort.abort(), abort.signal);
  assert.ok(stopped.task === 'causal-lm' && stopped.finishReason === 'stopped');
  // Stopped at its first delta: what came is the start of the same greedy continuation.
  assert.ok(stopped.text.length > 0 && result.text.startsWith(stopped.text), JSON.stringify(stopped.text));
});

test('a server that cannot start says why, with its stderr', async () => {
  await assert.rejects(
    server.predict(missing, { task: 'text-classification', text: 'x' }),
    (err: Error) => /the model server exited \(code 1\)/.test(err.message) && err.message.includes('no-such-model'),
  );
  assert.ok(logged.some((l) => l.startsWith('Starting the model server for')));
});

test('closing its stdin alone stops the server (--exit-with-stdin): it drains and exits 0', async () => {
  // No signal is sent: what a crashed extension host leaves, a closed pipe, is enough.
  let killed = false;
  const stdinOnly = (modelDir: string): ServeProcess => {
    const child = start(modelDir);
    return Object.assign(Object.create(child) as ServeProcess, {
      kill: () => {
        killed = true;
        return true;
      },
    });
  };
  const own = new ModelServer({ start: stdinOnly, log: () => {} });
  await own.urlFor(lm);
  const exited = exits.get(lm);
  own.dispose();
  assert.equal(await exited, 0);
  assert.ok(killed, 'disposing also signals it (a busy server goes too)');
});

test('server-sent events: data lines of complete events, the rest kept for the next chunk', () => {
  assert.deepEqual(sseData('data: {"a":1}\n\ndata: [DONE]\n\n'), { data: ['{"a":1}', '[DONE]'], rest: '' });
  assert.deepEqual(sseData('data: {"a":1}\n\ndata: {"b"'), { data: ['{"a":1}'], rest: 'data: {"b"' });
  // Comments and other fields are skipped; multi-line data is joined by "\n"; CRLF is a line end.
  assert.deepEqual(sseData(': keep-alive\r\n\r\nevent: x\ndata:one\ndata: two\n\n'), {
    data: ['one\ntwo'],
    rest: '',
  });
});
