// The first run of a new user (issue 23's "Done when"): a workspace holding only a model folder and
// a JSONL file. New Fine-tune Config -> "From a model and your data", the model, the dataset, the
// detected task and the file name picked by keyboard; the written config has no error or warning
// (Problems view) and its cost CodeLens measures a step; Start Fine-tune runs it to completion
// without a hand edit. Then the walkthrough: each step whose action the scenario did is checked.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import {
  artifactsDir,
  emptyWorkspace,
  readStatus,
  root,
  runDirs,
  scenario,
  trace,
  UI_TIMEOUT,
  type Workbench,
  waitFor,
} from './harness.js';

const CONFIG = 'classifier.finetune.yaml';
const WALKTHROUGH = 'Fine-tune your first model';

/** The quick input's title once it says `title`, and its filter box. */
async function quickInput(page: Page, title: string) {
  const widget = page.locator('.quick-input-widget', { has: page.locator('.quick-input-title', { hasText: title }) });
  await widget.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
  return widget.locator('input.input');
}

/** Types `filter` into the open quick pick and presses Enter once the first row shows `row`. */
async function pick(wb: Workbench, title: string, filter: string, row: string): Promise<void> {
  trace(`pick: ${title} -> ${row}`);
  const page = wb.page;
  const input = await quickInput(page, title);
  await input.fill(filter);
  const first = page.locator('.quick-input-list .monaco-list-row').first();
  await waitFor(`the first row to show ${row}`, async () => ((await first.textContent()) ?? '').includes(row));
  await wb.shot(`pick-${filter.replace(/\W+/g, '-')}`);
  await page.keyboard.press('Enter');
}

/** Welcome: Open Walkthrough... -> this extension's walkthrough. */
async function openWalkthrough(page: Page, command: (label: string) => Promise<void>): Promise<void> {
  await command('Welcome: Open Walkthrough...');
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: WALKTHROUGH }).first();
  await row.waitFor({ timeout: UI_TIMEOUT });
  await row.click();
  await page.locator('.gettingStartedContainer', { hasText: WALKTHROUGH }).first().waitFor({ timeout: UI_TIMEOUT });
}

/** Whether the walkthrough shows step `id` (the manifest's step id) as done. */
async function stepDone(page: Page, id: string): Promise<boolean> {
  const badge = page.locator(`[data-done-step-id$="#${id}"]`).first();
  await badge.waitFor({ state: 'attached', timeout: UI_TIMEOUT });
  return (await badge.getAttribute('class'))?.split(/\s+/).includes('complete') ?? false;
}

