import type { RunEvent } from '../../shared/run-directory.js';

/**
 * Collects the events read from run directories and hands them on in batches, at most one batch
 * per `intervalMs`: a run that logs thousands of steps a second then costs the webview ten
 * messages a second, not thousands. The first events after a quiet period go out at once (no
 * added latency for a slow run); later ones wait for the interval to pass. Timers are injected so
 * tests control time.
 */
export interface BatchTimers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export type EventBatch = { runId: string; events: RunEvent[] }[];

const realTimers: BatchTimers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export class EventBatcher {
  private pending = new Map<string, RunEvent[]>();
  private timer: unknown;
  private lastFlush = Number.NEGATIVE_INFINITY;
  private disposed = false;

  constructor(
    private readonly send: (batch: EventBatch) => void,
    private readonly intervalMs: number,
    private readonly timers: BatchTimers = realTimers,
  ) {}

  push(runId: string, events: readonly RunEvent[]): void {
    if (this.disposed || events.length === 0) return;
    const list = this.pending.get(runId);
    if (list) for (const e of events) list.push(e);
    else this.pending.set(runId, [...events]);
    this.schedule();
  }

  /** Drops what is pending for a run (removed, or its events were re-read from the start). */
  discard(runId: string): void {
    this.pending.delete(runId);
  }

  /** Sends what is pending now, e.g. before a message that must come after these events. */
  flush(): void {
    if (this.timer !== undefined) {
      this.timers.clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending.size === 0) return;
    const batch: EventBatch = [...this.pending].map(([runId, events]) => ({ runId, events }));
    this.pending = new Map();
    this.lastFlush = this.timers.now();
    this.send(batch);
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    const wait = this.lastFlush + this.intervalMs - this.timers.now();
    // Events are read in bursts (one file read); a timer of 0 lets the rest of the burst join.
    this.timer = this.timers.setTimeout(
      () => {
        this.timer = undefined;
        this.flush();
      },
      Math.max(0, wait),
    );
  }
}
