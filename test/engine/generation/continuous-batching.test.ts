import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  type GenerationOptions,
  type LoadedCausalLm,
  loadCausalLm,
} from '../../../src/engine/inference/causal-lm-model.js';
import { ContinuousBatcher } from '../../../src/engine/inference/continuous-batcher.js';
import { writeTinyDecoder } from '../../fixtures/tiny-decoders.js';
import { GPT2_FIXTURE_SENTENCES, writeTinyGpt2 } from '../../fixtures/tiny-gpt2.js';

/**
 * Continuous batching: rows at different positions decode in one forward, join and leave between
 * steps, and every row gets exactly what `generate` gives it alone (the reference here is the
 * engine's own one-by-one generate, whose cache is checked against transformers elsewhere).
 * GPT-2 (absolute positions) and Llama (rotary, grouped KV heads) both run, so per-row positions
 * and the left-padded caches are exercised for each kind of position encoding.
 */
let dir: string;
const models: Record<string, LoadedCausalLm> = {};

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ft-continuous-'));
  mkdirSync(join(dir, 'gpt2'));
  writeTinyGpt2(join(dir, 'gpt2'), GPT2_FIXTURE_SENTENCES, { seed: 3 });
  mkdirSync(join(dir, 'llama'));
  writeTinyDecoder(join(dir, 'llama'), 'llama', { seed: 5 });
  models.gpt2 = await loadCausalLm(join(dir, 'gpt2'), { threads: 1 });
  models.llama = await loadCausalLm(join(dir, 'llama'), { threads: 1 });
});

after(async () => {
  await Promise.all(Object.values(models).map((m) => m.dispose()));
  rmSync(dir, { recursive: true, force: true });
});

/** Requests of different prompt lengths and generation lengths; greedy, sampled, with a stop string. */
const REQUESTS: { prompt: string; o: GenerationOptions }[] = [
  { prompt: 'the cat', o: { maxNewTokens: 14, eosTokenId: null } },
  { prompt: 'my friend finds the garden every day and', o: { maxNewTokens: 3, eosTokenId: null } },
  { prompt: 'a', o: { maxNewTokens: 9, eosTokenId: null } },
  { prompt: 'our neighbour helps the teacher', o: { maxNewTokens: 6, doSample: true, temperature: 0.9, seed: 7 } },
  { prompt: 'the bird calls the river', o: { maxNewTokens: 11, eosTokenId: null, repetitionPenalty: 1.3 } },
  { prompt: '', o: { maxNewTokens: 5, eosTokenId: null } },
];

for (const family of ['gpt2', 'llama'] as const) {
  test(`continuous batching (${family}): mixed prompts and lengths decode together, each as generate gives it alone`, async () => {
    const lm = models[family] as LoadedCausalLm;
    const steps: number[] = [];
    const batcher = new ContinuousBatcher(lm, { maxBatch: 4, onStep: (rows) => steps.push(rows) });
    const together = await Promise.all(REQUESTS.map((r) => batcher.generate(r.prompt, r.o)));
    for (const [i, r] of REQUESTS.entries()) {
      const alone = await lm.generate(r.prompt, r.o);
      assert.deepEqual(together[i], alone, r.prompt);
    }
    // Rows really shared forwards (at most max-batch of them), and the batch shrank as rows ended.
    assert.equal(Math.max(...steps), 4);
    assert.ok(steps.includes(1) || steps.includes(2), `step sizes ${steps.join(',')}`);
    const decoded = REQUESTS.reduce((n, r) => n + (r.o.maxNewTokens as number) - 1, 0);
    assert.ok(steps.length < decoded, `${steps.length} steps for ${decoded} decoded tokens`);
  });
}

test('continuous batching: short requests that arrive during a long one finish before it, with their own results', async () => {
  const lm = models.gpt2 as LoadedCausalLm;
  const batcher = new ContinuousBatcher(lm, { maxBatch: 4 });
  const finished: string[] = [];
  const shorts: Promise<unknown>[] = [];
  const shortOptions: GenerationOptions = { maxNewTokens: 3, eosTokenId: null };
  const long = batcher.generate('the teacher likes', {
    maxNewTokens: 40,
    eosTokenId: null,
    // Once the long generation is under way, three short ones arrive.
    onToken: () => {
      if (shorts.length > 0) return;
      for (const p of ['a dog', 'the river is', 'my friend'])
        shorts.push(
          batcher.generate(p, shortOptions).then((g) => {
            finished.push(p);
            return g;
          }),
        );
    },
  });
  const longResult = await long.then((g) => {
    finished.push('long');
    return g;
  });
  const shortResults = await Promise.all(shorts);
  assert.deepEqual(finished, ['a dog', 'the river is', 'my friend', 'long']);
  assert.equal(longResult.ids.length, 40);
  assert.deepEqual(longResult, await lm.generate('the teacher likes', { maxNewTokens: 40, eosTokenId: null }));
  for (const [i, p] of ['a dog', 'the river is', 'my friend'].entries())
    assert.deepEqual(shortResults[i], await lm.generate(p, shortOptions), p);
});

