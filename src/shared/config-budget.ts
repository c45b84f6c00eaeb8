import type { Diagnostic } from './config-nodes.js';

/**
 * A time budget for one validation, checked between its synchronous phases (parse, schema, rules):
 * the extension validates as the user types, in the extension host, which must not stall. Each
 * phase is bounded by the input's limits (limits.ts), so checking between them bounds the whole;
 * what did not run is said in a diagnostic, and the file checks (I/O, which does not stall the
 * host) are then skipped too. The clock is injectable for tests.
 */
export class Budget {
  private readonly start: number;
  private lastSpent = 0;

  constructor(
    readonly ms: number,
    private readonly now: () => number = Date.now,
  ) {
    this.start = now();
  }

  get spent(): number {
    return this.now() - this.start;
  }

  /** Reads the clock; the reading is the one a following stopped() reports. */
  get over(): boolean {
    this.lastSpent = this.spent;
    return this.lastSpent > this.ms;
  }

  /** The diagnostic of a validation stopped for time before `what`. */
  stopped(what: string): Diagnostic {
    const at = { line: 0, character: 0 };
    const message = `Validation stopped after ${Math.round(this.lastSpent)} ms (its budget is ${this.ms} ms): ${what} did not run.`;
    return { severity: 'warning', message, code: 'validation-stopped', path: [], range: { start: at, end: at } };
  }
}
