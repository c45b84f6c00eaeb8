import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { browserUnavailable } from './harness/browser.js';
import { openPanelPage, type PanelPage } from './harness/open.js';
import {
  holdReplies,
  nextPosted,
  posted,
  releaseReply,
  run,
  send,
  settle,
  status,
  waitForReady,
} from './harness/page.js';

/**
 * The Chat tab (src/webview/chat-view.ts) in headless Chromium, the harness playing the host: the
 * messages it posts, tokens appended as they stream, Stop, the completion-mode note, errors, and
 * the conversation kept across a reload. Screenshots go to test-artifacts/webview/.
 */
const ROOT = resolve(__dirname, '..', '..');
const ARTIFACTS = join(ROOT, 'test-artifacts', 'webview');
const skip = browserUnavailable();
if (skip) console.log(`# skipping the Chat tab browser tests: ${skip}`);

describe('Chat tab in Chromium', { skip }, () => {
  let panel: PanelPage | undefined;
  let page: Page;
  const lm = 'lm-20250101-120000';
  const cls = 'cls-20250101-130000';

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    panel = await openPanelPage(ROOT);
    page = panel.page;
    await holdReplies(page, 'chatSend');
  });

  after(() => panel?.close());

  const sendButton = () => page.locator('.chat-actions vscode-button', { hasText: 'Send' });
  const stopButton = () => page.locator('.chat-actions vscode-button', { hasText: 'Stop' });
  const disabled = (l: ReturnType<Page['locator']>) =>
    l.evaluate((e) => (e as HTMLElement & { disabled: boolean }).disabled);
  const lastText = () => page.locator('.chat-turn:last-child .chat-text').textContent();

  async function init(runId: string, task: string): Promise<void> {
    await send(page, {
      type: 'init',
      runs: [run(runId, { status: status({ state: 'completed' }), config: { task } })],
      trusted: true,
      target: { runDirs: [`/work/space/.finetune/runs/${runId}`] },
    });
  }

  test("the tab asks for the run's models and lists final and checkpoints", async () => {
    const n = (await posted(page)).length;
    await init(lm, 'causal-lm');
    await page.click('#tab-chat');
    assert.deepEqual(await nextPosted(page, 'chatModels', n), {
      type: 'chatModels',
      id: (await nextPosted(page, 'chatModels', n)).id,
      runId: lm,
    });
    assert.equal(await disabled(sendButton()), true, 'nothing to send to before the models are known');
    await send(page, {
      type: 'chatModels',
      runId: lm,
      models: [
        { key: 'final', label: 'final model' },
        { key: 'step-40', label: 'checkpoint step 40' },
      ],
    });
    await settle(page);
    assert.deepEqual(await page.locator('.chat-options vscode-option').allTextContents(), [
      'final model',
      'checkpoint step 40',
    ]);
    assert.equal(await disabled(sendButton()), false);
    assert.equal(await disabled(stopButton()), true);
  });

  test('a message streams its reply token by token; Stop posts chatStop; the stop is noted', async () => {
    const n = (await posted(page)).length;
    await page.locator('.chat-input').fill('the cat');
    await page.locator('.chat-input').press('Enter');
    const request = await nextPosted(page, 'chatSend', n);
    assert.deepEqual(
      { ...request, id: 0 },
      {
        type: 'chatSend',
        id: 0,
        chatId: request.chatId,
        runId: lm,
        model: 'final',
        system: '',
        messages: [{ role: 'user', content: 'the cat' }],
        options: { max_new_tokens: 128, temperature: 0.7 },
      },
    );
    assert.equal(await page.locator('.chat-input').inputValue(), '', 'the input is cleared');
    assert.equal(await disabled(sendButton()), true, 'one reply at a time');
    assert.equal(await disabled(stopButton()), false);
    await send(page, { type: 'chatReady', chatId: request.chatId, chat: false });
    await page.locator('.chat-mode', { hasText: 'no chat template: replies continue your text' }).waitFor();
    await send(page, { type: 'chatToken', chatId: request.chatId, text: ' sat' });
    await send(page, { type: 'chatToken', chatId: request.chatId + 100, text: ' (another reply)' });
    await send(page, { type: 'chatToken', chatId: request.chatId, text: ' on the mat' });
    assert.equal(await lastText(), ' sat on the mat');
    const before = (await posted(page)).length;
    await stopButton().click();
    assert.equal((await nextPosted(page, 'chatStop', before)).chatId, request.chatId);
    await send(page, { type: 'chatDone', chatId: request.chatId, stoppedBy: 'stopped', tokens: 4 });
    await releaseReply(page, request.id);
    await page.locator('.chat-turn:last-child .chat-note', { hasText: '(stopped)' }).waitFor();
    assert.equal(await disabled(sendButton()), false);
    assert.equal(await disabled(stopButton()), true);
    await settle(page);
    await page.screenshot({ path: join(ARTIFACTS, 'chat-01-streamed.png') });
  });

  test('the next message carries the conversation, the system prompt and the options; a failure is shown', async () => {
    await page.locator('.chat-system').fill('Answer briefly.');
    const temperature = page.locator('.chat-options vscode-text-field').nth(1).locator('input');
    await temperature.fill('0');
    await temperature.press('Enter');
    await page.locator('.chat-options vscode-option[value="step-40"]').evaluate((o) => {
      const dropdown = o.parentElement as HTMLElement & { value: string };
      dropdown.value = 'step-40';
      dropdown.dispatchEvent(new Event('change'));
    });
    const n = (await posted(page)).length;
    await page.locator('.chat-input').fill('and then?');
    await sendButton().click();
    const request = await nextPosted(page, 'chatSend', n);
    assert.equal(request.model, 'step-40');
    assert.equal(request.system, 'Answer briefly.');
    assert.deepEqual(request.options, { max_new_tokens: 128, temperature: 0 });
    assert.deepEqual(request.messages, [
      { role: 'user', content: 'the cat' },
      { role: 'assistant', content: ' sat on the mat' },
      { role: 'user', content: 'and then?' },
    ]);
    await releaseReply(page, request.id, 'the chat engine exited (code 1): out of memory');
    await page
      .locator('.chat-turn:last-child .chat-note', { hasText: 'Error: the chat engine exited (code 1): out of memory' })
      .waitFor();
    assert.equal(await disabled(sendButton()), false);
  });

  test('the conversation survives a reload; a run that is not a causal LM says why there is no chat', async () => {
    await page.reload();
    await waitForReady(page, 1);
    await holdReplies(page, 'chatSend');
    await init(lm, 'causal-lm');
    await settle(page);
    assert.deepEqual(await page.locator('.chat-turn .chat-text').allTextContents(), [
      'the cat',
      ' sat on the mat',
      'and then?',
      '',
    ]);
    assert.equal(await page.locator('.chat-system').inputValue(), 'Answer briefly.');

    const n = (await posted(page)).length;
    await init(cls, 'text-classification');
    await nextPosted(page, 'chatModels', n);
    const why = "Chat talks to causal language models (task causal-lm); this run's task is text-classification.";
    await send(page, { type: 'chatModels', runId: cls, models: [], unavailable: why });
    await page.locator('.chat-unavailable', { hasText: why }).waitFor();
    assert.equal(await disabled(sendButton()), true);
    await settle(page);
    await page.screenshot({ path: join(ARTIFACTS, 'chat-02-unavailable.png') });
  });
});
