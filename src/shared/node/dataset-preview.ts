import type { Dirent } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { type Options, parse } from 'csv-parse/sync';
import type { DatasetPreview } from '../dataset-detect.js';
import { jsonlHead } from '../jsonl-head.js';

/**
 * The dataset files of a workspace and the first rows of one, for the dataset picker: only the
 * head of a file is read (data files can be gigabytes). JSON Lines rows are JSON values; CSV/TSV
 * rows are strings keyed by the header, parsed with csv-parse as the engine parses them
 * (src/engine/data/csv.ts: RFC 4180 quoting, bare quotes allowed in TSV). No 'vscode' import.
 */
export const DATASET_EXTENSIONS = ['.jsonl', '.csv', '.tsv'] as const;
const HEAD_BYTES = 256 * 1024;
/** Rows read for detection; the picker shows the first few of them. */
const PREVIEW_ROWS = 50;
const SKIP = (name: string) => name.startsWith('.') || name === 'node_modules' || name === '__pycache__';
const MAX_ENTRIES = 5000;

export interface DatasetFilePreview extends DatasetPreview {
  /** A row that is not a JSON object (1-based line), when the head has one. */
  badLine?: number;
}

async function readHead(path: string, bytes: number): Promise<string | undefined> {
  const file = await open(path, 'r').catch(() => undefined);
  if (!file) return undefined;
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await file.read(buffer, 0, bytes, 0);
    const text = buffer.subarray(0, bytesRead).toString('utf8');
    // Cut mid-file: drop the partial last line (and a character split by the byte count).
    return bytesRead === bytes ? text.slice(0, Math.max(0, text.lastIndexOf('\n'))) : text;
  } finally {
    await file.close();
  }
}

/** The columns and first rows of a JSONL, CSV or TSV file; undefined when it can't be read or has another extension. */
export async function readDatasetPreview(
  path: string,
  rows = PREVIEW_ROWS,
  bytes = HEAD_BYTES,
): Promise<DatasetFilePreview | undefined> {
  const ext = extname(path).toLowerCase();
  if (!(DATASET_EXTENSIONS as readonly string[]).includes(ext)) return undefined;
  const head = await readHead(path, bytes);
  if (head === undefined) return undefined;
  const text = head.charCodeAt(0) === 0xfeff ? head.slice(1) : head;
  if (ext === '.jsonl') {
    const head = jsonlHead(text.split(/\r?\n/), rows);
    return {
      columns: head.columns,
      rows: head.objects,
      textual: false,
      ...(head.badLine === undefined ? {} : { badLine: head.badLine }),
    };
  }
  const tsv = ext === '.tsv';
  const options: Options = {
    delimiter: tsv ? '\t' : ',',
    relax_column_count: true,
    relax_quotes: tsv,
    skip_empty_lines: true,
    skip_records_with_error: true,
    to: rows + 1,
  };
  // A quoted field left open where the head was cut fails the whole parse: the header line alone
  // still names the columns.
  const firstLine = text.split(/\r?\n/).find((l) => l.trim() !== '') ?? '';
  const records = tryParse(text, options) ?? tryParse(firstLine, options) ?? [];
  const [header, ...body] = records;
  if (!header) return { columns: [], rows: [], textual: true };
  return {
    columns: header,
    rows: body.map((fields) => Object.fromEntries(header.map((name, i) => [name, fields[i] ?? '']))),
    textual: true,
  };
}

/** csv-parse's records, or undefined when the text does not parse. */
function tryParse(text: string, options: Options): string[][] | undefined {
  try {
    return parse(text, options);
  } catch {
    return undefined;
  }
}

/** JSONL/CSV/TSV files under `roots`, at most `maxDepth` levels down, hidden folders and dependencies skipped. */
export async function findDatasetFiles(roots: readonly string[], maxDepth = 5): Promise<string[]> {
  const found: string[] = [];
  let seen = 0;
  const visit = async (dir: string, depth: number): Promise<void> => {
    const entries: Dirent[] = await readdir(dir, { withFileTypes: true }).catch(() => []);
    seen += entries.length;
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) {
        if (!SKIP(e.name) && depth < maxDepth && seen < MAX_ENTRIES) await visit(path, depth + 1);
      } else if ((DATASET_EXTENSIONS as readonly string[]).includes(extname(e.name).toLowerCase())) found.push(path);
    }
  };
  for (const root of roots) await visit(root, 0);
  return found.sort();
}
