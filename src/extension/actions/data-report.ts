import * as vscode from 'vscode';
import type { Ctx } from '../ctx.js';
import { CONFIG_FILE_RE } from '../ids.js';
import { showDataReport } from '../panel/run-panel.js';
import { configArg, pickConfig } from './config-actions.js';

/**
 * Fine-tune: Show Data Report: the config's data as training would prepare it (bad rows, cleaning,
 * duplicates, leakage, labels, token lengths), before any run, in the run panel's Data tab. The
 * config comes from the menu it was run from, else the active editor, else a pick.
 */
export async function showDataReportOf(ctx: Ctx, arg?: unknown): Promise<void> {
  const active = vscode.window.activeTextEditor?.document.uri;
  const uri =
    configArg(arg) ??
    (active && CONFIG_FILE_RE.test(active.path)
      ? active
      : await pickConfig('Select the config whose data to report on'));
  if (!uri) return;
  showDataReport(ctx.extensionContext, uri);
}
