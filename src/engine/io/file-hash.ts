import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';

/** Feeds a file to `hash` in 1 MiB reads (a corpus or a model's weights is never held whole). */
function updateWithFile(hash: Hash, path: string, buffer: Buffer): void {
  const fd = openSync(path, 'r');
  try {
    for (let n = readSync(fd, buffer); n > 0; n = readSync(fd, buffer)) hash.update(buffer.subarray(0, n));
  } finally {
    closeSync(fd);
  }
}

/** Hex sha256 of a file's bytes. */
export function sha256File(path: string): string {
  const hash = createHash('sha256');
  updateWithFile(hash, path, Buffer.allocUnsafe(1 << 20));
  return hash.digest('hex');
}

/** Hex sha256 over the files in `folder` whose names pass `keep`, in name order, each prefixed by its name. */
export function hashFiles(folder: string, keep: (name: string) => boolean): string {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(1 << 20);
  for (const name of readdirSync(folder).filter(keep).sort()) {
    hash.update(`${name}\0`);
    updateWithFile(hash, join(folder, name), buffer);
  }
  return hash.digest('hex');
}
