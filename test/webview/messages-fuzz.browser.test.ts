import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import type { Page } from 'playwright-core';
import { fuzzAsync } from '../fuzz.js';
import { type Browser, browserUnavailable, buildWebview, launchChromium } from './harness/browser.js';
import { run, send, settle, status, stepEvents, waitForPoints, waitForReady } from './harness/page.js';
import { type Harness, startHarness } from './harness/server.js';
import { hostMessage } from './message-arbitraries.js';

/**
 * The run panel (dist/webview.js in Chromium) fed random host messages: whatever arrives, no
 * exception escapes the page's handlers, and the panel still works afterwards (a well-formed
 * run and its events still draw). Each input is a short sequence of messages followed by a
 * well-formed one, so that a bad message that is stored and breaks later ones is caught too.
 */
const ROOT = resolve(__dirname, '..', '..');
const skip = browserUnavailable();
if (skip) console.log(`# skipping the panel message fuzz: ${skip}`);

const RUN = 'fuzz-20250101-120000';

/** Errors the page reported (uncaught exceptions, unhandled rejections), collected in the page. */
async function pageErrors(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { fuzzErrors: string[] }).fuzzErrors);
}

describe('run panel: random host messages', { skip }, () => {
  let harness: Harness;
  let browser: Browser;
  let page: Page;

  before(async () => {
    await buildWebview(ROOT);
    harness = await startHarness(ROOT);
    browser = await launchChromium();
    page = await browser.context.newPage();
    await page.addInitScript(() => {
      const errors: string[] = [];
      (window as unknown as { fuzzErrors: string[] }).fuzzErrors = errors;
      window.addEventListener('error', (e) => errors.push(String(e.error?.stack ?? e.message)));
      window.addEventListener('unhandledrejection', (e) => errors.push(String(e.reason?.stack ?? e.reason)));
    });
    await page.goto(`${harness.origin}/?theme=dark`);
    await waitForReady(page);
  });

  after(async () => {
    await browser?.close();
    await harness?.close();
  });

  test('no message sequence throws in the page, and a well-formed run still shows afterwards', async () => {
    // The panel logs what it rejects as warnings, and a view's exception it caught as an error.
    const consoleErrors: string[] = [];
    let rejected = 0;
    let leftOut = 0;
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
      else if (m.type() === 'warning' && m.text().includes('ignored a host message')) rejected++;
      else if (m.type() === 'warning' && m.text().includes('malformed part')) leftOut++;
    });
    let sent = 0;
    let step = 1;
    await fuzzAsync(
      'panel page (Chromium) host messages',
      fc.array(hostMessage, { minLength: 1, maxLength: 4 }),
      async (messages) => {
        const before = (await pageErrors(page)).length;
        // As the host sends them: one message at a time, each through the page's message event.
        await page.evaluate((ms) => {
          const h = (window as unknown as { harness: { send(m: unknown): void } }).harness;
          for (const m of ms as unknown[]) h.send(m);
        }, messages as unknown);
        await send(page, { type: 'run', run: run(RUN, { status: status() }), events: stepEvents(step, 2) });
        await send(page, { type: 'events', runs: [{ runId: RUN, events: stepEvents(step + 2, 2) }] });
        step += 4;
        sent += messages.length;
        await settle(page);
        const errors = [...(await pageErrors(page)).slice(before), ...consoleErrors.splice(0)];
        assert.deepEqual(errors, [], `messages ${JSON.stringify(messages).slice(0, 2000)}`);
        return true;
      },
      { numRuns: 200 },
    );
    console.log(
      `# fuzz panel page (Chromium) host messages: ${sent} random messages, ${rejected} rejected whole, ${leftOut} with parts left out`,
    );
    // Alive: a fresh init with a run draws its loss curve.
    await send(page, {
      type: 'init',
      runs: [run(RUN, { status: status(), events: stepEvents(1, 50) })],
      trusted: true,
      target: { runDirs: [] },
    });
    await page.click('#tab-charts');
    await waitForPoints(page, 'loss', 50);
    assert.deepEqual([...(await pageErrors(page)), ...consoleErrors], []);
  });
});
