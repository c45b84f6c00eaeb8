// Command palette -> "Fine-tune: Start Fine-tune": the run appears in the Runs view, its
// description advances, it completes; the run panel shows the loss curve and the final metrics.
import assert from 'node:assert/strict';
import { makeWorkspace, readStatus, scenario, UI_TIMEOUT, waitFor, withEpochs } from './harness.js';

scenario('start-run', { trust: true, timeoutMs: 420_000 }, async (wb, server) => {
  // 40 epochs (about 12 s of training alone): long enough to see the description advance.
  const ws = makeWorkspace('start', withEpochs(40));
  const runDir = await wb.startSentimentRun(server.url, ws);
  const rows = await wb.runRows();
  await rows.first().waitFor({ timeout: UI_TIMEOUT });
  await wb.shot('run-listed');

  // The description advances: two different "step N/M ..." texts while running.
  const seen = new Set<string>();
  await wb.waitForCompletion(runDir, seen);
  const progress = [...seen].filter((d) => /\d+\s*\/\s*\d+/.test(d));
  assert.ok(progress.length >= 2, `the description should advance while running; saw: ${[...seen].join(' | ')}`);
  await wb.shot('completed');

  // The run panel: loss curve with the run's points, final metrics.
  await wb.runAction(0, 'Open Run');
  const panel = wb.panelFrame();
  const loss = panel.locator('section.chart[data-chart="loss"]');
  await loss.waitFor({ timeout: UI_TIMEOUT });
  const status = readStatus(runDir);
  assert.ok(status);
  await waitFor("the loss curve to hold the run's points", async () => {
    const points = Number(await loss.getAttribute('data-points'));
    return points > 1 && points <= status.totalSteps ? points : 0;
  });
  await loss.locator('canvas').first().waitFor({ timeout: UI_TIMEOUT });
  await wb.shot('panel-charts');

  const text = await wb.panelMetricsText();
  assert.match(text, /accuracy/);
  assert.match(text, /completed/);
  assert.match(text, /\d\.\d+/);
  await wb.shot('panel-metrics');
});
