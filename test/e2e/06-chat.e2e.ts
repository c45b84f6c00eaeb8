// A chat fine-tune from the command palette, then the run panel's Chat tab answers: a tiny Llama
// with a chat template, OpenAI-format conversations, LoRA on every linear layer.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { writeTinyDecoder } from '../fixtures/tiny-decoders.js';
import { emptyWorkspace, readStatus, runDirs, scenario, trace, UI_TIMEOUT, waitFor } from './harness.js';

const SYSTEM = 'You answer questions about the shop.';
const CONVERSATIONS: readonly (readonly [string, string])[] = [
  ['When do you open?', 'We open at nine in the morning.'],
  ['When do you close?', 'We close at six in the evening.'],
  ['Are you open on Sunday?', 'No, we are closed on Sunday.'],
  ['Do you fix bikes?', 'Yes, we fix bikes every day.'],
];
// The template marks each turn with its role and ends it with EOS, as chat models' templates do.
const TEMPLATE =
  '{% for m in messages %}<|{{ m.role }}|>\n{{ m.content }}{{ eos_token }}\n{% endfor %}{% if add_generation_prompt %}<|assistant|>\n{% endif %}';

/** The workspace: model/ (a tiny random Llama with TEMPLATE), chat.jsonl, chat.finetune.yaml. */
function chatWorkspace(): string {
  const ws = emptyWorkspace('chat');
  const model = path.join(ws, 'model');
  fs.mkdirSync(model);
  // The tokenizer is trained on the conversations and the template's markers, so it covers them.
  const sentences = CONVERSATIONS.flatMap(([q, a]) => [q, a, `<|system|> <|user|> <|assistant|> ${SYSTEM}`]);
  writeTinyDecoder(model, 'llama', { sentences, dtype: 'float32' });
  const settingsPath = path.join(model, 'tokenizer_config.json');
  const settings = JSON.parse(fs.readFileSync(settingsPath, 'utf8')) as Record<string, unknown>;
  fs.writeFileSync(settingsPath, JSON.stringify({ ...settings, chat_template: TEMPLATE }, null, 2));
  const rows = CONVERSATIONS.map(([user, assistant]) =>
    JSON.stringify({
      messages: [
        { role: 'system', content: SYSTEM },
        { role: 'user', content: user },
        { role: 'assistant', content: assistant },
      ],
    }),
  );
  fs.writeFileSync(path.join(ws, 'chat.jsonl'), `${rows.join('\n')}\n`);
  fs.writeFileSync(
    path.join(ws, 'chat.finetune.yaml'),
    `model: ./model
task: causal-lm
data:
  train: chat.jsonl
  validation: chat.jsonl
  format: messages
  max_length: 64
training:
  method: lora
  assistant_only_loss: true
  epochs: 15
  batch_size: 4
  learning_rate: 1.0e-2
  lora: { r: 8, alpha: 16, target_modules: all-linear }
eval:
  metrics: [perplexity]
device: cpu
`,
  );
  return ws;
}

scenario('chat', { trust: true, timeoutMs: 420_000 }, async (wb, server) => {
  const ws = chatWorkspace();
  await wb.openFolder(server.url, ws);
  await wb.openFile('chat.finetune.yaml');
  await wb.startRunFromPalette('chat.finetune.yaml');
  const runDir = await waitFor('a run directory', () => runDirs(ws)[0]);
  await wb.waitForCompletion(runDir, new Set());
  assert.equal(readStatus(runDir)?.state, 'completed');
  await wb.shot('completed');

  await wb.runAction(0, 'Open Run');
  const panel = wb.panelFrame();
  await panel.locator('#tab-chat').click();
  const input = panel.locator('textarea.chat-input');
  await input.waitFor({ timeout: UI_TIMEOUT });
  // The run's models arrive from the host: Send is enabled once one is there.
  const send = panel.locator('.chat-actions vscode-button').first();
  await waitFor(
    'a chat model to be offered',
    async () => !(await send.evaluate((b) => (b as unknown as { disabled: boolean }).disabled)),
  );
  await wb.shot('chat-ready');

  // Count the reply's updates in the page itself: each streamed token replaces the reply's text.
  const frame = await waitFor('the panel frame', async () => {
    for (const f of wb.page.frames())
      if (
        (await f
          .locator('.chat-view')
          .count()
          .catch(() => 0)) > 0
      )
        return f;
    return undefined;
  });
  // (A string: the test's TypeScript has no DOM types.)
  await frame.evaluate(`(() => {
    window.replyUpdates = 0;
    const transcript = document.querySelector('.chat-transcript');
    new MutationObserver((records) => {
      for (const r of records) {
        const el = r.target.nodeType === 1 ? r.target : r.target.parentElement;
        if (el && el.closest('.chat-assistant .chat-text')) window.replyUpdates++;
      }
    }).observe(transcript, { subtree: true, childList: true, characterData: true });
  })()`);
  await input.fill('When do you open?');
  await input.press('Enter');
  const reply = panel.locator('.chat-turn.chat-assistant .chat-text').last();
  await reply.waitFor({ timeout: UI_TIMEOUT });
  // The turn ends when Stop is disabled again.
  const stop = panel.locator('.chat-actions vscode-button').nth(1);
  await waitFor('the reply to finish', async () => {
    const text = (await reply.textContent()) ?? '';
    const stopped = await stop.evaluate((b) => (b as unknown as { disabled: boolean }).disabled);
    return stopped && text.trim() !== '';
  });
  const text = (await reply.textContent()) ?? '';
  const updates = Number(await frame.evaluate('window.replyUpdates'));
  const note = (await panel.locator('.chat-turn.chat-assistant .chat-note').allTextContents()).join(' ');
  trace(`chat reply (${updates} updates): ${JSON.stringify(text)} ${note}`);
  assert.ok(text.trim().length > 0, 'the reply has text');
  assert.doesNotMatch(note, /Error/);
  assert.ok(updates >= 2, `the reply should stream token by token; saw ${updates} update(s)`);
  await wb.shot('chat-answered');
});
