// Reload the window while a run is running: the engine keeps going (it is its own process) and the
// Runs view re-attaches to it, its description advancing again, until it completes.
import assert from 'node:assert/strict';
import { makeWorkspace, readStatus, scenario, UI_TIMEOUT, waitFor, withEpochs } from './harness.js';

scenario('reload-window', { trust: true, timeoutMs: 480_000 }, async (wb, server) => {
  const ws = makeWorkspace('reload', withEpochs(100));
  const runDir = await wb.startSentimentRun(server.url, ws);
  await waitFor('the run to be running', () => (readStatus(runDir)?.step ?? 0) > 0, 120_000);
  const rows = await wb.runRows();
  await rows.first().waitFor({ timeout: UI_TIMEOUT });
  await wb.shot('before-reload');
  const stepBefore = readStatus(runDir)?.step ?? 0;

  // A marker on the page's window object: gone once the window really reloaded.
  await wb.page.evaluate('window.__finetuneE2eBeforeReload = true');
  await wb.command('Developer: Reload Window');
  await wb.page.waitForFunction('!window.__finetuneE2eBeforeReload', undefined, { timeout: UI_TIMEOUT });
  await wb.waitForWorkbench({ explorer: false });
  // The run did not stop with the window.
  const s = readStatus(runDir);
  assert.ok(s && (s.state === 'running' || s.state === 'completed'), `state after reload: ${s?.state}`);

  // The view re-attaches: the run row shows progress past the step before the reload.
  const seen = new Set<string>();
  await waitFor(
    'the Runs view to show progress after the reload',
    async () => {
      const d = await wb.runDescription(0).catch(() => '');
      if (d) seen.add(d);
      const m = /(\d+)\s*\/\s*\d+/.exec(d);
      return m && Number(m[1]) > stepBefore && readStatus(runDir)?.state === 'running';
    },
    120_000,
  );
  await wb.shot('reattached');
  await wb.waitForCompletion(runDir, seen);
  const steps = [...seen].map((d) => /(\d+)\s*\/\s*\d+/.exec(d)?.[1]).filter(Boolean);
  assert.ok(new Set(steps).size >= 2, `the description advanced after the reload; saw: ${[...seen].join(' | ')}`);
});
