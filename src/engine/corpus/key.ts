import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { ResolvedCleanConfig } from '../../shared/config.js';
import { sha256File } from '../io/file-hash.js';
// The tokenizer files a model folder carries: any of them changing makes a new key.
import { TOKENIZER_FILES } from '../io/pretrained.js';
import type { CorpusEncoding } from './protocol.js';
import { CACHE_FORMAT } from './store.js';

/**
 * The cache key of a tokenized corpus: SHA-256 over everything its tokens depend on: the contents
 * of its files (for a folder, each .txt file's path within it as well, since order and membership
 * follow the paths), the tokenizer files, and the settings that change what is tokenized (text
 * column, cleaning, truncation, bad-row policy). Any change is a new key, so a stale cache is never
 * read; an unchanged corpus finds its cache again from any run or resume.
 */
export interface KeyInputs {
  /** data.train (or validation) as given: a file, or a folder of .txt files. */
  input: string;
  files: readonly string[];
  tokenizerDir: string;
  encoding: CorpusEncoding;
  clean: ResolvedCleanConfig;
  textColumn: string;
  onBadRows: string;
}

export interface FileDigest {
  path: string;
  bytes: number;
  sha256: string;
}

export async function corpusKey(k: KeyInputs): Promise<{ key: string; files: FileDigest[] }> {
  const files: FileDigest[] = [];
  for (const path of k.files) files.push({ path, bytes: statSync(path).size, sha256: sha256File(path) });
  const tokenizer: Record<string, string> = {};
  for (const name of TOKENIZER_FILES) {
    const path = join(k.tokenizerDir, name);
    if (existsSync(path)) tokenizer[name] = sha256File(path);
  }
  const single = files.length === 1 && files[0]?.path === k.input;
  const described = {
    format: CACHE_FORMAT,
    // A single file is its contents wherever it lies; a folder's files are also their paths in it.
    files: files.map((f) =>
      single ? { sha256: f.sha256 } : { path: relative(k.input, f.path).split(sep).join('/'), sha256: f.sha256 },
    ),
    tokenizer,
    encoding: k.encoding,
    clean: k.clean,
    textColumn: k.textColumn,
    onBadRows: k.onBadRows,
  };
  return { key: createHash('sha256').update(JSON.stringify(described)).digest('hex'), files };
}
