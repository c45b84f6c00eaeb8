import { closeSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A short mutual exclusion over a sweep folder for the tasks of a Slurm job array, which run on
 * several nodes at once and each read, change and write sweep.json: a file created exclusively
 * (O_EXCL, atomic on NFS v3+ and local filesystems), held for milliseconds. One left by a task
 * killed inside its critical section is taken over once older than STALE_MS.
 */
export const SWEEP_LOCK_FILE = 'sweep.lock';
const STALE_MS = 30_000;

export async function withSweepLock<T>(sweepDir: string, body: () => T, timeoutMs = 120_000): Promise<T> {
  const file = join(sweepDir, SWEEP_LOCK_FILE);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, `${process.pid}@${hostname()}\n`);
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      try {
        if (Date.now() - statSync(file).mtimeMs > STALE_MS) rmSync(file, { force: true });
      } catch {
        // Released between the open and the stat: try again.
      }
      if (Date.now() > deadline) throw new Error(`${file} stayed locked for ${timeoutMs / 1000} s`);
      await sleep(20 + Math.random() * 30);
    }
  }
  try {
    return body();
  } finally {
    rmSync(file, { force: true });
  }
}
