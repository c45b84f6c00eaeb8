import { LOWER_IS_BETTER } from '../shared/config-rules.js';
import type { RunInfo } from '../shared/messages.js';
import type { RunEvent } from '../shared/run-directory.js';

/**
 * A run's events as the charts, logs and tables read them: columns that grow as events arrive
 * (uPlot draws straight from arrays), so appending 1,000 steps costs 1,000 pushes, not a rebuild.
 * No DOM: tested in Node.
 */
export type XAxis = 'step' | 'epoch' | 'relative' | 'wall';
export const X_AXES: readonly XAxis[] = ['step', 'epoch', 'relative', 'wall'];

/** The x columns of a series: one per axis mode. Times are in seconds (uPlot's time unit). */
export interface XColumns {
  step: number[];
  epoch: number[];
  relative: number[];
  wall: number[];
}

export interface LogEntry {
  t: number;
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
}

/** One evaluation's sample generations (a translation or summarization run's `samples` event). */
export interface SampleSet {
  step: number;
  t: number;
  samples: { source: string; reference: string; prediction: string }[];
}

export interface RunData {
  info: RunInfo;
  train: XColumns & { loss: (number | null)[]; lr: (number | null)[]; tokensPerSec: number[] };
  evals: XColumns & { metrics: Map<string, (number | null)[]> };
  logs: LogEntry[];
  /** Sample generations per evaluation, oldest first. */
  samples: SampleSet[];
  checkpoints: number;
  /** The first event's time: the origin of the `relative` axis. */
  t0: number | undefined;
  /** The device the engine reported using ("onnxruntime: using cuda (...)"). */
  device: string | undefined;
  /** Bumped when columns were cut (a resumed run re-running steps): charts start over. */
  generation: number;
}

/** What an append touched, so the panel redraws only that. */
export interface Changes {
  train: boolean;
  evals: boolean;
  logs: boolean;
  info: boolean;
  /** Columns were cut rather than only appended to. */
  reset: boolean;
}

function columns(): XColumns {
  return { step: [], epoch: [], relative: [], wall: [] };
}

export function newRunData(info: RunInfo): RunData {
  return {
    info,
    train: { ...columns(), loss: [], lr: [], tokensPerSec: [] },
    evals: { ...columns(), metrics: new Map() },
    logs: [],
    samples: [],
    checkpoints: 0,
    t0: undefined,
    device: undefined,
    generation: 0,
  };
}

const DEVICE_LINE = /onnxruntime: using (\w+)/;

export function appendEvents(run: RunData, events: readonly RunEvent[]): Changes {
  const changes: Changes = { train: false, evals: false, logs: false, info: false, reset: false };
  for (const e of events) {
    run.t0 ??= e.t;
    switch (e.type) {
      case 'step': {
        const cols = run.train;
        // Steps after a resume repeat the steps since the checkpoint: those replace the old ones.
        if (cols.step.length > 0 && e.step <= (cols.step[cols.step.length - 1] as number)) {
          truncate(run, e.step);
          changes.reset = true;
        }
        pushX(cols, run, e.step, e.epoch, e.t);
        cols.loss.push(Number.isFinite(e.loss) ? e.loss : null);
        cols.lr.push(Number.isFinite(e.lr) ? e.lr : null);
        cols.tokensPerSec.push(e.tokensPerSec);
        changes.train = true;
        break;
      }
      case 'eval': {
        const cols = run.evals;
        if (cols.step.length > 0 && e.step < (cols.step[cols.step.length - 1] as number)) {
          truncate(run, e.step);
          changes.reset = true;
        }
        // An eval event carries no epoch: it is the epoch of the step it follows.
        const epoch = run.train.epoch[run.train.epoch.length - 1] ?? 0;
        const n = cols.step.length;
        pushX(cols, run, e.step, epoch, e.t);
        for (const [name, value] of Object.entries(e.metrics)) {
          let col = cols.metrics.get(name);
          if (!col) {
            col = new Array<number | null>(n).fill(null);
            cols.metrics.set(name, col);
          }
          col.push(Number.isFinite(value) ? value : null);
        }
        for (const col of cols.metrics.values()) if (col.length === n) col.push(null);
        changes.evals = true;
        break;
      }
      case 'log': {
        run.logs.push({ t: e.t, level: e.level, message: e.message });
        const m = DEVICE_LINE.exec(e.message);
        if (m) {
          run.device = m[1];
          changes.info = true;
        }
        changes.logs = true;
        break;
      }
      case 'samples': {
        // A resumed run evaluates the same steps again: its samples replace those from there on.
        const kept = run.samples.filter((s) => s.step < e.step);
        run.samples = [...kept, { step: e.step, t: e.t, samples: e.samples }];
        changes.evals = true;
        break;
      }
      case 'checkpoint':
        run.checkpoints++;
        changes.info = true;
        break;
      case 'status':
        changes.info = true;
        break;
    }
  }
  return changes;
}

