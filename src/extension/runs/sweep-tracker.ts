import { existsSync } from 'node:fs';
import { sep } from 'node:path';
import type { SweepInfo } from '../../shared/messages.js';
import { isPidAlive } from '../../shared/node/run-claims.js';
import { runIdTime } from '../../shared/run-id.js';
import { KeyedThrottle } from './keyed-throttle.js';
import { isSweepDir, listTrialDirs, readSweepInfo, trialsFolder } from './sweep-reader.js';

/**
 * The sweeps of the workspace for the run manager: each sweep folder's sweep.json (read when it
 * changes, at most once per READ_MS) and its `trials/` folder, which the manager watches as one
 * more runs folder so the trials are ordinary runs (same reader, same actions). No 'vscode' import.
 */
export interface SweepSnapshot extends SweepInfo {
  /** Start time in ms, for sorting with the runs, newest first. */
  startedAt: number;
}

export interface SweepTrackerDeps {
  /** The sweep was read (or is gone: undefined), and its trial run folders are these. */
  changed(dir: string, sweep: SweepSnapshot | undefined, trials: string[]): void;
  isAlive?(pid: number): boolean;
}

const READ_MS = 200;

export class SweepTracker {
  private readonly sweeps = new Map<string, SweepSnapshot>();
  private readonly readSoon = new KeyedThrottle(READ_MS, (dir) => void this.read(dir));
  private readonly reads = new Map<string, Promise<void>>();

  constructor(private readonly deps: SweepTrackerDeps) {}

  /** Whether `dir` is (or has become) a sweep folder. */
  claims(dir: string): boolean {
    return this.sweeps.has(dir) || isSweepDir(dir);
  }

  list(): SweepSnapshot[] {
    return [...this.sweeps.values()];
  }

  get(dir: string): SweepSnapshot | undefined {
    return this.sweeps.get(dir);
  }

  /** The trials folders to watch as runs folders. */
  trialFolders(): string[] {
    return [...this.sweeps.keys()].map(trialsFolder);
  }

  /** The sweep whose trial `runDir` is, if any. */
  sweepOf(runDir: string): SweepSnapshot | undefined {
    for (const sweep of this.sweeps.values()) if (runDir.startsWith(trialsFolder(sweep.dir) + sep)) return sweep;
    return undefined;
  }

  /** Reads soon, coalescing the bursts of a sweep rewriting its record. */
  schedule(dir: string): void {
    this.readSoon.schedule(dir);
  }

  /** Reads one sweep now; reads of one sweep are serialized. */
  read(dir: string): Promise<void> {
    const next = (this.reads.get(dir) ?? Promise.resolve()).then(() => this.readNow(dir));
    const settled = next.catch(() => undefined);
    this.reads.set(dir, settled);
    return settled;
  }

  /** Forgets sweeps not in `dirs` (a refresh found them gone). */
  retain(dirs: ReadonlySet<string>): void {
    for (const dir of [...this.sweeps.keys()]) if (!dirs.has(dir)) this.forget(dir);
  }

  dispose(): void {
    this.readSoon.dispose();
  }

  private async readNow(dir: string): Promise<void> {
    if (!existsSync(dir)) return this.forget(dir);
    const info = await readSweepInfo(dir, this.deps.isAlive ?? isPidAlive);
    const parsed = info.record ? Date.parse(info.record.startedAt) : Number.NaN;
    const startedAt = Number.isFinite(parsed) ? parsed : (runIdTime(info.id) ?? 0);
    const sweep: SweepSnapshot = { ...info, startedAt };
    this.sweeps.set(dir, sweep);
    this.deps.changed(dir, sweep, await listTrialDirs(dir));
  }

  private forget(dir: string): void {
    if (this.sweeps.delete(dir)) this.deps.changed(dir, undefined, []);
  }
}
