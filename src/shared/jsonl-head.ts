/**
 * The first rows of JSON Lines text, as the validator's column check and the dataset picker read
 * them: each line that is a JSON object, the union of their keys, and the first line that is not
 * an object. Browser-safe.
 */
export interface JsonlHead {
  /** The object rows, in file order. */
  objects: Record<string, unknown>[];
  /** Keys of all the object rows, in first-seen order. */
  columns: string[];
  /** Non-blank lines read (objects and bad lines). */
  rows: number;
  /** 1-based line of the first row that is not a JSON object. */
  badLine?: number;
}

/** Reads at most `maxRows` non-blank lines of `lines`. */
export function jsonlHead(lines: readonly string[], maxRows: number): JsonlHead {
  const objects: Record<string, unknown>[] = [];
  const columns = new Set<string>();
  let rows = 0;
  let badLine: number | undefined;
  for (let i = 0; i < lines.length && rows < maxRows; i++) {
    const line = lines[i]?.trim() ?? '';
    if (line === '') continue;
    rows++;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      row = undefined;
    }
    if (row === null || typeof row !== 'object' || Array.isArray(row)) {
      badLine ??= i + 1;
      continue;
    }
    objects.push(row as Record<string, unknown>);
    for (const k of Object.keys(row)) columns.add(k);
  }
  return { objects, columns: [...columns], rows, ...(badLine === undefined ? {} : { badLine }) };
}
