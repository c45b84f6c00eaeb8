import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';

/**
 * The files a corpus names, in order: a file is itself, a folder gives its .txt files
 * (recursively, sorted by path, so the order, and what is cached from it, never depends on the
 * file system's). `problem` builds the error for an input that is missing or a folder without
 * .txt files, in the words of whoever named it (a config key, a command-line flag).
 */
export async function corpusFiles(
  inputs: readonly string[],
  problem: (input: string, what: string) => Error,
): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) await walk(path);
      else if (e.isFile() && extname(e.name).toLowerCase() === '.txt') out.push(path);
    }
  };
  for (const input of inputs) {
    let s: Awaited<ReturnType<typeof stat>>;
    try {
      s = await stat(input);
    } catch {
      throw problem(input, 'no such file or folder');
    }
    if (s.isDirectory()) {
      const before = out.length;
      await walk(input);
      if (out.length === before) throw problem(input, 'the folder holds no .txt file');
    } else out.push(input);
  }
  return out;
}
