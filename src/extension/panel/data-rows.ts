import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';

/**
 * Where a row of a data report is, for the Data tab's `openDataRow` (src/shared/messages.ts): the
 * file as the report names it (absolute as the engine writes it, or relative to the run folder or
 * the config's folder), resolved, its links followed, and refused unless it lies inside a workspace
 * folder or the run's folder. The page is not trusted with paths: a
 * message naming /etc/passwd or ../../.ssh/id_rsa opens nothing. No 'vscode' import: tested alone.
 */
export interface DataRowPlace {
  /** The file's real path. */
  path: string;
  /** 1-based. */
  line: number;
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

export async function resolveDataRow(
  file: string,
  line: number,
  where: {
    /** What a relative `file` is relative to: the run folder, or the config's folder. */
    base: string;
    workspace: readonly string[];
    runDir?: string;
  },
): Promise<DataRowPlace> {
  if (!Number.isSafeInteger(line) || line < 1) throw new Error(`Line ${line} is not a 1-based line number.`);
  const asked = resolve(where.base, file);
  let path: string;
  try {
    path = await realpath(asked);
  } catch {
    throw new Error(`The data file ${asked} does not exist (any more).`);
  }
  // The roots' real paths too, so a workspace opened through a link still contains its files.
  const allowed = where.runDir === undefined ? where.workspace : [...where.workspace, where.runDir];
  const roots = await Promise.all(allowed.map((r) => realpath(r).catch(() => resolve(r))));
  if (!roots.some((root) => inside(root, path))) {
    const outside = where.runDir === undefined ? 'the workspace' : "the workspace and the run's folder";
    throw new Error(`Refused to open ${asked}: it is outside ${outside}.`);
  }
  if (!(await stat(path)).isFile()) throw new Error(`${asked} is not a file.`);
  return { path, line };
}
