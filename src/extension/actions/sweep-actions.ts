import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { Ctx } from '../ctx.js';
import { showRunPanel } from '../panel/run-panel.js';
import { describeSweep } from '../runs/sweep-reader.js';

/**
 * Open Sweep: the run panel on a sweep folder (its Sweep view, and its trials as runs), from a
 * Runs view sweep item, a folder path or Uri, or picked among the workspace's sweeps.
 */
export async function openSweep(ctx: Ctx, ...args: unknown[]): Promise<void> {
  let dir = sweepDirOf(args[0]);
  if (dir === undefined) {
    const sweeps = ctx.runs.listSweeps().sort((a, b) => b.startedAt - a.startedAt);
    if (sweeps.length === 0) {
      void vscode.window.showInformationMessage('Fine-tune: there is no sweep in the runs folders.');
      return;
    }
    const picked =
      sweeps.length === 1
        ? sweeps[0]
        : (
            await vscode.window.showQuickPick(
              sweeps.map((s) => ({ label: s.id, description: describeSweep(s), sweep: s })),
              { title: 'Fine-tune: select the sweep to open', matchOnDescription: true },
            )
          )?.sweep;
    dir = picked?.dir;
  }
  if (dir === undefined) return;
  if (!ctx.runs.getSweep(dir)) throw new Error(`No sweep at ${dir} (${basename(dir)} has no readable sweep.json).`);
  showRunPanel(ctx.extensionContext, { runDirs: [], sweepDir: dir });
}

function sweepDirOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (arg instanceof vscode.Uri) return arg.fsPath;
  if (arg !== null && typeof arg === 'object' && (arg as { kind?: unknown }).kind === 'sweep')
    return String((arg as { dir: unknown }).dir);
  return undefined;
}
