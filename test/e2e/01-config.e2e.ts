// A trusted workspace with the example config: the CodeLens, a diagnostic for a bad value (squiggle
// on its line, Problems panel, hover), and the diagnostic gone once fixed. Then a hostile config,
// an alias bomb, answered with its located error while the extension host goes on answering.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { aliasBomb } from '../shared/helpers.js';
import { makeWorkspace, scenario, UI_TIMEOUT } from './harness.js';

const MESSAGE = 'learning_rate must be greater than 0';
const ALIAS_MESSAGE = 'The aliases of this file expand to more than';

scenario('config-diagnostics', { trust: true, timeoutMs: 240_000 }, async (wb, server) => {
  const ws = makeWorkspace('config');
  // The hostile config of the last step, there from the start (Quick Open may not list a file made later).
  fs.writeFileSync(path.join(ws, 'bomb.finetune.yaml'), aliasBomb(8, 9));
  const original = fs.readFileSync(path.join(ws, 'sentiment.finetune.yaml'), 'utf8');
  const page = wb.page;
  await wb.openFolder(server.url, ws);
  await wb.openFile('sentiment.finetune.yaml');

  // The CodeLens above the config.
  const lens = wb.editor.locator('.codelens-decoration', { hasText: 'Start Fine-tune' });
  await lens.waitFor({ timeout: UI_TIMEOUT });
  await wb.shot('codelens');

  // learning_rate: -1 -> an error squiggle on that line and the message in the Problems panel.
  const lines = original.split('\n');
  const badLine = lines.findIndex((l) => l.trimStart().startsWith('learning_rate:')) + 1;
  assert.ok(badLine > 0);
  const goodText = (lines[badLine - 1] ?? '').trimStart();
  await wb.replaceLine(badLine, 'learning_rate: -1');
  const squiggle = wb.editor.locator('.squiggly-error');
  await squiggle.first().waitFor({ timeout: UI_TIMEOUT });
  await page.keyboard.press('Control+Shift+M');
  const problem = page.locator('.markers-panel .monaco-list-row', { hasText: MESSAGE });
  await problem.first().waitFor({ timeout: UI_TIMEOUT });
  const problemText = (await problem.first().textContent()) ?? '';
  assert.match(problemText, new RegExp(`\\[Ln ${badLine}, Col \\d+\\]`), `Problems row: ${problemText}`);
  await wb.shot('problem');

  // The hover on the bad value shows the message (Show Hover at the cursor, inside the value).
  await wb.replaceLine(badLine, 'learning_rate: -1'); // no-op edit that puts the cursor on the line
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('Control+K');
  await page.keyboard.press('Control+I');
  await page.locator('.monaco-hover', { hasText: MESSAGE }).first().waitFor({ timeout: UI_TIMEOUT });
  await wb.shot('hover');

  // Fixed: the diagnostic goes away.
  await wb.replaceLine(badLine, goodText);
  await squiggle.first().waitFor({ state: 'detached', timeout: UI_TIMEOUT });
  await problem.first().waitFor({ state: 'detached', timeout: UI_TIMEOUT });
  await wb.shot('fixed');

  // An alias bomb ("billion laughs": 9 ** 8 values once expanded), which once froze the extension
  // host: one error where the aliases pass their limit, at the first alias of line 9 (`e: &e [*d,`;
  // test/shared/config-bounds.test.ts has the same text and range).
  await wb.openFile('bomb.finetune.yaml');
  await squiggle.first().waitFor({ timeout: UI_TIMEOUT });
  const aliasProblem = page.locator('.markers-panel .monaco-list-row', { hasText: ALIAS_MESSAGE });
  await aliasProblem.first().waitFor({ timeout: UI_TIMEOUT });
  const aliasText = (await aliasProblem.first().textContent()) ?? '';
  assert.match(aliasText, /\*d at e\[0\].*\[Ln 9, Col 8\]/, `Problems row: ${aliasText}`);
  await wb.shot('alias-bomb');

  // The host still answers: a command on the bomb, and a new diagnostic in the other config.
  await wb.command('Fine-tune: Validate Config');
  const summary = page.locator('.notifications-toasts .notification-toast', { hasText: 'bomb.finetune.yaml: 1 error' });
  await summary.first().waitFor({ timeout: UI_TIMEOUT });
  // Its tab (Quick Open's Enter would go to the toast, which has the focus now).
  await page.locator('.tab', { hasText: 'sentiment.finetune.yaml' }).click();
  await page.locator('.tab.active', { hasText: 'sentiment.finetune.yaml' }).waitFor({ timeout: UI_TIMEOUT });
  await wb.replaceLine(badLine, 'learning_rate: -1');
  await squiggle.first().waitFor({ timeout: UI_TIMEOUT });
  await problem.first().waitFor({ timeout: UI_TIMEOUT });
  await wb.shot('responsive');
});
