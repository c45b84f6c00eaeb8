// A trusted workspace with the example config: the CodeLens, a diagnostic for a bad value (squiggle
// on its line, Problems panel, hover), and the diagnostic gone once fixed.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { makeWorkspace, scenario, UI_TIMEOUT } from './harness.js';

const MESSAGE = 'learning_rate must be greater than 0';

scenario('config-diagnostics', { trust: true, timeoutMs: 240_000 }, async (wb, server) => {
  const ws = makeWorkspace('config');
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
});