function pushX(cols: XColumns, run: RunData, step: number, epoch: number, t: number): void {
  cols.step.push(step);
  cols.epoch.push(epoch);
  cols.wall.push(t / 1000);
  cols.relative.push((t - (run.t0 ?? t)) / 1000);
}

/** Drops every train point at or after `step` and every eval point after it. */
function truncate(run: RunData, step: number): void {
  const cut = <T>(arr: T[], n: number) => {
    arr.length = n;
  };
  const t = run.train;
  const nt = lowerBound(t.step, step);
  for (const arr of [t.step, t.epoch, t.relative, t.wall, t.loss, t.lr, t.tokensPerSec] as unknown[][]) cut(arr, nt);
  const e = run.evals;
  const ne = lowerBound(e.step, step + 1);
  for (const arr of [e.step, e.epoch, e.relative, e.wall, ...e.metrics.values()] as unknown[][]) cut(arr, ne);
  run.samples = run.samples.filter((s) => s.step <= step);
  run.generation++;
}

/** The first index whose value is >= x, in an ascending array. */
function lowerBound(arr: readonly number[], x: number): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((arr[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface RunSummary {
  /** The latest step, from status.json or the events, whichever is further. */
  step: number;
  /** Mean tokens per second over the last steps. */
  tokensPerSec: number | undefined;
  /** Seconds to the last step at the recent pace; undefined when unknown or not running. */
  etaSeconds: number | undefined;
  device: string | undefined;
  progress: number | undefined;
}

const RECENT = 20;

export function summarize(run: RunData, now: number): RunSummary {
  const t = run.train;
  const n = t.step.length;
  const recent = t.tokensPerSec.slice(Math.max(0, n - RECENT)).filter((v) => Number.isFinite(v) && v > 0);
  const tokensPerSec = recent.length > 0 ? recent.reduce((a, b) => a + b, 0) / recent.length : undefined;
  const status = run.info.status;
  const total = status?.totalSteps;
  const step = Math.max(status?.step ?? 0, t.step[n - 1] ?? 0);
  const progress = total ? Math.min(1, step / total) : undefined;
  let etaSeconds: number | undefined;
  const live = status?.state === 'running' || status?.state === 'queued';
  if (live && total && n >= 2) {
    const first = Math.max(0, n - 1 - RECENT);
    const dt = (t.wall[n - 1] as number) - (t.wall[first] as number);
    const ds = (t.step[n - 1] as number) - (t.step[first] as number);
    if (dt > 0 && ds > 0) {
      // The time since the last step counts as spent; a run overdue at its own pace (stalled,
      // or evaluating for long) has no estimate rather than a wrong "0s".
      const since = Math.max(0, now / 1000 - (t.wall[n - 1] as number));
      const eta = ((total - step) * dt) / ds - since;
      if (eta >= 0) etaSeconds = eta;
    }
  }
  const device = run.device ?? configDevice(run.info.config);
  return { step, tokensPerSec, etaSeconds, device, progress };
}

function configDevice(config: unknown): string | undefined {
  const d = (config as { device?: unknown } | undefined)?.device;
  return typeof d === 'string' ? `${d} (configured)` : undefined;
}

export interface MetricSummary {
  best: number | undefined;
  bestStep: number | undefined;
  last: number | undefined;
}

export function metricSummary(run: RunData, name: string): MetricSummary {
  const col = run.evals.metrics.get(name) ?? [];
  const lower = LOWER_IS_BETTER.has(name);
  let best: number | undefined;
  let bestStep: number | undefined;
  let last: number | undefined;
  col.forEach((v, i) => {
    if (v === null) return;
    last = v;
    if (best === undefined || (lower ? v < best : v > best)) {
      best = v;
      bestStep = run.evals.step[i];
    }
  });
  return { best, bestStep, last };
}
