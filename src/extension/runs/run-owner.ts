import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type HostFacts, hostFacts } from '../../shared/node/run-claims.js';
import { RUN_FILES } from '../../shared/run-directory.js';
import { describeLock, judgeLock, type LockFacts, parseRunLock, type RunLock } from '../../shared/run-lock.js';
import { readStatusFile } from './run-reader.js';

/**
 * Which engine owns a run, read from its `lock` (DESIGN.md, "Run directory") with the engine's own
 * rule (src/shared/run-lock.ts), so the extension never starts a second engine on a run that one
 * trains already, whoever started it: another window, a terminal, a scheduler. And the exclusive
 * creation of a new run's folder. No 'vscode' import.
 */
export interface RunOwner {
  /** Undefined when the lock is being written (its content is not readable yet). */
  lock: RunLock | undefined;
  /** Why the lock counts as held, from judgeLock. */
  why: string;
}

export type OwnerDeps = HostFacts;

export const hostOwnerDeps = hostFacts;

/** The live engine that owns the run, or undefined when no lock is held (none, or a stale one). */
export async function runOwner(dir: string, deps: OwnerDeps = hostOwnerDeps()): Promise<RunOwner | undefined> {
  const path = join(dir, RUN_FILES.lock);
  let text: string;
  let lockTime: number;
  try {
    lockTime = (await stat(path)).mtimeMs;
    text = await readFile(path, 'utf8');
  } catch {
    return undefined; // no lock (or it went away between the two calls)
  }
  const lock = parseRunLock(text);
  const statusTime = await stat(join(dir, RUN_FILES.status)).then(
    (s) => s.mtimeMs,
    () => 0,
  );
  const { status } = await readStatusFile(dir);
  const facts: LockFacts = {
    host: deps.host,
    isAlive: deps.isAlive,
    now: deps.now(),
    bootTime: deps.bootTime,
    lastActivity: Math.max(lockTime, statusTime),
    ...(status ? { status } : {}),
  };
  const verdict = judgeLock(lock, facts);
  return verdict.held ? { lock, why: verdict.why } : undefined;
}

/** What a window that finds the run owned tells the user: nothing started, the owner followed. */
export function ownerMessage(runId: string, owner: RunOwner | undefined): string {
  const who = owner ? describeLock(owner.lock) : 'another engine';
  return `Run ${runId} is already being trained by ${who}: showing that engine's progress instead of starting a second one.`;
}
