import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { PlaygroundResult } from '../../src/shared/playground.js';
import { type Browser, browserUnavailable, buildWebview, launchChromium } from './harness/browser.js';
import {
  holdReplies,
  nextPosted,
  posted,
  releaseReply,
  run,
  send,
  settle,
  status,
  unexpectedViolations,
  violations,
  waitForReady,
} from './harness/page.js';
import { type Harness, startHarness } from './harness/server.js';

/**
 * The Playground tab (src/webview/playground-view.ts) in headless Chromium, the harness playing
 * the host: for each task the input it posts and the result it renders (label probabilities as
 * bars, entities and the answer span highlighted in the text, a continuation streamed and
 * stopped, a translation and a summary with the time they took), and the inputs kept across a
 * reload. Screenshots go to test-artifacts/webview/.
 */
const ROOT = resolve(__dirname, '..', '..');
const ARTIFACTS = join(ROOT, 'test-artifacts', 'webview');
const skip = browserUnavailable();
if (skip) console.log(`# skipping the Playground tab browser tests: ${skip}`);

describe('Playground tab in Chromium', { skip }, () => {
  let harness: Harness;
  let browser: Browser;
  let page: Page;

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await buildWebview(ROOT);
    harness = await startHarness(ROOT);
    browser = await launchChromium();
    page = await browser.context.newPage();
    await page.goto(`${harness.origin}/?theme=dark`);
    await waitForReady(page);
    await holdReplies(page, 'playgroundRun');
  });

  after(async () => {
    await browser?.close();
    await harness?.close();
  });

  const runButton = () => page.locator('.pg-actions vscode-button').first();
  const disabled = (l: ReturnType<Page['locator']>) =>
    l.evaluate((e) => (e as HTMLElement & { disabled: boolean }).disabled);

  /** Shows a run of `task` with a final model and a checkpoint, as the host answers the tab. */
  async function open(runId: string, task: string): Promise<void> {
    const n = (await posted(page)).length;
    await send(page, {
      type: 'init',
      runs: [run(runId, { status: status({ state: 'completed' }), config: { task } })],
      trusted: true,
      target: { runDirs: [`/work/space/.finetune/runs/${runId}`] },
    });
    await page.click('#tab-playground');
    assert.equal((await nextPosted(page, 'playgroundModels', n)).runId, runId);
    await send(page, {
      type: 'playgroundModels',
      runId,
      task,
      models: [
        { key: 'final', label: 'final model' },
        { key: 'step-10', label: 'checkpoint step 10' },
      ],
    });
    await settle(page);
  }

  /** Clicks Run and answers the request with `result`, as the host does. */
  async function runWith(result: PlaygroundResult) {
    const n = (await posted(page)).length;
    await runButton().click();
    const request = await nextPosted(page, 'playgroundRun', n);
    await send(page, { type: 'playgroundResult', playId: request.playId, result });
    await releaseReply(page, request.id);
    await settle(page);
    return request;
  }

  test('text classification: every label with its probability as a bar', async () => {
    await open('cls-20250101-120000', 'text-classification');
    assert.equal(await page.locator('.pg-question').isVisible(), false, 'no QA boxes for a classifier');
    await page.locator('.pg-text').fill('a fine film');
    const request = await runWith({
      task: 'text-classification',
      labels: [
        { label: 'positive', score: 0.7 },
        { label: 'neutral', score: 0.2 },
        { label: 'negative', score: 0.1 },
      ],
    });
    assert.deepEqual(
      { ...request, id: 0, playId: 0 },
      {
        type: 'playgroundRun',
        id: 0,
        playId: 0,
        runId: 'cls-20250101-120000',
        model: 'final',
        input: { task: 'text-classification', text: 'a fine film' },
      },
    );
    assert.deepEqual(await page.locator('.pg-label-name').allTextContents(), ['positive', 'neutral', 'negative']);
    assert.deepEqual(await page.locator('.pg-score').allTextContents(), ['70.0%', '20.0%', '10.0%']);
    assert.deepEqual(
      await page.locator('meter.pg-bar').evaluateAll((ms) => ms.map((m) => (m as HTMLMeterElement).value)),
      [0.7, 0.2, 0.1],
    );
    assert.equal(await disabled(runButton()), false);
    await page.screenshot({ path: join(ARTIFACTS, 'playground-01-labels.png') });
  });

  test('the newest model is used as the run writes them, until the user picks one', async () => {
    const runId = 'cls-20250101-120000';
    const models = (...keys: string[]) =>
      send(page, {
        type: 'playgroundModels',
        runId,
        task: 'text-classification',
        models: keys.map((key) => ({ key, label: key })),
      });
    const modelOfNextRun = async () => {
      const n = (await posted(page)).length;
      await runButton().click();
      const request = await nextPosted(page, 'playgroundRun', n);
      await releaseReply(page, request.id);
      await settle(page);
      return request.model;
    };
    await models('step-20', 'step-10');
    assert.equal(await modelOfNextRun(), 'step-20');
    await models('final', 'step-20', 'step-10');
    assert.equal(await modelOfNextRun(), 'final', 'the run completed: its final model');
    await page.locator('.pg-options vscode-option[value="step-10"]').evaluate((o) => {
      const dropdown = o.parentElement as HTMLElement & { value: string };
      dropdown.value = 'step-10';
      dropdown.dispatchEvent(new Event('change'));
    });
    await models('final', 'step-20', 'step-10');
    assert.equal(await modelOfNextRun(), 'step-10', "the user's pick is kept");
    await models('final', 'step-20');
    assert.equal(await modelOfNextRun(), 'final', 'a pick the run no longer has falls back to the newest');
  });

  test('token classification: the entities highlighted in the text, with their types', async () => {
    await open('ner-20250101-120000', 'token-classification');
    const text = '😀 Ada lives in Paris';
    await page.locator('.pg-text').fill(text);
    await runWith({
      task: 'token-classification',
      text,
      entities: [
        { group: 'PER', score: 0.91, word: 'ada', start: 3, end: 6 },
        { group: 'LOC', score: 0.88, word: 'paris', start: 16, end: 21 },
      ],
    });
    assert.deepEqual(await page.locator('mark.pg-entity').allTextContents(), ['AdaPER', 'ParisLOC']);
    assert.equal(
      await page
        .locator('.pg-marked')
        .evaluate((el) => [...el.childNodes].map((n) => n.firstChild?.textContent ?? n.textContent).join('')),
      text,
      'the text around the marks is the input',
    );
    assert.equal(await page.locator('mark.pg-entity').first().getAttribute('title'), 'PER 91.0%');
    await page.screenshot({ path: join(ARTIFACTS, 'playground-02-entities.png') });
  });

  test('question answering: question and context boxes, the answer span highlighted in the context', async () => {
    await open('qa-20250101-120000', 'question-answering');
    assert.equal(await page.locator('.pg-text').isVisible(), false);
    const context = 'Ada Lovelace wrote the first program in 1843.';
    await page.locator('.pg-question').fill('When?');
    await page.locator('.pg-context').fill(context);
    const request = await runWith({
      task: 'question-answering',
      question: 'When?',
      context,
      answer: { answer: '1843', score: 0.64, start: 40, end: 44 },
    });
    assert.deepEqual(request.input, { task: 'question-answering', question: 'When?', context });
    assert.equal(await page.locator('mark.pg-answer').textContent(), '1843');
    assert.equal(await page.locator('.pg-answer-line').textContent(), 'Answer: 1843 (64.0%)');
    assert.equal(await page.locator('.pg-marked').textContent(), context);
    await page.screenshot({ path: join(ARTIFACTS, 'playground-03-answer.png') });
  });

  test('a causal LM: the continuation streams after the prompt; Stop posts playgroundStop', async () => {
    await open('lm-20250101-120000', 'causal-lm');
    await page.locator('.pg-chat-hint', { hasText: 'use the Chat tab' }).waitFor();
    assert.equal(await runButton().textContent(), 'Generate');
    await page.locator('.pg-prompt').fill('the cat');
    const n = (await posted(page)).length;
    await page.locator('.pg-prompt').press('Control+Enter');
    const request = await nextPosted(page, 'playgroundRun', n);
    assert.deepEqual(request.input, { task: 'causal-lm', prompt: 'the cat', maxTokens: 64, temperature: 0 });
    await send(page, { type: 'playgroundToken', playId: request.playId, text: ' sat' });
    await send(page, { type: 'playgroundToken', playId: request.playId + 100, text: ' (another)' });
    await send(page, { type: 'playgroundToken', playId: request.playId, text: ' on' });
    await page.locator('.pg-generated', { hasText: ' sat on' }).waitFor();
    assert.equal(await disabled(runButton()), true, 'one generation at a time');
    const stop = page.locator('.pg-actions vscode-button', { hasText: 'Stop' });
    const before = (await posted(page)).length;
    await stop.click();
    assert.equal((await nextPosted(page, 'playgroundStop', before)).playId, request.playId);
    const result = { task: 'causal-lm', prompt: 'the cat', text: ' sat on', finishReason: 'stopped' } as const;
    await send(page, { type: 'playgroundResult', playId: request.playId, result });
    await releaseReply(page, request.id);
    await page.locator('.pg-finish', { hasText: '(stopped)' }).waitFor();
    assert.equal(await page.locator('.pg-completion').textContent(), 'the cat sat on');
    assert.equal(await disabled(runButton()), false);
    await page.screenshot({ path: join(ARTIFACTS, 'playground-04-generated.png') });
  });

  test('an error is shown where the user acted; the inputs and result survive a reload', async () => {
    const n = (await posted(page)).length;
    await runButton().click();
    const request = await nextPosted(page, 'playgroundRun', n);
    await releaseReply(page, request.id, 'the model server exited (code 1): out of memory');
    await page.locator('.pg-note', { hasText: 'Error: the model server exited (code 1): out of memory' }).waitFor();
    await page.reload();
    await waitForReady(page, 1);
    await open('lm-20250101-120000', 'causal-lm');
    assert.equal(await page.locator('.pg-prompt').inputValue(), 'the cat');
    assert.equal(await page.locator('.pg-completion').textContent(), 'the cat sat on');
    assert.deepEqual(unexpectedViolations(await violations(page)), []);
  });

  test('translation: the source and max new tokens posted, the translation shown with its time', async () => {
    // The reload above started a fresh page, which replies at once until told to hold again.
    await holdReplies(page, 'playgroundRun');
    await open('mt-20250101-120000', 'translation');
    assert.equal(await runButton().textContent(), 'Translate');
    assert.equal(await page.locator('.pg-text').getAttribute('placeholder'), 'Text to translate');
    assert.equal(await page.locator('.pg-max-tokens').isVisible(), true);
    assert.equal(await page.locator('.pg-lm').isVisible(), false, 'no temperature: greedy search');
    assert.equal(await page.locator('.pg-prompt').isVisible(), false);
    const stop = page.locator('.pg-actions vscode-button', { hasText: 'Stop' });
    assert.equal(await stop.isVisible(), false, 'nothing streams, nothing to stop');
    const source = 'The cat sat on the mat.';
    await page.locator('.pg-text').fill(source);
    const maxTokens = page.locator('.pg-max-tokens vscode-text-field input');
    await maxTokens.fill('5000');
    await maxTokens.press('Enter');
    await runButton().click();
    await page.locator('.pg-note', { hasText: 'Max new tokens must be a whole number from 1 to 4096.' }).waitFor();
    await maxTokens.fill('20');
    await maxTokens.press('Enter');
    const request = await runWith({ task: 'translation', source, text: 'Le chat était assis.', ms: 1234 });
    assert.equal(request.runId, 'mt-20250101-120000');
    assert.deepEqual(request.input, { task: 'translation', text: source, maxTokens: 20 });
    assert.equal(await page.locator('.pg-seq2seq-text').textContent(), 'Le chat était assis.');
    assert.equal(await page.locator('.pg-seq2seq-line').textContent(), 'Translation · 1.2 s');
    assert.equal(await page.locator('.pg-note').isVisible(), false, 'the earlier note is gone');
    await page.screenshot({ path: join(ARTIFACTS, 'playground-05-translation.png') });
  });

  test('summarization: the summary shown; a refused request shown as the other tasks show it', async () => {
    await open('sum-20250101-120000', 'summarization');
    assert.equal(await page.locator('.pg-seq2seq-text').count(), 0, "the translation run's result is not shown");
    assert.equal(await runButton().textContent(), 'Summarize');
    const source = 'A long article about cats and the mats they sit on.';
    await page.locator('.pg-text').fill(source);
    const request = await runWith({ task: 'summarization', source, text: 'Cats sit on mats.', ms: 85.4 });
    assert.deepEqual(request.input, { task: 'summarization', text: source, maxTokens: 20 });
    assert.equal(await page.locator('.pg-seq2seq-line').textContent(), 'Summary · 85 ms');
    assert.equal(await page.locator('.pg-seq2seq-text').textContent(), 'Cats sit on mats.');
    const n = (await posted(page)).length;
    await runButton().click();
    const failed = await nextPosted(page, 'playgroundRun', n);
    await releaseReply(
      page,
      failed.id,
      'The model server refused the request: parameters.max_new_tokens must be an integer from 1 to 4096',
    );
    await page.locator('.pg-note', { hasText: 'Error: The model server refused the request' }).waitFor();
    assert.equal(await page.locator('.pg-seq2seq-text').textContent(), 'Cats sit on mats.', 'the last result stays');
    assert.equal(await disabled(runButton()), false);
    assert.deepEqual(unexpectedViolations(await violations(page)), []);
  });
});
