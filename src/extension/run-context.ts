import type { RunState } from '../shared/run-directory.js';
import { CONTEXT_KEYS } from './ids.js';
import { allows, isActive } from './runs/run-state.js';

/**
 * The context keys that follow the runs (for `when` clauses) and the Runs view's badge, computed
 * from the runs' states. No 'vscode' import: ctx.ts sends them, through ChangedOnly.
 */
export function runContext(states: readonly RunState[]): Record<string, boolean> {
  return {
    [CONTEXT_KEYS.hasRuns]: states.length > 0,
    [CONTEXT_KEYS.hasRunningRuns]: states.some(isActive),
    [CONTEXT_KEYS.hasResumableRuns]: states.some((s) => allows(s, 'resume')),
    [CONTEXT_KEYS.hasDeletableRuns]: states.some((s) => allows(s, 'delete')),
    [CONTEXT_KEYS.hasCompletedRuns]: states.some((s) => s === 'completed'),
    [CONTEXT_KEYS.canCompareRuns]: states.filter((s) => allows(s, 'compare')).length >= 2,
  };
}

/** The number of runs training, which the Runs view shows as its badge. */
export function runningCount(states: readonly RunState[]): number {
  return states.filter((s) => s === 'running').length;
}

/**
 * Sends a value for a key only when it differs from the last one sent for that key: the run
 * context is recomputed on every read of a running run (several times a second), and it rarely
 * changes.
 */
export class ChangedOnly<T> {
  private readonly last = new Map<string, T>();

  constructor(private readonly send: (key: string, value: T) => void) {}

  /** Sends the value unless it is the last one sent for the key; true when it was sent. */
  set(key: string, value: T): boolean {
    if (this.last.has(key) && Object.is(this.last.get(key), value)) return false;
    this.last.set(key, value);
    this.send(key, value);
    return true;
  }
}
