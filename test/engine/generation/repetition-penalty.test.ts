import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { generationOptions } from '../../../src/engine/commands/causal-lm-commands.js';
import { type LoadedCausalLm, loadCausalLm } from '../../../src/engine/inference/causal-lm-model.js';
import { generationOf } from '../../../src/engine/inference/chat-server.js';
import { applyRepetitionPenalty, nextToken } from '../../../src/engine/inference/next-token.js';
import { rng } from '../../../src/engine/util/random.js';
import { parseChatRequest } from '../../../src/shared/chat-protocol.js';
import { GPT2_FIXTURE_SENTENCES, writeTinyGpt2 } from '../../fixtures/tiny-gpt2.js';

// Semantics: transformers' RepetitionPenaltyLogitsProcessor (generation/logits_process.py):
//   score = gather(scores, input_ids); score = where(score < 0, score * penalty, score / penalty);
//   scores.scatter_(input_ids, score)
// over every id of input_ids (prompt + generated), applied before the sampling warpers.

let dir: string;
let lm: LoadedCausalLm;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rep-penalty-'));
  writeTinyGpt2(dir, GPT2_FIXTURE_SENTENCES, { seed: 3 });
  lm = await loadCausalLm(dir, { threads: 1 });
});
after(async () => {
  await lm?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

test('repetition penalty: positive logits divided, negative multiplied, repeats counted once', () => {
  const logits = [2, 1.5, -1, 0.5, -0.25];
  // seen {0, 2, 4} (0 twice in the sequence): 2/2 = 1, -1*2 = -2, -0.25*2 = -0.5; 1 and 3 untouched
  applyRepetitionPenalty(logits, [0, 2, 0, 4], 2);
  assert.deepEqual(logits, [1, 1.5, -2, 0.5, -0.5]);
  // a penalty below 1 rewards repeats the same way round: 0.5 -> 0.5 / 0.5 = 1
  const low = [0.5, 0.9];
  applyRepetitionPenalty(low, [0], 0.5);
  assert.deepEqual(low, [1, 0.9]);
});

test('repetition penalty changes the greedy choice and comes before the warpers', () => {
  const logits = [2, 1.5, -1, 0.5];
  const rand = rng(1);
  assert.equal(nextToken(logits, {}, rand, [0]), 0, 'no penalty: argmax 0');
  assert.equal(nextToken(logits, { repetitionPenalty: 1 }, rand, [0]), 0, '1 is off');
  // token 0 seen: 2 / 2 = 1 < 1.5, so greedy takes 1
  assert.equal(nextToken(logits, { repetitionPenalty: 2 }, rand, [0]), 1);
  assert.deepEqual(logits, [2, 1.5, -1, 0.5], 'the caller’s logits are not modified');
  // all negative: -0.5 * 2 = -1 falls below -0.8
  assert.equal(nextToken([-0.5, -0.8], { repetitionPenalty: 2 }, rand, [0]), 1);
  // sampling with top_k 1 keeps the single best token AFTER the penalty (processor before warper)
  for (let i = 0; i < 10; i++) {
    assert.equal(nextToken(logits, { doSample: true, topK: 1, repetitionPenalty: 2 }, rand, [0]), 1);
  }
  // top_p 0.45 at temperature 1, by hand: unpenalised softmax [2, 1.5, -1, 0.5] = [0.532, 0.323, 0.026,
  // 0.119] keeps {0}; penalised [1, 1.5, -1, 0.5] = [0.295, 0.486, 0.040, 0.179] keeps {1}
  const drawn = (o: { repetitionPenalty?: number }) => {
    const got = new Set<number>();
    for (let i = 0; i < 50; i++) got.add(nextToken(logits, { doSample: true, topP: 0.45, ...o }, rand, [0]));
    return [...got];
  };
  assert.deepEqual(drawn({}), [0]);
  assert.deepEqual(drawn({ repetitionPenalty: 2 }), [1]);
});

test('repetition penalty on the model: 1 is off, 1.5 breaks the greedy loop of a repeated token', async () => {
  // On this fixture greedy decoding of 'my friend' repeats one token (a loop the penalty is for).
  const prompt = 'my friend';
  const o = { maxNewTokens: 8, eosTokenId: null };
  const plain = await lm.generate(prompt, o);
  const first = plain.ids[0] as number;
  assert.equal(plain.ids[1], first, `greedy repeats: ${plain.ids}`);
  assert.deepEqual((await lm.generate(prompt, { ...o, repetitionPenalty: 1 })).ids, plain.ids);
  const penalised = await lm.generate(prompt, { ...o, repetitionPenalty: 1.5 });
  // The first token is not in the prompt, so unchanged; then it is penalised and another one wins.
  assert.equal(penalised.ids[0], first);
  assert.notEqual(penalised.ids[1], first);
  // the cache does not change what the penalty reads
  assert.deepEqual((await lm.generate(prompt, { ...o, repetitionPenalty: 1.5, useCache: false })).ids, penalised.ids);
});

test('repetition penalty: <= 0 is an error naming the option, in generate, on the command line and in chat', async () => {
  await assert.rejects(lm.generate('the cat', { repetitionPenalty: 0 }), /repetition_penalty must be > 0/);
  await assert.rejects(lm.generate('the cat', { repetitionPenalty: -1 }), /repetition_penalty must be > 0/);
  assert.throws(() => generationOptions({ 'repetition-penalty': '0' }), /--repetition-penalty must be > 0/);
  assert.equal(generationOptions({ 'repetition-penalty': '1.3' }).repetitionPenalty, 1.3);
  const request = (repetition_penalty: number) =>
    parseChatRequest(
      JSON.stringify({
        type: 'generate',
        id: 1,
        messages: [{ role: 'user', content: 'hi' }],
        options: { repetition_penalty },
      }),
    );
  const bad = request(0);
  assert.equal(bad.ok, false);
  assert.match(bad.ok ? '' : bad.problem, /options\.repetition_penalty must be a number > 0/);
  const good = request(1.2);
  assert.ok(good.ok && good.value.type === 'generate');
  if (good.ok && good.value.type === 'generate') assert.equal(generationOf(good.value.options).repetitionPenalty, 1.2);
});
