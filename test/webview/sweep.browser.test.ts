import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { SweepInfo } from '../../src/shared/messages.js';
import type { SweepRecord, TrialRecord } from '../../src/shared/sweep-record.js';
import { IMPORTANCE_METHOD } from '../../src/webview/sweep-model.js';
import { sweepJson } from '../fixtures/sweep.js';
import { nextPosted, posted, send, settle, violations } from './harness/page.js';
import { ARTIFACTS, browserSkip, openPanel, type PanelSession } from './harness/session.js';

/**
 * The Sweep tab (src/webview/sweep-view.ts) in headless Chromium, the harness playing the host:
 * the trials' rows, sorting by a column, brushing an axis of the parallel-coordinates plot with
 * the mouse (the table keeps the trials inside), a click clearing it, "Apply best to config"
 * posting applyBest, and a live update of sweep.json. Screenshots go to test-artifacts/webview/.
 */
const skip = browserSkip('the Sweep tab browser tests');

const SWEEP_DIR = '/work/space/.finetune/runs/demo-sweep-20250101-120000';
/** Learning rates a half-decade apart (log10: -5, -4.5, -4, -3.5, -3), so an axis brush picks exact ones. */
const LRS = [1e-5, 10 ** -4.5, 1e-4, 10 ** -3.5, 1e-3];
const ACCURACY = [0.61, 0.7, 0.9, 0.84, 0.55];

function trial(n: number, fields: Partial<TrialRecord> = {}): TrialRecord {
  return {
    number: n,
    state: 'completed',
    params: { 'training.learning_rate': LRS[n % LRS.length] as number, 'training.batch_size': n % 2 === 0 ? 8 : 16 },
    dir: `trials/${n}`,
    value: ACCURACY[n % ACCURACY.length] as number,
    intermediate: [],
    rungs: [],
    startedAt: new Date(Date.UTC(2025, 0, 1, 12, n * 5)).toISOString(),
    endedAt: new Date(Date.UTC(2025, 0, 1, 12, n * 5 + 4)).toISOString(),
    ...fields,
  };
}

function sweepInfo(trials: TrialRecord[]): SweepInfo {
  const record: SweepRecord = { ...sweepJson(), trials };
  const done = trials.filter((t) => t.state === 'completed' && t.value !== undefined);
  const best = done.reduce<TrialRecord | undefined>(
    (b, t) => (!b || (t.value ?? 0) > (b.value ?? 0) ? t : b),
    undefined,
  );
  if (best) record.best = { trial: best.number, value: best.value as number, params: best.params };
  return {
    id: 'demo-sweep-20250101-120000',
    dir: SWEEP_DIR,
    record,
    state: 'running',
    sourceFile: '/work/space/demo.finetune.yaml',
  };
}

