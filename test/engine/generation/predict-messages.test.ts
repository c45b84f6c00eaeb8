import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { predictCommand } from '../../../src/engine/commands/model-commands.js';
import { type LoadedCausalLm, loadCausalLm } from '../../../src/engine/inference/causal-lm-model.js';
import { writeChatGpt2 } from '../../fixtures/chat.js';
import { writeTinyDecoder } from '../../fixtures/tiny-decoders.js';
import { GPT2_FIXTURE_SENTENCES, writeTinyGpt2 } from '../../fixtures/tiny-gpt2.js';

// `finetune predict` on conversation rows: the chat template rendered with add_generation_prompt
// and tokenized without special tokens, as transformers' apply_chat_template(tokenize=True,
// add_generation_prompt=True) feeds generate(); the expected prompts below are written out by hand
// in each template's format (ChatML as Qwen2-Instruct renders it).

/** A short template: the tiny Llama's context (64 positions) is too small for ChatML's system prompt. */
const SHORT_TEMPLATE =
  "{% for m in messages %}{{ m['role'] + ': ' + m['content'] + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ 'assistant:' }}{% endif %}";

const root = mkdtempSync(join(tmpdir(), 'predict-messages-'));
const chatml = join(root, 'chatml-gpt2');
const llama = join(root, 'llama');
const plain = join(root, 'plain-gpt2');
let ids: { imStart: number; imEnd: number };
let lm: LoadedCausalLm;

before(async () => {
  mkdirSync(chatml);
  ids = writeChatGpt2(chatml, GPT2_FIXTURE_SENTENCES);
  mkdirSync(llama);
  writeTinyDecoder(llama, 'llama', { dtype: 'float32' });
  const cfg = join(llama, 'tokenizer_config.json');
  writeFileSync(cfg, JSON.stringify({ ...JSON.parse(readFileSync(cfg, 'utf8')), chat_template: SHORT_TEMPLATE }));
  mkdirSync(plain);
  writeTinyGpt2(plain, GPT2_FIXTURE_SENTENCES, { seed: 3 });
  lm = await loadCausalLm(chatml, { threads: 1 });
});
after(async () => {
  await lm?.dispose();
  rmSync(root, { recursive: true, force: true });
});

const CHATML_PROMPT = (user: string) =>
  `<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n${user}<|im_end|>\n<|im_start|>assistant\n`;

