import type { RunStatus } from './run-directory.js';

/**
 * The run directory's `lock` (DESIGN.md, "Run directory": `lock` (pid, host) while an engine owns
 * the run): one engine trains a run at a time. The engine creates it exclusively when it starts
 * training or resuming and removes it when it ends; the extension reads it before starting an
 * engine. Both decide whether a lock is still held with judgeLock below, so they cannot disagree.
 * No Node types (the webview bundle may import src/shared): the callers gather the facts.
 *
 * The rule:
 * - same host: held while its pid is alive, unless the lock was written before this machine's
 *   last boot (the pid then names some other process). A dead pid is stale and taken over.
 * - another host (a shared or network file system): its pid means nothing here, so it is held
 *   unless clearly stale: status.json records that very engine's end (a final state, its pid,
 *   written after the lock), or nothing in the run (lock, status.json) has changed for
 *   FOREIGN_SILENCE_MS, far longer than any step or evaluation takes.
 * - a lock that is not valid JSON is being written (held) for UNREADABLE_GRACE_MS, then stale.
 * Anything else is held: deleting `lock` by hand is the way out, and the refusals say so.
 */
export interface RunLock {
  pid: number;
  /** The machine's hostname (os.hostname()). */
  host: string;
  /** ISO time the engine took the lock. */
  startedAt: string;
  /** What the engine was started to do. */
  command?: 'train' | 'resume';
}

/**
 * The exit code of `finetune train|resume` refused because another engine owns the run: the
 * extension tells it from a failure and follows the owner instead (1 is a failure, 2 bad usage).
 */
export const LOCKED_EXIT_CODE = 3;

/** A foreign lock with no change to the run for this long is stale: 6 hours. */
export const FOREIGN_SILENCE_MS = 6 * 60 * 60 * 1000;

/** Creating the lock and writing its content are two steps; a reader may see the file empty. */
export const UNREADABLE_GRACE_MS = 10_000;

/** The lock's content, or undefined when it is not a lock (empty, half-written, garbage). */
export function parseRunLock(text: string): RunLock | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.pid !== 'number' || !Number.isInteger(o.pid) || o.pid <= 0 || typeof o.host !== 'string')
    return undefined;
  const lock: RunLock = { pid: o.pid, host: o.host, startedAt: typeof o.startedAt === 'string' ? o.startedAt : '' };
  if (o.command === 'train' || o.command === 'resume') lock.command = o.command;
  return lock;
}

/** What the judge needs to know about the machine and the run, gathered by the caller. */
export interface LockFacts {
  /** This machine's hostname. */
  host: string;
  isAlive(pid: number): boolean;
  /** ms since the epoch, now and at this machine's last boot. */
  now: number;
  bootTime: number;
  /** Latest modification time (ms) of the lock and status.json: the run's last sign of life. */
  lastActivity: number;
  /** status.json, when readable. */
  status?: Pick<RunStatus, 'state' | 'pid' | 'updatedAt'>;
}

export type LockVerdict = { held: true; why: string } | { held: false; why: string };

/** Whether `lock` (undefined: the file exists but is not a valid lock) still owns the run. */
export function judgeLock(lock: RunLock | undefined, f: LockFacts): LockVerdict {
  if (!lock) {
    return f.now - f.lastActivity < UNREADABLE_GRACE_MS
      ? { held: true, why: 'another engine is writing the lock right now' }
      : { held: false, why: 'the lock file is not a valid lock (empty or damaged)' };
  }
  const since = Date.parse(lock.startedAt);
  if (lock.host === f.host) {
    if (!f.isAlive(lock.pid)) return { held: false, why: `pid ${lock.pid} is no longer running on this host` };
    if (Number.isFinite(since) && since < f.bootTime)
      return { held: false, why: `it predates this machine's last boot, so pid ${lock.pid} is another process now` };
    return { held: true, why: `engine pid ${lock.pid} is running on this host` };
  }
  const s = f.status;
  const updated = s ? Date.parse(s.updatedAt) : Number.NaN;
  // Both times come from that engine's clock, so comparing them is safe across machines.
  if (s && s.pid === lock.pid && !isActiveState(s.state) && Number.isFinite(since) && updated >= since)
    return { held: false, why: `the engine on ${lock.host} recorded its end (${s.state}) but left its lock` };
  const silentMs = f.now - f.lastActivity;
  if (silentMs > FOREIGN_SILENCE_MS)
    return {
      held: false,
      why: `nothing in the run has changed for ${Math.round(silentMs / 3_600_000)} h while ${lock.host} held it`,
    };
  return { held: true, why: `engine pid ${lock.pid} on host ${lock.host} holds it` };
}

function isActiveState(state: RunStatus['state']): boolean {
  return state === 'queued' || state === 'running';
}

/** One line naming the owner, for refusals: "engine pid 123 on host h (resume, since …)". */
export function describeLock(lock: RunLock | undefined): string {
  if (!lock) return 'an engine that is starting (the lock is being written)';
  const what = [lock.command, lock.startedAt && `since ${lock.startedAt}`].filter(Boolean).join(', ');
  return `engine pid ${lock.pid} on host ${lock.host}${what ? ` (${what})` : ''}`;
}
