import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { RunEvent } from '../../src/shared/run-directory.js';
import {
  probeChart,
  run,
  send,
  settle,
  status,
  stepEvents,
  T0,
  unexpectedViolations,
  violations,
  waitForPoints,
} from './harness/page.js';
import { ARTIFACTS, browserSkip, openPanel, type PanelSession } from './harness/session.js';

/**
 * A translation run in the panel (real headless Chromium, the extension's HTML and CSP): its
 * BLEU/chrF/ROUGE evaluations are charted under their references' names, and its `samples` events
 * (the engine's shape: {"type":"samples","step","samples":[{source, reference, prediction}],"t"})
 * fill a table on the Metrics tab, newest evaluation first.
 */
const skip = browserSkip('the seq2seq panel browser tests');
const BLUE: [number, number, number] = [0x37, 0x94, 0xff]; // --vscode-charts-blue (harness dark theme)

describe('translation run in the panel', { skip }, () => {
  let session: PanelSession | undefined;
  let page: Page;

  before(async () => {
    session = await openPanel();
    page = session.page;
  });

  after(() => session?.close());

  test('BLEU, chrF and ROUGE charts; the sample table newest first, text shown as text', async () => {
    const evals: RunEvent[] = [0, 1, 2].map((i) => ({
      type: 'eval',
      step: (i + 1) * 100,
      metrics: {
        loss: 3 - i,
        bleu: 10 + 20 * i,
        chrf: 30 + 15 * i,
        rouge1: 0.3 + 0.1 * i,
        rouge2: 0.1 + 0.1 * i,
        rougeL: 0.25 + 0.1 * i,
        rougeLsum: 0.26 + 0.1 * i,
      },
      t: T0 + (i + 1) * 20_000,
    }));
    const samples = (step: number, prediction: string): RunEvent => ({
      type: 'samples',
      step,
      samples: [
        { source: 'the cat sleeps', reference: 'SLEEPS CAT THE', prediction },
        { source: 'a <b>dog</b>', reference: 'DOG A', prediction: `${prediction} 2` },
      ],
      t: T0 + step * 200 + 1,
    });
    await send(page, {
      type: 'init',
      runs: [
        run('translate-20250101-120000', {
          status: status({ step: 300, totalSteps: 300, state: 'completed' }),
          config: { task: 'translation', data: { source_prefix: 'translate: ' } },
          events: [
            ...stepEvents(1, 300),
            evals[0] as RunEvent,
            samples(100, 'CAT'),
            evals[1] as RunEvent,
            samples(200, 'CAT THE'),
            evals[2] as RunEvent,
            samples(300, 'SLEEPS CAT THE'),
          ],
        }),
      ],
      trusted: true,
      target: { runDirs: [] },
    });
    await page.click('#tab-charts');
    await waitForPoints(page, 'eval-rougeLsum', 3);
    assert.deepEqual(await page.locator('.chart h3').allTextContents(), [
      'Training loss',
      'Evaluation loss',
      'Evaluation BLEU',
      'Evaluation chrF',
      'Evaluation ROUGE-1',
      'Evaluation ROUGE-2',
      'Evaluation ROUGE-L',
      'Evaluation ROUGE-Lsum',
      'Learning rate',
    ]);
    await waitForPoints(page, 'eval-bleu', 3);
    assert.ok((await probeChart(page, 'eval-bleu', BLUE)).matching > 20, 'the BLEU curve is drawn');
    await settle(page);
    await page.screenshot({ path: join(ARTIFACTS, '20-translation-charts.png') });

    await page.click('#tab-metrics');
    await settle(page);
    const table = page.locator('.samples-table');
    assert.equal(await table.count(), 1);
    assert.deepEqual(await table.locator('thead th').allTextContents(), ['Step', 'Source', 'Reference', 'Prediction']);
    // Newest evaluation first: step 300's rows, then 200's, then 100's; the step heads each group.
    assert.deepEqual(await table.locator('tbody th').allTextContents(), ['300', '200', '100']);
    assert.deepEqual(await table.locator('td.sample-prediction').allTextContents(), [
      'SLEEPS CAT THE',
      'SLEEPS CAT THE 2',
      'CAT THE',
      'CAT THE 2',
      'CAT',
      'CAT 2',
    ]);
    // A source with markup is text, not HTML.
    assert.equal(await table.locator('td.sample-source').nth(1).textContent(), 'a <b>dog</b>');
    assert.equal(await table.locator('td.sample-source b').count(), 0);

    // A new evaluation arrives while the panel is open: it goes on top.
    await send(page, {
      type: 'events',
      runs: [{ runId: 'translate-20250101-120000', events: [samples(400, 'NEW')] }],
    });
    await settle(page);
    assert.deepEqual(await table.locator('tbody th').allTextContents(), ['400', '300', '200', '100']);
    await page.screenshot({ path: join(ARTIFACTS, '21-translation-samples.png'), fullPage: true });
    assert.deepEqual(unexpectedViolations(await violations(page)), []);
    assert.deepEqual((session as PanelSession).errors, []);
  });
});
