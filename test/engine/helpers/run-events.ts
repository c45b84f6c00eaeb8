import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunEvent } from '../../../src/shared/run-directory.js';

// What a run directory's events.jsonl says, read as the panel reads it. No engine import: the e2e
// scenarios read runs with these too.

/** The events of a run directory; a partial last line (an interrupted append) is left out. */
export function readEvents(runDir: string): RunEvent[] {
  const text = readFileSync(join(runDir, 'events.jsonl'), 'utf8');
  const lines = text.split('\n');
  if (!text.endsWith('\n')) lines.pop(); // partial (or, when empty, nothing)
  return lines.filter(Boolean).map((l) => JSON.parse(l) as RunEvent);
}

/** The metrics of a run's eval events, in order. */
export function evalMetrics(runDir: string): Record<string, number>[] {
  return readEvents(runDir).flatMap((e) => (e.type === 'eval' ? [e.metrics] : []));
}

/** Loss by step as a reader sees it: a step logged again by a resumed run replaces the earlier line. */
export function lossByStep(events: readonly RunEvent[]): Map<number, number> {
  const losses = new Map<number, number>();
  for (const e of events) if (e.type === 'step') losses.set(e.step, e.loss);
  return new Map([...losses].sort(([a], [b]) => a - b));
}
