import * as vscode from 'vscode';
import { DEVICE_NAMES, type DeviceName } from '../shared/config.js';
import { SETTINGS } from './ids.js';
import { normalizeRunsFolder, outputDirOf, resolveRunsRoot } from './runs/runs-root.js';

/** The `finetune.*` settings, read fresh on each use so changes apply without a reload. */
export interface Settings {
  device: DeviceName;
  runsFolder: string;
  maxConcurrentRuns: number;
  engineThreads: number;
  /** Start Fine-tune opens the run panel on the new run. */
  openPanelOnStart: boolean;
  /** The port of Serve Model's server. */
  servePort: number;
}

export function readSettings(scope?: vscode.ConfigurationScope): Settings {
  const c = vscode.workspace.getConfiguration(SETTINGS.section, scope);
  const device = c.get<string>(SETTINGS.device, 'auto');
  const max = Math.floor(c.get<number>(SETTINGS.maxConcurrentRuns, 1));
  const threads = Math.floor(c.get<number>(SETTINGS.engineThreads, 0));
  const port = c.get<number>(SETTINGS.servePort, 8080);
  return {
    device: (DEVICE_NAMES as readonly string[]).includes(device) ? (device as DeviceName) : 'auto',
    runsFolder: normalizeRunsFolder(c.get<unknown>(SETTINGS.runsFolder)),
    maxConcurrentRuns: Number.isFinite(max) && max >= 1 ? max : 1,
    engineThreads: Number.isFinite(threads) && threads >= 0 ? threads : 0,
    openPanelOnStart: c.get<boolean>(SETTINGS.openPanelOnStart, true) !== false,
    servePort: Number.isInteger(port) && port >= 1 && port <= 65535 ? port : 8080,
  };
}

/**
 * The runs folder of a workspace folder: the config's `output_dir` when given, else the setting
 * (read for that folder), relative to the folder unless absolute. Starting a run and the run
 * panel both go through here, so the panel watches the folder the runs really go to.
 */
export function runsRootOf(folder: vscode.WorkspaceFolder, outputDir?: string): string {
  return resolveRunsRoot(folder.uri.fsPath, readSettings(folder).runsFolder, outputDir);
}

/**
 * The workspace folder a config's runs belong to: the config's own, else the first local folder;
 * undefined when that is not a folder on disk (no run can start there).
 */
export function configFolderOf(config: vscode.Uri): vscode.WorkspaceFolder | undefined {
  const folder = vscode.workspace.getWorkspaceFolder(config) ?? localFolders()[0];
  return folder?.uri.scheme === 'file' ? folder : undefined;
}

/** Where the runs of a config with this text go; undefined when it has no folder on disk. */
export function configRunsRoot(config: vscode.Uri, text: string): string | undefined {
  const folder = configFolderOf(config);
  return folder && runsRootOf(folder, outputDirOf(text, config.path));
}

/** Local workspace folders only: runs are local folders that the engine writes. */
export function localFolders(): readonly vscode.WorkspaceFolder[] {
  return (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
}