test('continuous batching: streaming and stop strings per row; a cancelled row leaves, the others go on', async () => {
  const lm = models.gpt2 as LoadedCausalLm;
  const batcher = new ContinuousBatcher(lm, { maxBatch: 4 });
  const reference = await lm.generate('the cat', { maxNewTokens: 12, eosTokenId: null });
  // A stop string from the middle of the reference text: the row ends where it appears.
  const stop = reference.text.slice(Math.floor(reference.text.length / 2)).slice(0, 2);
  assert.ok(stop.length === 2, `reference text ${JSON.stringify(reference.text)}`);
  const deltas: string[] = [];
  const cancel = new AbortController();
  let cancelledTokens = 0;
  const [stopped, streamed, cancelled] = await Promise.all([
    batcher.generate('the cat', { maxNewTokens: 12, eosTokenId: null, stopStrings: [stop] }),
    batcher.generate('a dog likes', { maxNewTokens: 10, eosTokenId: null, onText: (d) => deltas.push(d) }),
    batcher.generate('the bird', {
      maxNewTokens: 30,
      eosTokenId: null,
      signal: cancel.signal,
      onToken: () => {
        if (++cancelledTokens === 4) cancel.abort();
      },
    }),
  ]);
  assert.deepEqual(stopped, await lm.generate('the cat', { maxNewTokens: 12, eosTokenId: null, stopStrings: [stop] }));
  assert.equal(stopped.stoppedBy, 'stop_string');
  assert.deepEqual(streamed, await lm.generate('a dog likes', { maxNewTokens: 10, eosTokenId: null }));
  assert.equal(deltas.join(''), streamed.text);
  assert.equal(cancelled.stoppedBy, 'stopped');
  assert.equal(cancelled.ids.length, 4);
});

test('continuous batching: beyond max-batch requests wait; one cancelled while waiting never runs', async () => {
  const lm = models.gpt2 as LoadedCausalLm;
  let prefills = 0;
  const depths: number[] = [];
  const batcher = new ContinuousBatcher(lm, {
    maxBatch: 1,
    onPrefill: () => prefills++,
    onDepth: (d) => depths.push(d),
  });
  const cancel = new AbortController();
  let waiting: Promise<unknown> | undefined;
  const first = batcher.generate('the cat', {
    maxNewTokens: 6,
    eosTokenId: null,
    onToken: () => {
      if (waiting) return;
      waiting = batcher.generate('a dog', { maxNewTokens: 6, signal: cancel.signal });
      cancel.abort();
    },
  });
  const third = batcher.generate('the river', { maxNewTokens: 2, eosTokenId: null });
  assert.equal((await first).ids.length, 6);
  assert.deepEqual(await waiting, { ids: [], text: '', stoppedBy: 'stopped', finishReason: 'abort' });
  assert.deepEqual(await third, await lm.generate('the river', { maxNewTokens: 2, eosTokenId: null }));
  assert.equal(prefills, 2, 'the cancelled request never ran its prompt');
  assert.ok(Math.max(...depths) >= 1);
});

test('continuous batching: an engine error fails the rows of that forward, and the batcher keeps serving', async () => {
  const lm = models.gpt2 as LoadedCausalLm;
  let failNext = true;
  const failing = new ContinuousBatcher(
    {
      ...lm,
      decoderSession: async () => {
        const s = await lm.decoderSession();
        return Object.assign(Object.create(s) as typeof s, {
          run: (feeds: Parameters<typeof s.run>[0], names?: string[]) => {
            if (failNext) {
              failNext = false;
              return Promise.reject(new Error('onnxruntime: out of memory'));
            }
            return s.run(feeds, names);
          },
        });
      },
    },
    { maxBatch: 2 },
  );
  await assert.rejects(failing.generate('the cat', { maxNewTokens: 3 }), /out of memory/);
  assert.deepEqual(
    await failing.generate('the cat', { maxNewTokens: 3, eosTokenId: null }),
    await lm.generate('the cat', { maxNewTokens: 3, eosTokenId: null }),
  );
});
