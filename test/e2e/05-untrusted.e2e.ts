// An untrusted workspace (Workspace Trust on, the folder never trusted: Restricted Mode):
// validation still shows diagnostics; Start Fine-tune refuses with a Workspace Trust message.
import assert from 'node:assert/strict';
import { makeWorkspace, runDirs, scenario, sleep, UI_TIMEOUT } from './harness.js';

scenario('untrusted-workspace', { trust: false, timeoutMs: 240_000 }, async (wb, server) => {
  const ws = makeWorkspace('untrusted', (t) => t.replace(/learning_rate: .*/, 'learning_rate: -1'));
  const page = wb.page;
  await wb.openFolder(server.url, ws);
  await page.locator('.statusbar', { hasText: 'Restricted Mode' }).waitFor({ timeout: UI_TIMEOUT });
  await wb.openFile('sentiment.finetune.yaml');
  await wb.editor.locator('.squiggly-error').first().waitFor({ timeout: UI_TIMEOUT });
  await page.keyboard.press('Control+Shift+M');
  await page
    .locator('.markers-panel .monaco-list-row', { hasText: 'learning_rate must be greater than 0' })
    .first()
    .waitFor({ timeout: UI_TIMEOUT });
  await wb.shot('diagnostics');

  await wb.command('Fine-tune: Start Fine-tune');
  const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'Workspace Trust' });
  await toast.first().waitFor({ timeout: UI_TIMEOUT });
  assert.match((await toast.first().textContent()) ?? '', /Restricted Mode/);
  await wb.shot('refused');
  await sleep(2000);
  assert.deepEqual(runDirs(ws), [], 'no run started');
});
