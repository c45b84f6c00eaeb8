import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

/**
 * A real full disk for tests: a size-limited tmpfs mounted under the test's temporary folder,
 * unmounted when the test ends. Mounting needs root (CAP_SYS_ADMIN); where it is refused the test
 * is skipped with the reason, and returns undefined.
 */
export function smallDisk(t: TestContext, size = '2m'): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'small-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    const detail = (error as { stderr?: Buffer }).stderr?.toString().trim() || (error as Error).message;
    t.skip(`cannot mount a ${size} tmpfs to fill up (needs root or CAP_SYS_ADMIN): ${detail}`);
    return undefined;
  }
  t.after(() => {
    execFileSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Fills the file system of `dir` up to `leave` free bytes with one file; returns a function that frees it. */
export function fillDisk(dir: string, leave = 0): () => void {
  const { bavail, bsize } = statfsSync(dir);
  const filler = join(dir, `filler-${Date.now()}`);
  writeFileSync(filler, Buffer.alloc(Math.max(0, bavail * bsize - leave)));
  return () => rmSync(filler, { force: true });
}

/** Free bytes on the file system of `dir`. */
export const freeBytes = (dir: string): number => {
  const { bavail, bsize } = statfsSync(dir);
  return bavail * bsize;
};
