import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { eosIdList, generationStopIds } from '../../../src/engine/chat/generation-config.js';
import { ChatTemplate, ChatTemplateError } from '../../../src/engine/chat/template.js';
import { CHATML_TEMPLATE, LLAMA3_TEMPLATE, MISTRAL_TEMPLATE } from '../../fixtures/chat.js';

// Expected strings written by hand from each template's text (the Hub's tokenizer_config.json),
// checked against the model cards' documented prompt formats.

test('Llama 3: header blocks, trimmed content, <|eot_id|>, BOS before the first message only', () => {
  const t = new ChatTemplate(LLAMA3_TEMPLATE, { bos_token: '<|begin_of_text|>', eos_token: '<|eot_id|>' }, 'test');
  const messages = [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'Hi!' },
    { role: 'assistant', content: ' Hello. ' },
  ];
  assert.equal(
    t.render(messages),
    '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>' +
      '<|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>' +
      '<|start_header_id|>assistant<|end_header_id|>\n\nHello.<|eot_id|>',
  );
  assert.equal(
    t.render(messages.slice(0, 2), { addGenerationPrompt: true }),
    '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>' +
      '<|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>' +
      '<|start_header_id|>assistant<|end_header_id|>\n\n',
  );
});

test('Qwen ChatML: the default system prompt, <|im_start|>role\\n…<|im_end|>\\n, the generation prompt', () => {
  const t = new ChatTemplate(CHATML_TEMPLATE, { eos_token: '<|im_end|>' }, 'test');
  assert.equal(
    t.render([{ role: 'user', content: 'Hi!' }], { addGenerationPrompt: true }),
    '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n',
  );
  assert.equal(
    t.render([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi!' },
      { role: 'assistant', content: 'Hello.' },
    ]),
    '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\nHello.<|im_end|>\n',
  );
});

test('Mistral [INST]: BOS once, replies closed by EOS, and raise_exception becomes the error', () => {
  const t = new ChatTemplate(MISTRAL_TEMPLATE, { bos_token: '<s>', eos_token: '</s>' }, 'test');
  assert.equal(
    t.render([
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello' },
      { role: 'user', content: 'Bye' },
    ]),
    '<s>[INST] Hi [/INST]Hello</s>[INST] Bye [/INST]',
  );
  assert.throws(
    () =>
      t.render([
        { role: 'user', content: 'Hi' },
        { role: 'user', content: 'again' },
      ]),
    (err: unknown) =>
      err instanceof ChatTemplateError &&
      err.message === 'Conversation roles must alternate user/assistant/user/assistant/...',
  );
  assert.throws(() => t.render([{ role: 'system', content: 'x' }]), /roles must alternate/);
});

test('fromFolder: a string, the list of named templates ("default"), chat_template.jinja, none', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chat-template-'));
  const write = (config: Record<string, unknown>) =>
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(config));
  write({ bos_token: { content: '<s>', special: true }, eos_token: '</s>' });
  assert.equal(ChatTemplate.fromFolder(dir), undefined);
  write({
    bos_token: { content: '<s>', special: true },
    eos_token: '</s>',
    chat_template: [
      { name: 'tool_use', template: 'TOOLS' },
      { name: 'default', template: '{{ bos_token }}{{ messages[0].content }}{{ eos_token }}' },
    ],
  });
  assert.equal(ChatTemplate.fromFolder(dir)?.render([{ role: 'user', content: 'x' }]), '<s>x</s>');
  write({ chat_template: [{ name: 'tool_use', template: 'TOOLS' }] });
  assert.throws(() => ChatTemplate.fromFolder(dir), /none named 'default'/);
  write({ chat_template: 7 });
  assert.throws(() => ChatTemplate.fromFolder(dir), /tokenizer_config\.json: chat_template is neither/);
  write({ chat_template: 'A' });
  writeFileSync(join(dir, 'chat_template.jinja'), 'B{{ messages | length }}');
  assert.equal(ChatTemplate.fromFolder(dir)?.render([{ role: 'user', content: 'x' }]), 'B1');
  writeFileSync(join(dir, 'chat_template.jinja'), '{% for %}');
  assert.throws(() => ChatTemplate.fromFolder(dir), /chat_template\.jinja: the chat template does not parse/);
});

test('generation_config.json: eos_token_id as a list or one id, else the fallback', () => {
  const dir = mkdtempSync(join(tmpdir(), 'generation-config-'));
  assert.deepEqual(generationStopIds(dir, [2, null]), [2]);
  // Llama 3 Instruct's: <|end_of_text|>, <|eot_id|>
  writeFileSync(join(dir, 'generation_config.json'), JSON.stringify({ eos_token_id: [128001, 128009] }));
  assert.deepEqual(generationStopIds(dir, [128001]), [128001, 128009]);
  writeFileSync(join(dir, 'generation_config.json'), JSON.stringify({ eos_token_id: 7, bos_token_id: 1 }));
  assert.deepEqual(generationStopIds(dir, [2]), [7]);
  writeFileSync(join(dir, 'generation_config.json'), JSON.stringify({ do_sample: true }));
  assert.deepEqual(generationStopIds(dir, [2, 2]), [2]);
  assert.throws(() => eosIdList(['x'], 'g.json'), /g\.json: eos_token_id must be a token id or a list/);
});
