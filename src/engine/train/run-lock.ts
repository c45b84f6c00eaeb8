import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { type HostFacts, hostFacts } from '../../shared/node/run-claims.js';
import { RUN_FILES } from '../../shared/run-directory.js';
import { describeLock, judgeLock, type LockFacts, parseRunLock, type RunLock } from '../../shared/run-lock.js';

/**
 * Claiming a run directory: a name no other run has (createRunDirectory), and the run's `lock` so
 * that one engine at a time trains it (acquireRunLock; the rule for when a lock is still held is
 * src/shared/run-lock.ts, shared with the extension).
 *
 * The lock is created with O_CREAT|O_EXCL, which one process wins. A stale lock is replaced
 * under a second exclusive file, `lock.takeover`: whoever holds it re-reads the lock and removes
 * it only if it is still the stale one it judged, so two engines taking over the same stale lock
 * cannot remove each other's fresh one. A takeover lasts milliseconds; a `lock.takeover` older
 * than TAKEOVER_STALE_MS was left by a crash and is removed.
 */
export interface LockDeps extends HostFacts {
  pid: number;
  /** Called between judging a lock stale and replacing it: tests widen the race window here. */
  onStale?: () => void;
}

export function hostLockDeps(): LockDeps {
  return {
    pid: process.pid,
    ...hostFacts(),
  };
}

/** Another engine owns the run: what the CLI reports, with LOCKED_EXIT_CODE. */
export class RunLockedError extends Error {
  constructor(
    readonly runDir: string,
    readonly owner: RunLock | undefined,
    why: string,
  ) {
    const sameHost = owner !== undefined && owner.host === hostname();
    const way = sameHost
      ? `stop that engine first (the Stop button in VS Code, or kill -TERM ${owner.pid}) or wait for it to end`
      : `if that engine is gone for good, delete ${join(runDir, RUN_FILES.lock)}`;
    super(`${runDir} is in use by ${describeLock(owner)}: ${why}; ${way}`);
    this.name = 'RunLockedError';
  }
}

export interface HeldLock {
  readonly path: string;
  readonly lock: RunLock;
  /** The stale lock this one replaced, and why it was stale: for a line in engine.log. */
  readonly tookOver?: { previous: RunLock | undefined; why: string };
  /** Removes the lock if it is still ours; safe to call more than once. */
  release(): void;
}

const TAKEOVER_STALE_MS = 10_000;
const ATTEMPTS = 20;

/** Takes the run's lock or throws RunLockedError naming the engine that holds it. */
export function acquireRunLock(runDir: string, command: 'train' | 'resume', deps = hostLockDeps()): HeldLock {
  const path = join(runDir, RUN_FILES.lock);
  const mine: RunLock = { pid: deps.pid, host: deps.host, startedAt: new Date(deps.now()).toISOString(), command };
  const text = `${JSON.stringify(mine)}\n`;
  let tookOver: HeldLock['tookOver'];
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (createExclusive(path, text)) return held(path, mine, text, tookOver);
    const current = readFile(path);
    if (current === undefined) continue; // released between our create and our read
    const owner = parseRunLock(current.text);
    const verdict = judgeLock(owner, facts(runDir, current.mtimeMs, deps));
    if (verdict.held) throw new RunLockedError(runDir, owner, verdict.why);
    deps.onStale?.();
    if (removeIfUnchanged(path, current.text, text, deps)) tookOver = { previous: owner, why: verdict.why };
    else sleep(10 + attempt * 5);
  }
  throw new Error(
    `could not take ${path}: it changed ${ATTEMPTS} times while being read (several engines starting this run at once?)`,
  );
}

function held(path: string, lock: RunLock, text: string, tookOver: HeldLock['tookOver']): HeldLock {
  let released = false;
  return {
    path,
    lock,
    ...(tookOver ? { tookOver } : {}),
    release() {
      if (released) return;
      released = true;
      // Only our own: a lock judged stale and taken over belongs to its new owner. A lock that
      // cannot be removed is left: its dead pid makes it stale for the next engine.
      try {
        if (readFile(path)?.text === text) unlinkQuiet(path);
      } catch {}
    },
  };
}

/** What judgeLock needs: status.json and the run's last modification. */
function facts(runDir: string, lockMtime: number, deps: LockDeps): LockFacts {
  const f: LockFacts = {
    host: deps.host,
    isAlive: deps.isAlive,
    now: deps.now(),
    bootTime: deps.bootTime,
    lastActivity: lockMtime,
  };
  const status = readFile(join(runDir, RUN_FILES.status));
  if (status) {
    f.lastActivity = Math.max(lockMtime, status.mtimeMs);
    try {
      const s = JSON.parse(status.text) as Record<string, unknown>;
      if (typeof s.state === 'string' && typeof s.pid === 'number' && typeof s.updatedAt === 'string')
        f.status = { state: s.state as NonNullable<LockFacts['status']>['state'], pid: s.pid, updatedAt: s.updatedAt };
    } catch {
      // A status.json being replaced or damaged says nothing about the lock.
    }
  }
  return f;
}

/**
 * Removes the stale lock whose content was `stale`, under `lock.takeover`; false when another
 * process is taking over right now (the caller waits and looks again).
 */
function removeIfUnchanged(path: string, stale: string, mine: string, deps: LockDeps): boolean {
  const mutex = `${path}.takeover`;
  if (!createExclusive(mutex, mine)) {
    const m = readFile(mutex);
    if (m && deps.now() - m.mtimeMs > TAKEOVER_STALE_MS) unlinkQuiet(mutex);
    return false;
  }
  try {
    if (readFile(path)?.text === stale) unlinkQuiet(path);
    return true;
  } finally {
    unlinkQuiet(mutex);
  }
}

/** Creates `path` with `text` unless it exists (O_CREAT|O_EXCL); false when it exists. */
function createExclusive(path: string, text: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new Error(`could not create ${path}: ${(err as Error).message}`);
  }
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  return true;
}

function readFile(path: string): { text: string; mtimeMs: number } | undefined {
  try {
    const { mtimeMs } = statSync(path);
    return { text: readFileSync(path, 'utf8'), mtimeMs };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`could not read ${path}: ${(err as Error).message}`);
  }
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
