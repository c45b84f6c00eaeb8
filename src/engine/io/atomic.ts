/**
 * Atomic file writes: a reader (the run monitor, a resumed run, `from_pretrained`) must never
 * see half a weights file or half a config. Everything is written to a temporary file in the
 * same folder (so the rename cannot cross file systems), flushed to disk, then renamed over the
 * target, which POSIX and NTFS both make atomic.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, copyFileSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** A hidden sibling of `target`; the random part keeps concurrent writers apart. */
export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
}

/** Writes every byte of `bytes` at the file's current position (writeSync may write less). */
export function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) {
    done += writeSync(fd, bytes, done, bytes.length - done);
  }
}

/** Calls `write` with an open descriptor of a temporary file, then renames it to `target`. */
export function writeFileAtomic(target: string, write: (fd: number) => void): void {
  const temp = tempPathFor(target);
  const fd = openSync(temp, 'w');
  try {
    write(fd);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  closeSync(fd);
  try {
    renameSync(temp, target);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

export function writeTextAtomic(target: string, text: string): void {
  writeFileAtomic(target, (fd) => writeAll(fd, Buffer.from(text, 'utf8')));
}

export function copyFileAtomic(source: string, target: string): void {
  const temp = tempPathFor(target);
  try {
    copyFileSync(source, temp);
    renameSync(temp, target);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}
