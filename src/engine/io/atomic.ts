/**
 * Atomic file writes: a reader (the run monitor, a resumed run, `from_pretrained`) must never
 * see half a weights file or half a config. Everything is written to a temporary file in the
 * same folder (so the rename cannot cross file systems), flushed to disk, then renamed over the
 * target, which POSIX and NTFS both make atomic. A failed write never replaces the target and leaves
 * no temporary file behind.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { StorageError, storageError } from './storage-errors.js';

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

/**
 * Calls `write` with an open descriptor of a temporary file, then renames it to `target`. On any
 * failure the temporary file is removed and `target` is left as it was; a storage failure (disk
 * full, I/O error) is thrown as a StorageError naming `target`.
 */
export function writeFileAtomic(target: string, write: (fd: number) => void): void {
  const temp = tempPathFor(target);
  let fd: number | undefined;
  try {
    fd = openSync(temp, 'w');
    write(fd);
    fsyncSync(fd);
    const written = fd;
    fd = undefined;
    // close can report a deferred write error (NFS): the data is not safe, so no rename.
    closeSync(written);
    renameSync(temp, target);
  } catch (error) {
    if (fd !== undefined) quietly(() => closeSync(fd as number));
    quietly(() => rmSync(temp, { force: true }));
    throw storageError(error, target);
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
    quietly(() => rmSync(temp, { force: true }));
    throw storageError(error, target);
  }
}

/**
 * Writes a folder through `write` into a temporary sibling, then puts it in place of `target`: a
 * failure at any point removes the temporary folder and leaves `target` as it was. A storage
 * failure names the file under `target` that was being written (or `target` itself).
 */
export function writeDirAtomic(target: string, write: (dir: string) => void): void {
  const temp = `${target}.tmp-${process.pid}`;
  // Errors name files inside the temporary folder: report them under their final names.
  const finalName = (path: string) => (path.startsWith(temp) ? target + path.slice(temp.length) : path);
  const fail = (error: unknown): never => {
    quietly(() => rmSync(temp, { recursive: true, force: true }));
    const path = (error as { path?: unknown } | null)?.path;
    const mapped = storageError(error, finalName(typeof path === 'string' ? path : target));
    throw mapped instanceof StorageError ? mapped.at(finalName(mapped.file)) : mapped;
  };
  try {
    rmSync(temp, { recursive: true, force: true });
    mkdirSync(temp, { recursive: true });
    write(temp);
  } catch (error) {
    fail(error);
  }
  // A folder already there (the same checkpoint saved again) moves aside until the new one is in,
  // under removeDirAtomic's name for it, which the resume's clean-up knows (train/run-recovery.ts).
  const previous = existsSync(target) ? `${target}.deleted.tmp-${process.pid}` : undefined;
  try {
    if (previous) {
      rmSync(previous, { recursive: true, force: true });
      renameSync(target, previous);
    }
    renameSync(temp, target);
  } catch (error) {
    if (previous && !existsSync(target)) quietly(() => renameSync(previous, target));
    fail(error);
  }
  if (previous) rmSync(previous, { recursive: true, force: true });
}

/**
 * Appends `text` to `file` as one unit: when the write fails part way (the disk fills up in the
 * middle of a line), the file is cut back to its previous length, so no half line is left for the
 * next append to run into. Storage failures come out as a StorageError naming `file`.
 */
export function appendAllOrNothing(file: string, text: string): void {
  let fd: number | undefined;
  let length: number | undefined;
  try {
    fd = openSync(file, 'a');
    length = fstatSync(fd).size;
    writeAll(fd, Buffer.from(text, 'utf8'));
    const written = fd;
    fd = undefined;
    closeSync(written);
  } catch (error) {
    if (fd !== undefined) {
      const open = fd;
      if (length !== undefined) quietly(() => ftruncateSync(open, length));
      quietly(() => closeSync(open));
    }
    throw storageError(error, file);
  }
}

/**
 * Rewrites `file` in place (no temporary file), for when a full disk refuses the temporary file
 * that an atomic write needs: overwriting blocks the file already holds needs no new space, so this
 * still records a run's last status. Not atomic: a reader can see it half written for a moment.
 */
export function overwriteInPlace(file: string, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  let fd: number | undefined;
  try {
    fd = openSync(file, existsSync(file) ? 'r+' : 'w');
    let done = 0;
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, done);
    ftruncateSync(fd, bytes.length);
    fsyncSync(fd);
  } catch (error) {
    throw storageError(error, file);
  } finally {
    if (fd !== undefined) quietly(() => closeSync(fd as number));
  }
}

/** Runs clean-up that must not hide the error being handled. */
function quietly(action: () => void): void {
  try {
    action();
  } catch {
    // The original failure is the one to report.
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
