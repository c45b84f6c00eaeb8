import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { ConfigValidator } from '../validation/worker-client.js';
import { keyOf, type PanelRegistry, RunPanel, type RunPanelTarget } from './run-panel-host.js';

/**
 * The run panels: one webview panel per config file (or per set of runs compared, or sweep),
 * created, revealed and restored after a window reload here; each is a RunPanel
 * (run-panel-host.ts). See src/shared/messages.ts for the protocol and src/webview/ for the page.
 */
export type { RunPanelTarget };

export const RUN_PANEL_VIEW_TYPE = 'finetune.runPanel';

const open = new Map<string, RunPanel>();
const registry: PanelRegistry = { panels: open, log: () => panelLog, validator: () => panelValidator };
/** The extension's log, for what a panel's page posts that is not a message (set on activation). */
let panelLog: vscode.LogOutputChannel | undefined;
/** The extension's config validation worker (set on activation). */
let panelValidator: ConfigValidator | undefined;

/** Shows the panel for a config or a set of runs, revealing the one already open for it. */
export function showRunPanel(context: vscode.ExtensionContext, target: RunPanelTarget): { showData(): void } {
  const existing = open.get(keyOf(target));
  if (existing) {
    existing.addRuns(target.runDirs);
    existing.reveal();
    return existing;
  }
  const panel = vscode.window.createWebviewPanel(RUN_PANEL_VIEW_TYPE, titleOf(target), vscode.ViewColumn.Active, {
    enableScripts: true,
    localResourceRoots: [
      vscode.Uri.joinPath(context.extensionUri, 'dist'),
      vscode.Uri.joinPath(context.extensionUri, 'media'),
    ],
  });
  return new RunPanel(context, panel, target, registry);
}

/** Fine-tune: Show Data Report: the config's panel, on its Data tab, with the report the engine computes now. */
export function showDataReport(context: vscode.ExtensionContext, configUri: vscode.Uri): void {
  showRunPanel(context, { runDirs: [], configUri }).showData();
}

/**
 * The panel on a run just started: the config's panel when one is open (it follows the config's
 * new runs by itself), else the run's own, the one Open Run shows.
 */
export function showRunPanelOnStart(context: vscode.ExtensionContext, configUri: vscode.Uri, runDir: string): void {
  const configPanel = open.get(keyOf({ runDirs: [], configUri }));
  if (configPanel) configPanel.reveal();
  else showRunPanel(context, { runDirs: [runDir] });
}

/**
 * Restores panels after a window reload (VS Code calls it with the state the page saved); the
 * extension registers it on activation, with `onWebviewPanel:finetune.runPanel` as an activation event.
 */
export function registerRunPanelSerializer(
  context: vscode.ExtensionContext,
  log: vscode.LogOutputChannel,
  validator: ConfigValidator,
): vscode.Disposable {
  panelLog = log;
  panelValidator = validator;
  return vscode.window.registerWebviewPanelSerializer(RUN_PANEL_VIEW_TYPE, {
    async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown) {
      const saved = (state as { target?: { runDirs?: unknown; configUri?: unknown; sweepDir?: unknown } } | undefined)
        ?.target;
      const runDirs = Array.isArray(saved?.runDirs)
        ? saved.runDirs.filter((d): d is string => typeof d === 'string')
        : [];
      const configUri = typeof saved?.configUri === 'string' ? vscode.Uri.parse(saved.configUri) : undefined;
      panel.webview.options = {
        enableScripts: true,
        localResourceRoots: [
          vscode.Uri.joinPath(context.extensionUri, 'dist'),
          vscode.Uri.joinPath(context.extensionUri, 'media'),
        ],
      };
      const sweepDir = typeof saved?.sweepDir === 'string' ? saved.sweepDir : undefined;
      new RunPanel(
        context,
        panel,
        { runDirs, ...(configUri ? { configUri } : {}), ...(sweepDir ? { sweepDir } : {}) },
        registry,
      );
    },
  });
}

function titleOf(target: RunPanelTarget): string {
  if (target.sweepDir) return `Sweep ${basename(target.sweepDir)}`;
  if (target.configUri) return `Fine-tune: ${basename(target.configUri.path)}`;
  if (target.runDirs.length === 1) return `Run ${basename(target.runDirs[0] ?? '')}`;
  return `Compare ${target.runDirs.length} runs`;
}