async function predict(
  model: string,
  rows: readonly unknown[],
  ...flags: string[]
): Promise<Record<string, unknown>[]> {
  const input = join(root, 'rows.jsonl');
  const output = join(root, 'out.jsonl');
  writeFileSync(input, rows.map((r) => JSON.stringify(r)).join('\n'));
  const code = await predictCommand.run(['--model', model, '--input', input, '--output', output, ...flags]);
  assert.equal(code, 0);
  return readFileSync(output, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('predict: a messages row is prompted through the chat template; ShareGPT and an SFT row give the same reply', async () => {
  const user = 'the cat sees';
  const rows = await predict(
    chatml,
    [
      { messages: [{ role: 'user', content: user }] },
      { conversations: [{ from: 'human', value: user }] },
      // an SFT row: the trailing assistant turn is the reference, left out of the prompt
      {
        messages: [
          { role: 'user', content: user },
          { role: 'assistant', content: 'a reference reply' },
        ],
      },
      { prompt: [{ role: 'user', content: user }] },
    ],
    '--max-new-tokens',
    '6',
  );
  const promptIds = lm.tokenizer.encode(CHATML_PROMPT(user), null, { addSpecialTokens: false }).ids;
  assert.ok(promptIds.includes(ids.imStart), 'the special tokens are tokenized as themselves');
  const expected = await lm.generate(promptIds, { maxNewTokens: 6, stopTokenIds: [ids.imEnd] });
  const line = { message: { role: 'assistant', content: expected.text }, finish_reason: expected.finishReason };
  assert.deepEqual(rows, [line, line, line, line]);
});

test('predict: a prompt row generates its completion; a text row its continuation', async () => {
  const rows = await predict(chatml, [{ prompt: 'my friend' }, { text: 'my friend' }], '--max-new-tokens', '5');
  const expected = await lm.generate('my friend', { maxNewTokens: 5, stopTokenIds: [ids.imEnd] });
  assert.deepEqual(rows, [
    { completion: expected.text, finish_reason: expected.finishReason },
    { text: expected.text, finish_reason: expected.finishReason },
  ]);
});

test('predict: generation stops on generation_config.json eos_token_id, finish_reason "stop"', async () => {
  const user = 'a dog helps the';
  const promptIds = lm.tokenizer.encode(CHATML_PROMPT(user), null, { addSpecialTokens: false }).ids;
  const free = await lm.generate(promptIds, { maxNewTokens: 6, eosTokenId: null });
  const third = free.ids[2] as number;
  assert.ok(!free.ids.slice(0, 2).includes(third), `the third token first appears third: ${free.ids}`);
  const dir = join(root, 'chatml-gen-config');
  mkdirSync(dir);
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'])
    writeFileSync(join(dir, f), readFileSync(join(chatml, f)));
  writeFileSync(join(dir, 'generation_config.json'), JSON.stringify({ eos_token_id: [ids.imEnd, third] }));
  const [row] = await predict(dir, [{ messages: [{ role: 'user', content: user }] }], '--max-new-tokens', '6');
  assert.deepEqual(row, {
    message: { role: 'assistant', content: lm.tokenizer.decode(free.ids.slice(0, 2), true) },
    finish_reason: 'stop',
  });
});

test('predict: messages on a Llama with a chat template; stop strings and the penalty apply to chat rows', async () => {
  const model = await loadCausalLm(llama, { threads: 1 });
  try {
    const user = 'the bird';
    const promptIds = model.tokenizer.encode(`user: ${user}\nassistant:`, null, { addSpecialTokens: false }).ids;
    const expected = await model.generate(promptIds, { maxNewTokens: 12, repetitionPenalty: 1.3 });
    const [row] = await predict(
      llama,
      [{ messages: [{ role: 'user', content: user }] }],
      '--max-new-tokens',
      '12',
      '--repetition-penalty',
      '1.3',
    );
    assert.deepEqual(row, {
      message: { role: 'assistant', content: expected.text },
      finish_reason: expected.finishReason,
    });
    // a stop string inside the reply: the reply ends before it (this fixture's reply has 4+ characters)
    const stop = expected.text.slice(2, 4);
    assert.equal(expected.text.indexOf(stop), 2, JSON.stringify(expected.text));
    const [cut] = await predict(
      llama,
      [{ messages: [{ role: 'user', content: user }] }],
      ...['--max-new-tokens', '12', '--repetition-penalty', '1.3', '--stop', stop],
    );
    assert.deepEqual(cut, {
      message: { role: 'assistant', content: expected.text.slice(0, 2) },
      finish_reason: 'stop',
    });
    // Beam search is the encoder-decoders' (seq2seq-commands.ts): refused by name on a causal LM.
    await assert.rejects(
      predict(llama, [{ text: 'x' }], '--num-beams', '4', '--length-penalty', '2'),
      /--num-beams, --length-penalty apply to encoder-decoders \(translation, summarization\)/,
    );
  } finally {
    await model.dispose();
  }
});

test('predict: a conversation for a model without a chat template, or a malformed one, names the row and the model', async () => {
  await assert.rejects(
    predict(plain, [{ text: 'the cat' }, { messages: [{ role: 'user', content: 'hi' }] }]),
    (err: Error) =>
      err.message.includes('rows.jsonl:2: a conversation row needs a chat template') && err.message.includes(plain),
  );
  await assert.rejects(
    predict(chatml, [{ messages: [{ role: 'user', content: 3 }] }]),
    /rows\.jsonl:1: 'messages'\[0\]\.content is not a string/,
  );
  await assert.rejects(
    predict(chatml, [{ messages: [{ role: 'assistant', content: 'only a reply' }] }]),
    /rows\.jsonl:1: 'messages' has no turn before the assistant's reply/,
  );
  await assert.rejects(
    predict(chatml, [{ other: 1 }]),
    /rows\.jsonl:1: expected "messages", "conversations", a "prompt"/,
  );
});
