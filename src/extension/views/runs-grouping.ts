import { join } from 'node:path';
import type { TrialRecord } from '../../shared/sweep-record.js';
import type { SweepSnapshot } from '../runs/sweep-tracker.js';

/**
 * How the Runs view arranges runs and sweeps: at the top, the runs that are no sweep's trials and
 * the sweeps, newest first; under a sweep, its trials by trial number. No 'vscode' import.
 */
interface Started {
  dir: string;
  startedAt: number;
}

export type TopLevel = { kind: 'run' | 'sweep'; dir: string };

export function topLevel(
  runs: readonly Started[],
  sweeps: readonly Started[],
  sweepOf: (runDir: string) => SweepSnapshot | undefined,
): TopLevel[] {
  const items = [
    ...runs.filter((r) => !sweepOf(r.dir)).map((r) => ({ kind: 'run' as const, dir: r.dir, startedAt: r.startedAt })),
    ...sweeps.map((s) => ({ kind: 'sweep' as const, dir: s.dir, startedAt: s.startedAt })),
  ];
  return items.sort((a, b) => b.startedAt - a.startedAt).map(({ kind, dir }) => ({ kind, dir }));
}

/** The trial of a sweep that a run directory is, by its `dir` in sweep.json. */
export function trialOf(sweep: SweepSnapshot, runDir: string): TrialRecord | undefined {
  return sweep.record?.trials.find((t) => join(sweep.dir, t.dir) === runDir);
}

/** The sweep's trials among `runs`, by trial number (folders sweep.json does not list yet last, by name). */
export function trialsOf<R extends { dir: string }>(
  runs: readonly R[],
  sweep: SweepSnapshot,
  sweepOf: (runDir: string) => SweepSnapshot | undefined,
): R[] {
  return runs
    .filter((r) => sweepOf(r.dir)?.dir === sweep.dir)
    .map((r) => ({ r, n: trialOf(sweep, r.dir)?.number ?? Number.MAX_SAFE_INTEGER }))
    .sort((a, b) => a.n - b.n || a.r.dir.localeCompare(b.r.dir))
    .map(({ r }) => r);
}
