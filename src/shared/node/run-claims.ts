import { mkdirSync } from 'node:fs';
import { hostname, uptime } from 'node:os';
import { join } from 'node:path';
import { uniqueRunId } from '../run-id.js';

/**
 * The Node side of the run-directory contract that the engine and the extension host both need
 * (src/shared itself has no Node types: the webview bundle imports it). Only those two import this
 * folder; the webview's tsconfig excludes it.
 */

/** `process.kill(pid, 0)`: true when the process exists (EPERM means it exists but is not ours). */
export function isPidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** What judging a run's lock needs to know of this machine (src/shared/run-lock.ts). */
export interface HostFacts {
  host: string;
  isAlive(pid: number): boolean;
  now(): number;
  /** ms since the epoch at this machine's last boot. */
  bootTime: number;
}

export function hostFacts(): HostFacts {
  return { host: hostname(), isAlive: isPidAlive, now: Date.now, bootTime: Date.now() - uptime() * 1000 };
}

/**
 * Creates `<root>/<run id>` for a new run, exclusively: mkdir without `recursive` on the last
 * component fails when another run (another process or window, the same second) took the name,
 * and the next `-N` is tried. Claiming the name inside uniqueRunId's `taken` makes the check and
 * the claim one step.
 */
export function createRunDirectory(root: string, configPath: string, now = new Date()): string {
  mkdirSync(root, { recursive: true });
  return join(
    root,
    uniqueRunId(configPath, (id) => !claimDir(join(root, id)), now),
  );
}

function claimDir(path: string): boolean {
  try {
    mkdirSync(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new Error(`could not create the run directory ${path}: ${(err as Error).message}`);
  }
}