describe('Sweep tab in Chromium', { skip }, () => {
  let panel: PanelSession | undefined;
  let page: Page;

  before(async () => {
    panel = await openPanel();
    page = panel.page;
  });

  after(() => panel?.close());

  const rowNumbers = () =>
    page.locator('.sweep-table tbody tr').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-trial'))));

  test('a sweep panel opens on its Sweep tab with a row per trial', async () => {
    await send(page, {
      type: 'init',
      runs: [],
      trusted: true,
      target: { runDirs: [], sweepDir: SWEEP_DIR },
      sweep: sweepInfo([0, 1, 2, 3, 4].map((n) => trial(n))),
    });
    await page.locator('.sweep-table').waitFor();
    assert.equal(await page.locator('#tab-sweep').isVisible(), true);
    assert.equal(await page.locator('#view-sweep').isVisible(), true, 'the Sweep tab is the one shown');
    assert.deepEqual(await rowNumbers(), [0, 1, 2, 3, 4]);
    const header = await page.locator('.sweep-table thead th').allTextContents();
    assert.deepEqual(header, [
      'Trial',
      'State',
      'training.learning_rate',
      'training.batch_size',
      'accuracy',
      'Duration',
    ]);
    const best = page.locator('.sweep-table tr.best');
    assert.equal(await best.getAttribute('data-trial'), '2');
    assert.deepEqual(await best.locator('td').allTextContents(), ['2', 'completed', '1e-4', '8', '0.9', '4m 00s']);
    assert.match(
      (await page.locator('.sweep-summary').textContent()) ?? '',
      /5\/6 trials · best accuracy 0\.9 \(trial 2, max\)/,
    );
    assert.equal(await page.locator('.parcoords .pc-line').count(), 5);
    assert.equal(await page.locator('.objective-chart .point').count(), 5);
    assert.ok(((await page.locator('.importance .method').textContent()) ?? '').includes(IMPORTANCE_METHOD));
    assert.equal(await page.locator('.importance-table tr').count(), 2);
    await settle(page);
    await page.screenshot({ path: join(ARTIFACTS, 'sweep-01-table.png'), fullPage: true });
  });

  test('a column header sorts the table, a second click reverses it', async () => {
    await page.click('.sweep-table button.sort[data-column="value"]');
    assert.deepEqual(await rowNumbers(), [4, 0, 1, 3, 2]);
    assert.equal(await page.locator('.sweep-table th[aria-sort="ascending"]').textContent(), 'accuracy');
    await page.click('.sweep-table button.sort[data-column="value"]');
    assert.deepEqual(await rowNumbers(), [2, 3, 1, 0, 4]);
    await page.click('.sweep-table button.sort[data-column="training.learning_rate"]');
    assert.deepEqual(await rowNumbers(), [0, 1, 2, 3, 4]);
  });

  test('dragging along an axis brushes it: the table keeps the trials inside; a click clears it', async () => {
    const hit = page.locator('.pc-axis[data-axis="training.learning_rate"] .axis-hit');
    const box = await hit.boundingBox();
    assert.ok(box);
    const x = box.x + box.width / 2;
    // The axis runs from 1e-5 (bottom) to 1e-3 (top): from 70% down to 1% below the top is
    // log10 from -4.4 to -3.02, which holds 1e-4 and 10^-3.5 only (trials 2 and 3).
    await page.mouse.move(x, box.y + box.height * 0.7);
    await page.mouse.down();
    await page.mouse.move(x, box.y + box.height * 0.3, { steps: 4 });
    await page.mouse.move(x, box.y + box.height * 0.01, { steps: 4 });
    await page.mouse.up();
    await page.waitForFunction(() => document.querySelectorAll('.sweep-table tbody tr').length === 2);
    assert.deepEqual(await rowNumbers(), [2, 3]);
    assert.match((await page.locator('.sweep-filter').textContent()) ?? '', /Showing 2 of 5 trials/);
    assert.equal(await page.locator('.parcoords .pc-line.dimmed').count(), 3);
    await settle(page);
    await page.screenshot({ path: join(ARTIFACTS, 'sweep-02-brushed.png'), fullPage: true });

    // A second brush on the batch size (index 0 = 8 at the bottom, 16 at the top): only 16 remains.
    const batch = await page.locator('.pc-axis[data-axis="training.batch_size"] .axis-hit').boundingBox();
    assert.ok(batch);
    await page.mouse.move(batch.x + batch.width / 2, batch.y + 2);
    await page.mouse.down();
    await page.mouse.move(batch.x + batch.width / 2, batch.y + batch.height * 0.4, { steps: 4 });
    await page.mouse.up();
    await page.waitForFunction(() => document.querySelectorAll('.sweep-table tbody tr').length === 1);
    assert.deepEqual(await rowNumbers(), [3]);

    // A click (no drag) on an axis clears that axis's brush only.
    const lr = await page.locator('.pc-axis[data-axis="training.learning_rate"] .axis-hit').boundingBox();
    assert.ok(lr);
    await page.mouse.click(lr.x + lr.width / 2, lr.y + lr.height / 2);
    await page.waitForFunction(() => document.querySelectorAll('.sweep-table tbody tr').length === 2);
    assert.deepEqual(await rowNumbers(), [1, 3]);
    await page.click('.clear-brushes');
    await page.waitForFunction(() => document.querySelectorAll('.sweep-table tbody tr').length === 5);
  });

  test('Apply best to config posts applyBest for the best trial', async () => {
    const n = (await posted(page)).length;
    await page.locator('vscode-button.apply-best').click();
    const request = await nextPosted(page, 'applyBest', n);
    assert.deepEqual(request, { type: 'applyBest', id: request.id, trial: 2 });
    await page.locator('.notice', { hasText: "Wrote trial 2's values into /work/space/demo.finetune.yaml." }).waitFor();
  });

  test('a new sweep.json redraws the view, keeping the sort', async () => {
    const trials = [0, 1, 2, 3, 4].map((n) => trial(n));
    trials.push(trial(5, { value: 0.95 }), trial(6, { state: 'running', endedAt: undefined, value: undefined }));
    delete trials[6]?.endedAt;
    await send(page, { type: 'sweep', sweep: sweepInfo(trials) });
    await page.waitForFunction(() => document.querySelectorAll('.sweep-table tbody tr').length === 7);
    assert.deepEqual(await rowNumbers(), [0, 5, 1, 6, 2, 3, 4], 'still by learning rate (ties by trial number)');
    assert.equal(await page.locator('.sweep-table tr.best').getAttribute('data-trial'), '5');
    assert.equal(await page.locator('.objective-chart .point').count(), 6, 'the running trial has no objective');
    assert.match((await page.locator('.sweep-summary').textContent()) ?? '', /6\/6 trials · best accuracy 0\.95/);
    assert.deepEqual(panel?.errors, []);
    const unexpected = (await violations(page)).filter(
      (v) => !(v.directive === 'style-src-elem' && v.blocked === 'inline' && v.sample === ''),
    );
    assert.deepEqual(unexpected, [], 'no Content Security Policy violation');
  });
});
