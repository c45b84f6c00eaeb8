import type * as vscode from 'vscode';
import { openRun, openRunConfig } from './actions/run-actions.js';
import { registerCommands } from './commands.js';
import { Ctx } from './ctx.js';

/**
 * Entry point of the extension host. Activation wires services and reads the runs folders; it
 * never loads the engine or onnxruntime-node, which run in their own processes (dist/cli.js).
 */
export function activate(context: vscode.ExtensionContext): void {
  const created: Ctx = new Ctx(context, {
    showLog: (dir) => created.outputs.open(dir, true),
    openConfig: (dir) => openRunConfig(created, dir),
    openRun: (dir) => openRun(created, dir),
  });
  // VS Code disposes the subscriptions on deactivation: the Ctx, and with it everything it owns.
  context.subscriptions.push(created);
  for (const d of registerCommands(created)) context.subscriptions.push(d);
  // Runs are read in the background: activation returns before a large runs folder is scanned.
  void created.initialize().catch((err: unknown) => created.log.error(`Reading the runs folders: ${String(err)}`));
}

/** Nothing to do beyond the subscriptions: engines keep running, and a later window re-attaches. */
export function deactivate(): void {}
