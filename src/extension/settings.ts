import { isAbsolute, join } from 'node:path';
import * as vscode from 'vscode';
import type { DeviceName } from '../shared/config.js';
import { DEFAULT_RUNS_FOLDER, SETTINGS } from './ids.js';

/** The `finetune.*` settings, read fresh on each use so changes apply without a reload. */
export interface Settings {
  device: DeviceName;
  runsFolder: string;
  maxConcurrentRuns: number;
  engineThreads: number;
}

const DEVICES: readonly DeviceName[] = ['auto', 'cpu', 'cuda'];

export function readSettings(scope?: vscode.ConfigurationScope): Settings {
  const c = vscode.workspace.getConfiguration(SETTINGS.section, scope);
  const device = c.get<string>(SETTINGS.device, 'auto');
  const runsFolder = c.get<string>(SETTINGS.runsFolder, DEFAULT_RUNS_FOLDER).trim();
  const max = Math.floor(c.get<number>(SETTINGS.maxConcurrentRuns, 1));
  const threads = Math.floor(c.get<number>(SETTINGS.engineThreads, 0));
  return {
    device: DEVICES.includes(device as DeviceName) ? (device as DeviceName) : 'auto',
    runsFolder: runsFolder === '' ? DEFAULT_RUNS_FOLDER : runsFolder,
    maxConcurrentRuns: Number.isFinite(max) && max >= 1 ? max : 1,
    engineThreads: Number.isFinite(threads) && threads >= 0 ? threads : 0,
  };
}

/** The runs folder of a workspace folder: the setting, relative to the folder unless absolute. */
export function runsRootOf(folder: vscode.WorkspaceFolder): string {
  const { runsFolder } = readSettings(folder);
  return isAbsolute(runsFolder) ? runsFolder : join(folder.uri.fsPath, runsFolder);
}

/** Local workspace folders only: runs are local folders that the engine writes. */
export function localFolders(): readonly vscode.WorkspaceFolder[] {
  return (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
}