scenario('guided-first-run', { trust: true, timeoutMs: 600_000 }, async (wb, server) => {
  const ws = emptyWorkspace('guided');
  const example = path.join(root, 'examples', 'sentiment');
  fs.cpSync(path.join(example, 'tiny-bert'), path.join(ws, 'models', 'tiny-bert'), { recursive: true });
  fs.copyFileSync(path.join(example, 'train.jsonl'), path.join(ws, 'reviews.jsonl'));
  const page = wb.page;
  await wb.openFolder(server.url, ws);

  // Nothing done yet: the steps this scenario does are unchecked.
  const steps = ['openExample', 'newConfig', 'validate', 'start', 'watch'];
  await openWalkthrough(page, (l) => wb.command(l));
  for (const id of steps) assert.equal(await stepDone(page, id), false, `${id} done before its action`);
  await wb.shot('walkthrough-before');
  // Closed again: the Welcome editor takes the focus back, which hides a quick pick opened over it.
  await wb.command('View: Close All Editors');
  await page.locator('.tab', { hasText: 'Welcome' }).waitFor({ state: 'detached', timeout: UI_TIMEOUT });

  // New Fine-tune Config through the pickers, by keyboard.
  await wb.command('Fine-tune: New Fine-tune Config');
  await pick(wb, 'New Fine-tune Config', 'From a model', 'From a model and your data');
  await pick(wb, '(1/3): model', 'tiny-bert', './models/tiny-bert');
  await pick(wb, '(2/3): training data', 'reviews', 'reviews.jsonl');
  await pick(wb, '(3/3): task and columns', 'text-classification', 'text-classification');
  // The file name box (its prompt names the folder), with the suggested name as it is.
  const nameBox = page.locator('.quick-input-widget', { hasText: 'File name, relative to' });
  await nameBox.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
  await waitFor('the suggested file name', async () => (await nameBox.locator('input.input').inputValue()) === CONFIG);
  await page.keyboard.press('Enter');
  await page.locator('.tab.active', { hasText: CONFIG }).waitFor({ timeout: UI_TIMEOUT });
  const text = fs.readFileSync(path.join(ws, CONFIG), 'utf8');
  assert.match(text, /^model: \.\/models\/tiny-bert$/m);
  assert.match(text, /^task: text-classification$/m);
  assert.match(text, /^ {2}train: reviews\.jsonl$/m);
  assert.match(text, /^ {2}text_column: text$/m);
  assert.match(text, /^ {2}label_column: label$/m);
  await wb.shot('config-written');

  // No error and no warning: the editor has no squiggle and the Problems view no such row (the
  // memory estimate is an information row).
  const cost = wb.editor.locator('.codelens-decoration', { hasText: 'on this machine' });
  await cost.first().waitFor({ timeout: UI_TIMEOUT });
  await page.keyboard.press('Control+Shift+M');
  await page.locator('.markers-panel').waitFor({ timeout: UI_TIMEOUT });
  await page
    .locator('.markers-panel .monaco-list-row', { hasText: 'Estimated peak memory' })
    .first()
    .waitFor({ timeout: UI_TIMEOUT });
  const bad = page.locator(
    '.markers-panel .monaco-list-row .codicon-error, .markers-panel .monaco-list-row .codicon-warning',
  );
  assert.equal(await bad.count(), 0, `problems: ${await page.locator('.markers-panel').textContent()}`);
  assert.equal(await wb.editor.locator('.squiggly-error, .squiggly-warning').count(), 0);
  await wb.shot('no-problems');
  await wb.command('View: Hide Panel'); // the run panel gets the height later

  // The cost CodeLens: the memory estimate, then "Measure time" runs one step and the line gets the epoch.
  await wb.editor.locator('.codelens-decoration a', { hasText: 'Measure time' }).first().click();
  const measured = wb.editor.locator('.codelens-decoration', { hasText: '/epoch on this machine' });
  await measured.first().waitFor({ timeout: 180_000 });
  assert.match((await measured.first().textContent()) ?? '', /≈ \d+(\.\d)? [MG]B · ≈ \d+(\.\d)? (s|min|h)\/epoch/);
  await wb.shot('cost-measured');

  // Start Fine-tune: the run completes as written.
  await wb.startRunFromPalette(CONFIG);
  const runDir = await waitFor('a run directory', () => runDirs(ws)[0]);
  await wb.waitForCompletion(runDir, new Set());
  assert.equal(readStatus(runDir)?.state, 'completed');
  assert.ok(fs.existsSync(path.join(runDir, 'final', 'model.safetensors')));
  await wb.shot('run-completed');

  // The run panel on it: the loss curve holds the run's points. The panel alone is saved as
  // guided-first-run-panel.png (media/walkthrough/run-panel.png, the walkthrough's image, is one).
  await wb.runAction(0, 'Open Run');
  const loss = wb.panelFrame().locator('section.chart[data-chart="loss"]');
  await loss.waitFor({ timeout: UI_TIMEOUT });
  await waitFor('the loss curve', async () => Number(await loss.getAttribute('data-points')) > 1);
  await wb.command('Notifications: Clear All Notifications'); // the run's toast would cover the panel
  await page.locator('.notifications-toasts .notification-toast').first().waitFor({ state: 'detached' });
  await page
    .locator('iframe.webview.ready')
    .first()
    .screenshot({ path: path.join(artifactsDir, 'guided-first-run-panel.png') });

  // The example, then the walkthrough: every step done by now is checked (validate by the clean
  // validation alone: Validate Config was never run).
  await wb.command('Fine-tune: Open Example Project');
  await page.locator('.tab.active', { hasText: 'sentiment.finetune.yaml' }).waitFor({ timeout: UI_TIMEOUT });
  await openWalkthrough(page, (l) => wb.command(l));
  for (const id of steps) await waitFor(`walkthrough step ${id} checked`, () => stepDone(page, id));
  assert.equal(await stepDone(page, 'tryModel'), false);
  await wb.shot('walkthrough-after');
});
