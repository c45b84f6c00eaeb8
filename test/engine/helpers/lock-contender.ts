// One contender of test/engine/run-lock.test.ts, in its own process (real concurrency):
//   node --import tsx lock-contender.ts lock <run-dir> <go-file> <hold-ms>
//   node --import tsx lock-contender.ts mkdir <root> <go-file> <config-path> <time-ms>
// Writes <go-file>.ready-<pid> once loaded, then waits until <go-file> exists (the test creates it
// when every contender is ready), so that all act at the same moment; prints one JSON line with
// what it got.
import { existsSync, writeFileSync } from 'node:fs';
import { acquireRunLock, hostLockDeps, RunLockedError } from '../../../src/engine/train/run-lock.js';
import { createRunDirectory } from '../../../src/shared/node/run-claims.js';

const [mode, target, go, ...rest] = process.argv.slice(2) as [string, string, string, ...string[]];

async function main(): Promise<void> {
  writeFileSync(`${go}.ready-${process.pid}`, '');
  while (!existsSync(go)) await new Promise((r) => setTimeout(r, 2));
  if (mode === 'mkdir') {
    const dir = createRunDirectory(target, rest[0] as string, new Date(Number(rest[1])));
    process.stdout.write(`${JSON.stringify({ pid: process.pid, dir })}\n`);
    return;
  }
  try {
    // Everyone judges the stale lock before anyone replaces it: the race at its widest.
    const lock = acquireRunLock(target, 'resume', {
      ...hostLockDeps(),
      onStale: () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100),
    });
    process.stdout.write(`${JSON.stringify({ pid: process.pid, won: true, tookOver: lock.tookOver?.why })}\n`);
    await new Promise((r) => setTimeout(r, Number(rest[0])));
    lock.release();
  } catch (err) {
    if (!(err instanceof RunLockedError)) throw err;
    process.stdout.write(`${JSON.stringify({ pid: process.pid, won: false, owner: err.owner?.pid })}\n`);
  }
}

void main();
