import type { RunEvent } from '../../shared/run-directory.js';

/**
 * Incremental reading of `events.jsonl`. The file only grows while a run lives (one flushed line per
 * event) and can reach hundreds of thousands of lines, so readers feed it chunk by chunk and keep a
 * running summary instead of re-reading it. A last line without its newline is a write in progress:
 * it is held back until the rest arrives. No 'vscode' import.
 */
export type StepEvent = Extract<RunEvent, { type: 'step' }>;
export type EvalEvent = Extract<RunEvent, { type: 'eval' }>;
export type CheckpointEvent = Extract<RunEvent, { type: 'checkpoint' }>;
export type StatusEvent = Extract<RunEvent, { type: 'status' }>;

export interface StepPoint {
  step: number;
  t: number;
}

export interface EventsSummary {
  /** Complete lines read. */
  lines: number;
  /** Lines that are not a JSON object with a known `type`; skipped, counted for the log. */
  badLines: number;
  lastStep?: StepEvent;
  lastEval?: EvalEvent;
  lastStatus?: StatusEvent;
  checkpoints: CheckpointEvent[];
  /** Step times since the engine last (re)started, newest last; at most RECENT_STEPS, for the ETA. */
  recentSteps: StepPoint[];
  /** The last error-level log events' messages, at most 5. */
  errors: string[];
}

export const RECENT_STEPS = 64;
const TYPES: ReadonlySet<string> = new Set(['step', 'eval', 'log', 'checkpoint', 'status', 'samples']);

export function emptySummary(): EventsSummary {
  return { lines: 0, badLines: 0, checkpoints: [], recentSteps: [], errors: [] };
}

/** One line of events.jsonl, or undefined when it is not an event. */
export function parseEventLine(line: string): RunEvent | undefined {
  const text = line.trim();
  if (text === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return isRunEvent(value) ? value : undefined;
}

/**
 * Whether a parsed line is an event: an object with a known `type` and a numeric `t`. Lines of
 * another version of the engine may carry types this one does not know: they are skipped. The one
 * check for the status bar, the runs view and the panel alike.
 */
export function isRunEvent(v: unknown): v is RunEvent {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const e = v as { type?: unknown; t?: unknown };
  return typeof e.type === 'string' && TYPES.has(e.type) && typeof e.t === 'number';
}

/** Splits `carry + chunk` into complete lines and the unfinished rest. */
export function splitLines(carry: string, chunk: string): { lines: string[]; carry: string } {
  const text = carry + chunk;
  const end = text.lastIndexOf('\n');
  if (end < 0) return { lines: [], carry: text };
  return { lines: text.slice(0, end).split('\n'), carry: text.slice(end + 1) };
}

export function applyEvent(summary: EventsSummary, event: RunEvent): void {
  switch (event.type) {
    case 'step': {
      // A step number that goes back means the engine resumed from an earlier checkpoint: the
      // steps before belong to another process and another speed.
      const last = summary.recentSteps[summary.recentSteps.length - 1];
      if (last && event.step <= last.step) summary.recentSteps.length = 0;
      summary.recentSteps.push({ step: event.step, t: event.t });
      if (summary.recentSteps.length > RECENT_STEPS) summary.recentSteps.shift();
      summary.lastStep = event;
      break;
    }
    case 'eval':
      summary.lastEval = event;
      break;
    case 'checkpoint':
      summary.checkpoints.push(event);
      break;
    case 'status':
      summary.lastStatus = event;
      // Time spent stopped or queued is no training speed.
      if (event.state === 'running') summary.recentSteps.length = 0;
      break;
    case 'log':
      if (event.level === 'error') {
        summary.errors.push(event.message);
        if (summary.errors.length > 5) summary.errors.shift();
      }
      break;
  }
}

/** Feeds chunks of events.jsonl into a summary, holding back a partial last line. */
export class EventsAccumulator {
  private carry = '';
  summary: EventsSummary = emptySummary();

  /** True when the text read so far ends in the middle of a line. */
  get hasPartialLine(): boolean {
    return this.carry.trim() !== '';
  }

  push(chunk: string): void {
    const { lines, carry } = splitLines(this.carry, chunk);
    this.carry = carry;
    for (const line of lines) {
      if (line.trim() === '') continue;
      this.summary.lines++;
      const event = parseEventLine(line);
      if (event) applyEvent(this.summary, event);
      else this.summary.badLines++;
    }
  }

  reset(): void {
    this.carry = '';
    this.summary = emptySummary();
  }
}
