import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { DataReport } from '../../src/shared/data-report.js';
import { checkDataReport } from '../../src/shared/data-report-check.js';
import { finetune } from '../engine/helpers/cli.js';
import { REPORT_DATASET, writeReportDataset } from '../fixtures/data-report-dataset.js';
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
} from './harness/page.js';
import { ARTIFACTS, browserSkip, openPanel, type PanelSession, ROOT } from './harness/session.js';

/**
 * The Data tab (src/webview/data-view.ts, data-report-view.ts) in headless Chromium, the harness
 * playing the host, on reports the engine builds here: the hand-counted dataset of
 * test/fixtures/data-report-dataset.ts (as a run's report) and the bundled example
 * examples/sentiment (as Show Data Report's, before any run). Checked: the label bars, the
 * histogram with its max_length cut, the tables, a row's link posting openDataRow, and no CSP
 * violation. Screenshots go to test-artifacts/webview/.
 */
const skip = browserSkip('the Data tab browser tests');

/** `finetune data stats <config> --format json`, as Show Data Report runs it, checked as the page checks it. */
async function engineReport(config: string): Promise<DataReport> {
  const r = await finetune(dirname(config), 'data', 'stats', config, '--format', 'json');
  if (r.code !== 0) throw new Error(`finetune data stats failed: ${r.stderr}`);
  const checked = checkDataReport(JSON.parse(r.stdout));
  if (typeof checked === 'string') throw new Error(checked);
  return checked;
}

