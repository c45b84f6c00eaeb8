import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type LoadedCausalLm, loadCausalLm } from '../../../src/engine/inference/causal-lm-model.js';
import { loadServedModel, type ServedModel } from '../../../src/engine/serve/served-model.js';
import { GPT2_FIXTURE_SENTENCES, writeTinyGpt2 } from '../../fixtures/tiny-gpt2.js';
import { metricValue, startServer } from './helpers.js';

/**
 * The completion routes over continuous batching: short requests sent while a long streamed one
 * runs are answered before it ends, with the text they get alone; a request waiting for a row
 * (beyond --max-batch) is cancelled when its client leaves. The tiny GPT-2 has 1024 positions so
 * the long generation (900 tokens) outlasts the short ones by two orders of magnitude.
 */
let dir: string;
let served: ServedModel;
let lm: LoadedCausalLm;
const LONG = { prompt: 'the teacher', max_tokens: 900, temperature: 0, stream: true };

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'serve-continuous-'));
  writeTinyGpt2(dir, GPT2_FIXTURE_SENTENCES, { seed: 3, config: { n_positions: 1024, n_ctx: 1024 } });
  const real = await loadServedModel(dir, 'tiny', { threads: 1 });
  assert.ok(real.kind === 'causal-lm');
  // A stand-in that never stops at EOS (a random model may pick it any time): every generation
  // runs to its max_tokens, so the lengths the test relies on are what it asks for.
  served = {
    ...real,
    lm: {
      ...real.lm,
      decoder: (batching) => {
        const inner = real.lm.decoder(batching);
        return { generate: (prompt, o) => inner.generate(prompt, { ...o, eosTokenId: null, stopTokenIds: [] }) };
      },
    },
  };
  lm = await loadCausalLm(dir, { threads: 1 });
});

after(async () => {
  await Promise.all([served?.dispose(), lm?.dispose()]);
  rmSync(dir, { recursive: true, force: true });
});

const post = (url: string, body: unknown, signal?: AbortSignal) =>
  fetch(`${url}/v1/completions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });

/** Resolves once the server has generated a token (the long request is under way). */
async function underWay(url: string): Promise<void> {
  while (metricValue(await (await fetch(`${url}/metrics`)).text(), 'finetune_serve_generated_tokens_total') < 1);
}

test('serve: short completions sent during a long streamed one finish first, with the text they get alone', async () => {
  const s = await startServer(served, { maxBatch: 4 });
  try {
    const longDone = post(s.url, LONG).then(async (res) => {
      assert.match(await res.text(), /data: \[DONE\]\n\n$/);
      return performance.now();
    });
    await underWay(s.url);
    const prompts = ['a dog', 'my friend finds'];
    const shorts = await Promise.all(
      prompts.map(async (prompt) => {
        const res = await post(s.url, { prompt, max_tokens: 4, temperature: 0 });
        const body = (await res.json()) as { choices: { text: string }[] };
        return { at: performance.now(), text: body.choices[0]?.text };
      }),
    );
    const doneAt = await longDone;
    for (const [i, prompt] of prompts.entries()) {
      assert.ok((shorts[i]?.at as number) < doneAt, `${prompt} answered before the long stream ended`);
      const alone = await lm.generate(prompt, { maxNewTokens: 4, eosTokenId: null });
      assert.equal(shorts[i]?.text, alone.text, prompt);
    }
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    // Steps with more than one row happened: the histogram's bucket le=1 holds fewer than all steps.
    const steps = metricValue(metrics, 'finetune_serve_decode_batch_rows_count');
    assert.ok(metricValue(metrics, 'finetune_serve_decode_batch_rows_bucket', { le: '1' }) < steps);
  } finally {
    await s.close();
  }
});

test('serve: a request waiting for a row (beyond --max-batch) is cancelled when its client leaves', async () => {
  const s = await startServer(served, { maxBatch: 1 });
  const metrics = async () => (await fetch(`${s.url}/metrics`)).text();
  try {
    const running = new AbortController();
    const long = post(s.url, LONG, running.signal).catch((e: Error) => e);
    await underWay(s.url);
    const queued = new AbortController();
    const waiting = post(s.url, { prompt: 'a dog', max_tokens: 4 }, queued.signal).catch((e: Error) => e);
    while (metricValue(await metrics(), 'finetune_serve_queue_depth', { queue: 'generate' }) < 1);
    queued.abort();
    assert.ok((await waiting) instanceof Error);
    running.abort();
    await long;
    let cancelled = 0;
    while (cancelled < 2)
      cancelled = metricValue(await metrics(), 'finetune_serve_generations_total', { finish: 'cancelled' });
    assert.equal(metricValue(await metrics(), 'finetune_serve_queue_depth', { queue: 'generate' }), 0);
  } finally {
    await s.close();
  }
});
