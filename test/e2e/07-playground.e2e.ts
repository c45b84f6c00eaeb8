// Try the trained model: Start Fine-tune opens the run panel on the new run by itself; once the run
// completes, its Playground tab classifies a text (label probabilities as bars, through a
// `finetune serve` child of the panel); then "Fine-tune: Predict on Selection" on a text file's
// selection shows the config's latest completed run's prediction in a hover; "Fine-tune: Serve
// Model" serves it as a task in the terminal on the configured port, until the task is terminated.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, makeWorkspace, scenario, sleep, trace, UI_TIMEOUT, waitFor } from './harness.js';

scenario('playground', { trust: true, timeoutMs: 420_000 }, async (wb, server) => {
  const ws = makeWorkspace('playground');
  fs.writeFileSync(path.join(ws, 'review.txt'), 'a wonderful, delightful film\n');
  // Serve Model's port: a free one, not the default 8080 that something else may hold.
  const port = await freePort();
  fs.mkdirSync(path.join(ws, '.vscode'));
  fs.writeFileSync(
    path.join(ws, '.vscode', 'settings.json'),
    JSON.stringify({ 'finetune.serve.port': port, 'finetune.openPanelOnStart': true }),
  );
  const runDir = await wb.startSentimentRun(server.url, ws);

  // The panel opened on the run without a click (finetune.openPanelOnStart, on in this workspace).
  const panel = wb.panelFrame();
  await panel
    .locator('.run-header', { hasText: path.basename(runDir) })
    .first()
    .waitFor({ timeout: UI_TIMEOUT });
  await wb.shot('panel-opened-on-start');
  await wb.waitForCompletion(runDir, new Set());

  await panel.locator('#tab-playground').click();
  const input = panel.locator('textarea.pg-text');
  await input.waitFor({ timeout: UI_TIMEOUT });
  // The tab opened while the run trained: it moved on to each new checkpoint, then to final/.
  await waitFor(
    'the final model in the Playground',
    async () =>
      (await panel
        .locator('.pg-options vscode-dropdown')
        .evaluate((d) => (d as unknown as { value: string }).value)) === 'final',
  );
  await input.fill('a wonderful, delightful film');
  await panel.locator('.pg-actions vscode-button', { hasText: 'Run' }).click();
  const names = panel.locator('.pg-label-name');
  await names.first().waitFor({ timeout: 120_000 });
  assert.deepEqual((await names.allTextContents()).sort(), ['negative', 'positive']);
  const scores = (await panel.locator('.pg-score').allTextContents()).map((s) => Number.parseFloat(s));
  const total = scores.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(total - 100) < 0.2, `the probabilities sum to 100%: ${scores.join(', ')}`);
  assert.equal(await panel.locator('meter.pg-bar').count(), 2);
  await wb.shot('playground-labels');

  // Predict on Selection: the workspace's only config, its latest completed run.
  await wb.openFile('review.txt');
  await wb.editor.locator('.view-lines').click();
  await wb.page.keyboard.press('Control+A');
  await wb.command('Fine-tune: Predict on Selection');
  const hover = wb.page.locator('.monaco-hover', { hasText: 'Fine-tune prediction' });
  await hover.first().waitFor({ timeout: 120_000 });
  const text = (await hover.first().textContent()) ?? '';
  trace(`hover: ${text}`);
  assert.match(text, new RegExp(`${path.basename(runDir)}/final`));
  assert.match(text, /positive/);
  assert.match(text, /negative/);
  assert.match(text, /\d+\.\d%/);
  await wb.shot('predict-on-selection');
  await wb.page.keyboard.press('Escape');

  // Serve Model: `finetune serve` as a task in the terminal, on the configured port.
  await wb.command('Fine-tune: Serve Model');
  const url = `http://127.0.0.1:${port}`;
  const health = await waitFor(
    `${url}/health`,
    async () => {
      const r = await fetch(`${url}/health`).catch(() => undefined);
      return r?.ok ? ((await r.json()) as { status: string; model: string }) : undefined;
    },
    120_000,
  );
  assert.equal(health.model, path.join(runDir, 'final'));
  await waitFor('the serving notification', async () => (await wb.notifications()).includes(`serving`));
  assert.match(await wb.notifications(), new RegExp(`at ${url.replaceAll('.', '\\.')}`));
  const predicted = (await (
    await fetch(`${url}/predict`, { method: 'POST', body: JSON.stringify({ inputs: 'a wonderful, delightful film' }) })
  ).json()) as { label: string; score: number }[];
  assert.equal(predicted[0]?.label, 'positive', 'the served model answers as the Playground did');
  await wb.page.locator('.terminal-wrapper, .xterm').first().waitFor({ timeout: UI_TIMEOUT });
  await wb.shot('serve-model-terminal');

  // Tasks: Terminate Task stops it (one task running: no pick, or pick it).
  await wb.command('Tasks: Terminate Task');
  await sleep(1000);
  if (await wb.page.locator('.quick-input-widget').isVisible()) await wb.page.keyboard.press('Enter');
  await waitFor(
    'the server to stop',
    async () =>
      await fetch(`${url}/health`).then(
        () => false,
        () => true,
      ),
    60_000,
  );
});