describe('Data tab in Chromium', { skip }, () => {
  let panel: PanelSession | undefined;
  let page: Page;
  let dir: string;
  let report: DataReport;
  let sentiment: DataReport;
  const runId = 'report-20250101-120000';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'finetune-data-tab-'));
    report = await engineReport(writeReportDataset(dir));
    sentiment = await engineReport(join(ROOT, 'examples', 'sentiment', 'sentiment.finetune.yaml'));
    panel = await openPanel();
    page = panel.page;
  });

  after(async () => {
    await panel?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const texts = (selector: string) => page.locator(selector).allTextContents();
  const styles = (selector: string, property: 'width' | 'left' | 'height') =>
    page.locator(selector).evaluateAll((els, p) => els.map((e) => (e as HTMLElement).style[p as 'width']), property);

  test("a run's report: label bars, the histogram with its cut, and the tables", async () => {
    await holdReplies(page, 'dataReport');
    await send(page, {
      type: 'init',
      runs: [run(runId)],
      trusted: true,
      target: { runDirs: [`/work/space/.finetune/runs/${runId}`] },
    });
    const before = (await posted(page)).length;
    await page.click('#tab-data');
    const request = await nextPosted(page, 'dataReport', before);
    assert.equal(request.runId, runId);
    await send(page, { type: 'dataReport', runId, report });
    await releaseReply(page, request.id);
    await page.locator('.data-report').waitFor();

    // Labels, sorted: train neg 2 of 5, pos 3 of 5; validation neg 1 of 3, pos 2 of 3.
    assert.deepEqual(await texts('.labels-table tbody th, .labels-table tbody tr td:first-child'), ['neg', 'pos']);
    assert.deepEqual(await styles('.labels-table .bar-fill', 'width'), ['40%', '33.3%', '60%', '66.7%']);
    assert.deepEqual(await texts('.labels-table .bar-text'), ['2 (40.0%)', '1 (33.3%)', '3 (60.0%)', '2 (66.7%)']);

    // Train lengths 2, 3, 4, 10, 20 in bins of 1 token (20 bins); max_length 8: bins 9..20 are past the cut.
    const train = '.histogram-block[data-split="train"]';
    const counts = await page
      .locator(`${train} .bin`)
      .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-count'))));
    const expected = new Array<number>(20).fill(0);
    for (const n of REPORT_DATASET.trainLengths) expected[n - 1] = 1;
    assert.deepEqual(counts, expected);
    assert.equal(await page.locator(`${train} .bin.truncated`).count(), 12);
    assert.deepEqual(await styles(`${train} .cut`, 'left'), ['40%'], 'max_length 8 of a 20-token axis');
    assert.match(
      (await page.locator(`${train} .truncated-share`).textContent()) ?? '',
      /^2 of 5 \(40\.0%\) longer than max_length 8/,
    );
    assert.match(
      (await page.locator('.histogram-block[data-split="validation"] .truncated-share').textContent()) ?? '',
      /^0 of 3 \(0\.0%\)/,
    );

    // Cleaning, duplicates, leakage, bad rows.
    assert.deepEqual(await texts('.cleaning-table tbody tr:first-child td'), ['examples', '7', '3']);
    assert.deepEqual(await texts('.duplicates-table tbody td:nth-child(1)'), ['exact', 'exact, other label']);
    assert.deepEqual(await texts('.duplicates-table tbody td:nth-child(2)'), ['train.jsonl:2', 'train.jsonl:6']);
    assert.deepEqual(await texts('.duplicates-table tbody td:nth-child(4)'), ['', '"neg" instead of "pos"']);
    assert.deepEqual(await texts('.leakage-table tbody td:nth-child(1)'), ['validation.jsonl:1', 'validation.jsonl:3']);
    assert.deepEqual(await texts('.leakage-table tbody td:nth-child(2)'), ['train.jsonl:5', 'train.jsonl:7']);
    assert.deepEqual(await texts('.bad-rows-table tbody td:nth-child(2)'), ['malformed-json', 'wrong-type']);
    await settle(page);
    await page.screenshot({ path: join(ARTIFACTS, 'data-01-run-report.png'), fullPage: true });
  });

  test("clicking a row's file:line posts openDataRow with the file, the line and the run", async () => {
    const before = (await posted(page)).length;
    await page.click('.leakage-table tbody tr:nth-child(2) td:nth-child(1) a');
    const open = await nextPosted(page, 'openDataRow', before);
    assert.deepEqual(
      { file: open.file, line: open.line, runId: open.runId },
      { file: join(dir, 'validation.jsonl'), line: 3, runId },
    );
    const bad = (await posted(page)).length;
    await page.click('.bad-rows-table tbody tr:first-child a');
    const row = await nextPosted(page, 'openDataRow', bad);
    assert.deepEqual([row.file, row.line], [join(dir, 'train.jsonl'), 3]);
  });

  test('a run without a report yet says so, and is asked again on its next update', async () => {
    const later = 'report-20250101-130000';
    const before = (await posted(page)).length;
    await send(page, {
      type: 'init',
      runs: [run(runId), run(later)],
      trusted: true,
      target: { runDirs: [runId, later].map((id) => `/work/space/.finetune/runs/${id}`) },
    });
    const first = await nextPosted(page, 'dataReport', before);
    assert.equal(first.runId, later, 'the newest run is the one shown');
    await releaseReply(
      page,
      first.id,
      `Run ${later} has no data-report.json yet: the engine writes it once the data is prepared.`,
    );
    await page.locator('.data-status.error').waitFor();
    assert.match((await page.locator('.data-status').textContent()) ?? '', /has no data-report\.json yet/);
    assert.equal(await page.locator('.data-report').count(), 0);
    // The run's next update, past the retry interval, asks again; this time the report is there.
    await page.waitForTimeout(2100);
    const again = (await posted(page)).length;
    await send(page, { type: 'run', run: { id: later, dir: `/work/space/.finetune/runs/${later}`, status: status() } });
    const second = await nextPosted(page, 'dataReport', again);
    assert.equal(second.runId, later);
    await send(page, { type: 'dataReport', runId: later, report });
    await releaseReply(page, second.id);
    await page.locator('.data-report').waitFor();
    assert.equal(await page.locator('.data-status').isVisible(), false);
  });

  test("Show Data Report: the config panel asks for the config's report and draws examples/sentiment", async () => {
    // The tab is still the one shown: init on a config alone asks for its report at once.
    const before = (await posted(page)).length;
    await send(page, {
      type: 'init',
      runs: [],
      trusted: true,
      config: {
        uri: `file://${ROOT}/examples/sentiment/sentiment.finetune.yaml`,
        fileName: 'sentiment.finetune.yaml',
        format: 'yaml',
        text: 'model: ./tiny-bert\n',
        version: 1,
      },
      target: { runDirs: [], configUri: `file://${ROOT}/examples/sentiment/sentiment.finetune.yaml` },
    });
    await send(page, { type: 'showData' });
    const request = await nextPosted(page, 'dataReport', before);
    assert.equal((await posted(page)).slice(before).filter((m) => m.type === 'dataReport').length, 1, 'one request');
    assert.equal(request.runId, undefined, "the config's report, not a run's");
    await send(page, { type: 'dataReport', report: sentiment });
    await releaseReply(page, request.id);
    await page.locator('.data-report .labels-table').waitFor();
    assert.equal(await page.locator('#view-data').isVisible(), true);

    // The numbers `finetune data stats examples/sentiment/sentiment.finetune.yaml` prints.
    assert.deepEqual(await texts('.labels-table .bar-text'), [
      '187 (48.1%)',
      '47 (48.0%)',
      '202 (51.9%)',
      '51 (52.0%)',
    ]);
    const trainBins = await page
      .locator('.histogram-block[data-split="train"] .bin')
      .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-count'))));
    assert.equal(
      trainBins.reduce((a, b) => a + b, 0),
      389,
    );
    // Longest 21 under max_length 32: bins of ceil(21/16) = 2 up to 22; the cut past the axis, marked at its end.
    assert.equal(await page.locator('.histogram-block[data-split="train"] .bin').count(), 11);
    assert.deepEqual(await styles('.histogram-block[data-split="train"] .cut', 'left'), ['100%']);
    assert.equal(
      await page.locator('.histogram-block[data-split="train"] .cut.beyond').textContent(),
      'max_length 32 →',
    );
    assert.equal(await page.locator('.bin.truncated').count(), 0);
    assert.deepEqual(await texts('.leakage-table tbody td:nth-child(1)'), [
      'validation.jsonl:50',
      'validation.jsonl:90',
      'validation.jsonl:93',
    ]);
    assert.equal(await page.locator('.duplicates-table').first().locator('tbody tr').count(), 11);
    await settle(page);
    await page.screenshot({ path: join(ARTIFACTS, 'data-02-sentiment.png'), fullPage: true });
  });

  test('no Content Security Policy violation and no page error', async () => {
    assert.deepEqual(unexpectedViolations(await violations(page)), []);
    assert.deepEqual(panel?.errors, []);
  });
});
