import { resolve } from 'node:path';
import { formatOf, nodeAt, parseConfigText } from '../../shared/config-tree.js';
import { DEFAULT_RUNS_FOLDER, runsFolderOf } from '../../shared/run-directory.js';

/**
 * Where a config's runs go, in one place: starting a run (the run manager) and the run panel
 * (which watches for the config's new runs) must agree. No 'vscode' import: settings.ts reads the
 * setting and the workspace folder and calls these.
 */

/** The `finetune.runsFolder` setting as used: trimmed, the default when blank or not a string. */
export function normalizeRunsFolder(value: unknown): string {
  const trimmed = typeof value === 'string' ? value.trim() : '';
  return trimmed === '' ? DEFAULT_RUNS_FOLDER : trimmed;
}

/** The config's `output_dir`, when it sets one (a non-empty string). */
export function outputDirOf(text: string, fileName: string): string | undefined {
  const node = nodeAt(parseConfigText(text, formatOf(fileName)).root, ['output_dir']);
  return node?.kind === 'scalar' && typeof node.value === 'string' && node.value !== '' ? node.value : undefined;
}

/**
 * The runs folder: the config's `output_dir` when it sets one, else the (normalized) setting;
 * either relative to the workspace folder unless absolute. The choice is the engine's too
 * (runsFolderOf, src/shared/run-directory.ts); the engine resolves against its working directory,
 * which the extension sets to the workspace folder.
 */
export function resolveRunsRoot(folderPath: string, runsFolder: string, outputDir?: string): string {
  return resolve(folderPath, runsFolderOf(outputDir, runsFolder));
}
