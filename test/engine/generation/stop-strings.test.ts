import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { generationOptions } from '../../../src/engine/commands/causal-lm-commands.js';
import { type LoadedCausalLm, loadCausalLm } from '../../../src/engine/inference/causal-lm-model.js';
import { ChatServer } from '../../../src/engine/inference/chat-server.js';
import { firstStop, stopPrefixLength, TextStream } from '../../../src/engine/inference/text-stream.js';
import { type ChatReply, finishReasonOf, parseChatRequest } from '../../../src/shared/chat-protocol.js';
import { GPT2_FIXTURE_SENTENCES, writeTinyGpt2 } from '../../fixtures/tiny-gpt2.js';

// Semantics: OpenAI's `stop` (up to the stop sequence, which is not returned) as vLLM implements
// it with include_stop_str_in_output=false: matched in the detokenized text, the output truncated
// at the first stop string found; finish_reason 'stop' for it and for EOS, 'length' for the limit.

let dir: string;
let lm: LoadedCausalLm;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stop-strings-'));
  writeTinyGpt2(dir, GPT2_FIXTURE_SENTENCES, { seed: 3 });
  lm = await loadCausalLm(dir, { threads: 1 });
});
after(async () => {
  await lm?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** Byte-level decoding as a tokenizer does it: ids are bytes, an incomplete UTF-8 tail decodes to U+FFFD. */
const byteDecode = (ids: readonly number[]) => new TextDecoder().decode(new Uint8Array(ids));
const bytesOf = (text: string) => [...new TextEncoder().encode(text)];

test('stop string helpers: the earliest match of several; the longest end that may still become one', () => {
  assert.equal(firstStop('abcSTOPdefEND', ['END', 'STOP']), 3);
  assert.equal(firstStop('abc', ['x']), -1);
  assert.equal(stopPrefixLength('hello EN', ['END']), 2);
  assert.equal(stopPrefixLength('hello E', ['xyz', 'END']), 1);
  assert.equal(stopPrefixLength('hello', ['END']), 0);
  // "ab" is a prefix of "abc" and of "abd"; "b" of "bz": the longest counts
  assert.equal(stopPrefixLength('xab', ['abc', 'bz']), 2);
});

test('text stream: a stop string split over tokens is never streamed; the text is cut before it', () => {
  const stream = new TextStream(byteDecode, ['END']);
  const deltas: string[] = [];
  for (const b of bytesOf('one ENdless END two')) {
    deltas.push(stream.push(b));
    if (stream.stopAt >= 0) break;
  }
  // "EN" of "ENdless" was held back while it might have been "END", then released with "d"
  assert.ok(deltas.includes('ENd'), JSON.stringify(deltas));
  assert.equal(stream.stopAt, 'one ENdless '.length);
  const text = 'one ENdless END'.slice(0, stream.stopAt);
  assert.equal(deltas.join('') + stream.finish(text), 'one ENdless ');
  assert.ok(!deltas.join('').includes('END'));
  // after the match nothing more is taken
  assert.equal(stream.push(bytesOf('x')[0] as number), '');
});

test('text stream: a stop string ending inside a character split over byte tokens', () => {
  // 🙂 is 4 bytes: the match needs its last byte; no delta carries U+FFFD or any part of the stop.
  const stop = 'a🙂';
  const stream = new TextStream(byteDecode, [stop]);
  const bytes = bytesOf('xa🙂y');
  const deltas: string[] = [];
  let used = 0;
  for (const b of bytes) {
    used++;
    deltas.push(stream.push(b));
    if (stream.stopAt >= 0) break;
  }
  assert.equal(used, bytesOf('xa🙂').length, 'stops on the last byte of the emoji');
  assert.equal(stream.stopAt, 1);
  assert.deepEqual(deltas.join(''), 'x');
  assert.equal(stream.finish('x'), '');
  // a partial emoji that is NOT the stop: released whole once complete
  const other = new TextStream(byteDecode, ['a🙃']);
  const got = bytesOf('a🙂!').map((b) => other.push(b));
  assert.equal(got.join('') + other.finish('a🙂!'), 'a🙂!');
  assert.ok(got.every((d) => !d.includes('\uFFFD')));
});

/** The greedy continuation of `prompt` with the text after each token. */
async function plainRun(prompt: string, maxNewTokens: number) {
  const g = await lm.generate(prompt, { maxNewTokens, eosTokenId: null });
  const prefixes = g.ids.map((_, k) => lm.tokenizer.decode(g.ids.slice(0, k + 1), true));
  return { g, prefixes };
}

/** A 3-character stop string starting 1 character before the end of token k's text: spans tokens k and k + 1. */
function spanningStop(text: string, prefixes: string[]): { stop: string; at: number } {
  for (let k = 1; k < prefixes.length - 2; k++) {
    const b = (prefixes[k] as string).length;
    if ((prefixes[k + 1] as string).length <= b || b < 1) continue;
    const stop = text.slice(b - 1, b + 2);
    if (stop.length === 3 && !stop.includes('\uFFFD') && text.indexOf(stop) === b - 1) return { stop, at: b - 1 };
  }
  throw new Error(`no stop string spanning tokens in ${JSON.stringify(text)}`);
}

test('generate: stops where the text reaches a stop string spanning tokens; streamed text never includes it', async () => {
  const prompt = 'a dog helps the';
  const { g: plain, prefixes } = await plainRun(prompt, 16);
  assert.equal(plain.finishReason, 'length');
  const { stop, at } = spanningStop(plain.text, prefixes);
  const deltas: string[] = [];
  const cut = await lm.generate(prompt, {
    maxNewTokens: 16,
    eosTokenId: null,
    stopStrings: ['never generated', stop],
    onText: (d) => deltas.push(d),
  });
  assert.equal(cut.text, plain.text.slice(0, at));
  assert.equal(cut.stoppedBy, 'stop_string');
  assert.equal(cut.finishReason, 'stop');
  // the ids run to the token that completed the stop string, a prefix of the plain run
  const done = prefixes.findIndex((p) => p.includes(stop));
  assert.deepEqual(cut.ids, plain.ids.slice(0, done + 1));
  assert.equal(deltas.join(''), cut.text);
  // a stop string that never comes changes nothing
  const same = await lm.generate(prompt, { maxNewTokens: 16, eosTokenId: null, stopStrings: ['\u0001never'] });
  assert.deepEqual(same.ids, plain.ids);
  assert.equal(same.text, plain.text);
  assert.equal(same.finishReason, 'length');
  await assert.rejects(lm.generate(prompt, { stopStrings: [''] }), /stop strings must be non-empty/);
});

test('finish_reason: OpenAI names for each way a generation ends', async () => {
  assert.equal(finishReasonOf('eos'), 'stop');
  assert.equal(finishReasonOf('stop_string'), 'stop');
  assert.equal(finishReasonOf('max_new_tokens'), 'length');
  assert.equal(finishReasonOf('context'), 'length');
  assert.equal(finishReasonOf('stopped'), 'abort');
  const plain = await lm.generate('the bird', { maxNewTokens: 4, eosTokenId: null });
  const eos = await lm.generate('the bird', { maxNewTokens: 4, eosTokenId: plain.ids[2] as number });
  assert.equal(eos.stoppedBy, 'eos');
  assert.equal(eos.finishReason, 'stop');
});

test('stop strings on the command line and in the chat protocol', async () => {
  assert.deepEqual(generationOptions({ stop: ['###', '\n\n'] }).stopStrings, ['###', '\n\n']);
  assert.equal(generationOptions({}).stopStrings, undefined);
  assert.throws(() => generationOptions({ stop: [''] }), /--stop needs a non-empty text/);
  const request = (options: object) =>
    parseChatRequest(JSON.stringify({ type: 'generate', id: 4, messages: [{ role: 'user', content: 'hi' }], options }));
  assert.ok(request({ stop: 'x' }).ok);
  assert.ok(request({ stop: ['x', 'y'] }).ok);
  const problem = (options: object) => {
    const r = request(options);
    return r.ok ? '' : r.problem;
  };
  assert.match(problem({ stop: '' }), /options\.stop is empty/);
  assert.match(problem({ stop: ['a', ''] }), /options\.stop\[1\] is empty/);
  assert.match(problem({ stop: [3] }), /options\.stop\[0\] must be a string/);
  assert.match(problem({ stop: 5 }), /options\.stop must be a string or a list of strings/);

  // The chat server streams deltas that stop short of the stop string and reports stop_string.
  const prompt = 'a dog helps the';
  const { g: plain, prefixes } = await plainRun(prompt, 16);
  const { stop, at } = spanningStop(plain.text, prefixes);
  const replies: ChatReply[] = [];
  const server = new ChatServer(lm, (r) => replies.push(r));
  server.handleLine(
    JSON.stringify({
      type: 'generate',
      id: 9,
      messages: [{ role: 'user', content: prompt }],
      options: { max_new_tokens: 16, stop },
    }),
  );
  while (!replies.some((r) => r.type === 'done' || r.type === 'error')) await new Promise((r) => setImmediate(r));
  const streamed = replies.map((r) => (r.type === 'token' ? r.text : '')).join('');
  const done = replies.at(-1);
  assert.equal(done?.type, 'done', JSON.stringify(done));
  if (done?.type === 'done') {
    // The model's EOS may come first on other fixtures; on this one the stop string does.
    assert.equal(done.stoppedBy, 'stop_string');
    assert.equal(streamed, plain.text.slice(0, at));
  }
});
