import type { Diagnostic } from './config-nodes.js';

/**
 * A time budget for one validation, checked between its synchronous phases (parse, schema, rules):
 * the extension validates as the user types, in the extension host, which must not stall. Each
 * phase is bounded by the input's limits (limits.ts), so checking between them bounds the whole;
 * what did not run is said in a diagnostic, and the file checks (I/O, which does not stall the
 * host) are then skipped too. The clock is injectable for tests. The validator also tells the
 * budget which phase it enters: the extension's validation worker passes that on, so that a
 * validation it has to stop can say where it was.
 */
export class Budget {
  private readonly start: number;
  private lastSpent = 0;
  /** Called as each phase starts, with its name (e.g. "the schema checks"). */
  onPhase: ((phase: string) => void) | undefined;

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

  /** Marks the start of a phase of the validation (for onPhase). */
  enter(phase: string): void {
    this.onPhase?.(phase);
  }

  /** The diagnostic of a validation stopped for time before `what`. */
  stopped(what: string): Diagnostic {
    const at = { line: 0, character: 0 };
    const message = `Validation stopped after ${Math.round(this.lastSpent)} ms (its budget is ${this.ms} ms): ${what} did not run.`;
    return { severity: 'warning', message, code: 'validation-stopped', path: [], range: { start: at, end: at } };
  }
}
