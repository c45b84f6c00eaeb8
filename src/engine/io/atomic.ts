/**
 * Atomic file writes: a reader (the run monitor, a resumed run, `from_pretrained`) must never
 * see half a weights file or half a config. Everything is written to a temporary file in the
 * same folder (so the rename cannot cross file systems), flushed to disk, then renamed over the
 * target, which POSIX and NTFS both make atomic.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
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

/**
 * Removes a folder so that no reader ever finds part of it under its name: renamed aside first
 * (`<target>.deleted.tmp-<pid>`, which a killed removal leaves for the next run's clean-up,
 * train/run-recovery.ts), then deleted file by file.
 */
export function removeDirAtomic(target: string): void {
  if (!existsSync(target)) return;
  const aside = `${target}.deleted.tmp-${process.pid}`;
  rmSync(aside, { recursive: true, force: true });
  renameSync(target, aside);
  rmSync(aside, { recursive: true, force: true });
}

/** Puts the complete folder `temp` in the place of `target`, replacing an earlier one (see removeDirAtomic). */
export function replaceDir(temp: string, target: string): void {
  removeDirAtomic(target);
  renameSync(temp, target);
}

/**
 * Builds a folder through `write` in a temporary sibling (`<target>.tmp-<pid>`), then renames it
 * into place, replacing an earlier one: a reader never finds a half-written folder under the real
 * name (in between the two renames there is briefly none). A failed write removes the sibling; a
 * killed one leaves it for the next run's clean-up.
 */
export async function writeDirAtomic(target: string, write: (dir: string) => void | Promise<void>): Promise<void> {
  const temp = `${target}.tmp-${process.pid}`;
  rmSync(temp, { recursive: true, force: true });
  mkdirSync(temp, { recursive: true });
  try {
    await write(temp);
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    throw error;
  }
  replaceDir(temp, target);
}
