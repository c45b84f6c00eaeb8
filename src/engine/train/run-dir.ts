import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { RunEvent, RunState, RunStatus } from '../../shared/run-directory.js';
import { appendAllOrNothing, removeDirAtomic, writeDirAtomic, writeTextAtomic } from '../io/atomic.js';

/**
 * Writes a run directory exactly per the contract in DESIGN.md: `status.json` replaced atomically,
 * `events.jsonl` appended one flushed line per event, `engine.log` for people, checkpoints written
 * to a temporary folder and renamed into place, so a crash at any moment leaves the folder readable
 * and the last checkpoint loadable. A write the disk refuses (full, I/O error) throws a StorageError
 * naming the file and leaves no part of it behind: no half line, no temporary file or folder.
 */
type EventBody = RunEvent extends infer E ? (E extends RunEvent ? Omit<E, 't'> : never) : never;

export class RunDirectory {
  private status: RunStatus;

  constructor(
    readonly path: string,
    init: { totalSteps: number; pid?: number; startedAt?: string; step?: number; epoch?: number },
    /** Also shows log lines somewhere (a terminal running the CLI). */
    private readonly echo?: (level: string, message: string) => void,
  ) {
    mkdirSync(join(path, 'checkpoints'), { recursive: true });
    const now = new Date().toISOString();
    this.status = {
      state: 'queued',
      pid: init.pid ?? process.pid,
      startedAt: init.startedAt ?? now,
      updatedAt: now,
      step: init.step ?? 0,
      totalSteps: init.totalSteps,
      epoch: init.epoch ?? 0,
    };
  }

  get current(): Readonly<RunStatus> {
    return this.status;
  }

  file(name: string): string {
    return join(this.path, name);
  }

  /** Merges fields into status.json and rewrites it atomically. */
  updateStatus(fields: Partial<RunStatus>): void {
    this.status = { ...this.status, ...fields, updatedAt: new Date().toISOString() };
    writeTextAtomic(this.file('status.json'), `${JSON.stringify(this.status, null, 2)}\n`);
  }

  /** State change: status.json, a status event and a log line. */
  setState(state: RunState, reason?: string): void {
    this.updateStatus(reason === undefined ? { state } : { state, reason });
    this.event(reason === undefined ? { type: 'status', state } : { type: 'status', state, reason });
  }

  event(body: EventBody): void {
    appendAllOrNothing(this.file('events.jsonl'), `${JSON.stringify({ ...body, t: Date.now() })}\n`);
  }

  /** A line in engine.log, and a log event for the panel. */
  log(level: 'debug' | 'info' | 'warn' | 'error', message: string): void {
    appendAllOrNothing(
      this.file('engine.log'),
      `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${message}\n`,
    );
    this.event({ type: 'log', level, message });
    this.echo?.(level, message);
  }

  checkpointPath(step: number): string {
    return join(this.path, 'checkpoints', `step-${step}`);
  }

  /**
   * Writes a checkpoint folder through `write` into a temporary sibling, then renames it into place;
   * a crash mid-write leaves no half checkpoint under the real name.
   */
  writeCheckpoint(step: number, write: (dir: string) => void): string {
    const final = this.checkpointPath(step);
    writeDirAtomic(final, write);
    this.event({ type: 'checkpoint', step, path: join('checkpoints', `step-${step}`) });
    return final;
  }

  /** Steps of the complete checkpoints on disk, ascending. */
  checkpointSteps(): number[] {
    return readdirSync(join(this.path, 'checkpoints'))
      .map((d) => /^step-(\d+)$/.exec(d)?.[1])
      .filter((s): s is string => s !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  }

  /** Keeps the newest `limit` checkpoints plus `keep` (the best); removes the rest. */
  pruneCheckpoints(limit: number, keep: number | undefined): void {
    const steps = this.checkpointSteps();
    const newest = new Set(steps.slice(Math.max(0, steps.length - limit)));
    for (const step of steps) {
      // Renamed aside before deletion: a kill mid-way must not leave half a checkpoint under its name.
      if (!newest.has(step) && step !== keep) removeDirAtomic(this.checkpointPath(step));
    }
  }
}
