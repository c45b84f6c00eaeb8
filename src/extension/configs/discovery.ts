import { CONFIG_FILE_RE } from '../ids.js';

/**
 * Which config file the user most likely means, for the Start Fine-tune quick pick. No 'vscode'
 * import: unit-tested in plain Node. Paths are compared as given (the caller passes fsPaths).
 */
export function isConfigFile(path: string): boolean {
  return CONFIG_FILE_RE.test(path);
}

export interface ConfigOrderHints {
  /** The file in the active editor. */
  active?: string;
  /** Files open in any editor tab, most recently used first. */
  open?: readonly string[];
}

function depth(path: string): number {
  return path.split(/[\\/]/).length;
}

/**
 * The active editor's config first, then other open ones (in the order given), then the rest:
 * those in the active file's folder first, shallower paths before deeper ones, then by path.
 * Duplicates and non-config paths are dropped.
 */
export function orderConfigs(paths: readonly string[], hints: ConfigOrderHints = {}): string[] {
  const all = [...new Set(paths.filter(isConfigFile))];
  const present = new Set(all);
  const first: string[] = [];
  for (const p of [hints.active, ...(hints.open ?? [])]) {
    if (p !== undefined && present.has(p) && !first.includes(p)) first.push(p);
  }
  const activeDir = hints.active?.replace(/[\\/][^\\/]*$/, '');
  const sameDir = (p: string) => activeDir !== undefined && p.replace(/[\\/][^\\/]*$/, '') === activeDir;
  const rest = all
    .filter((p) => !first.includes(p))
    .sort((a, b) => Number(sameDir(b)) - Number(sameDir(a)) || depth(a) - depth(b) || a.localeCompare(b));
  return [...first, ...rest];
}
