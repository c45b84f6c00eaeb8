import type { RunState, RunStatus } from '../../shared/run-directory.js';
import type { EventsSummary, StepPoint } from './events.js';

/**
 * Progress arithmetic and the text the Runs view, the status bar and notifications show. No
 * 'vscode' import: unit-tested in plain Node.
 */

/**
 * Milliseconds left, from the speed over the recent step events (the summary keeps only those
 * since the engine last started, so a resume does not count the pause), or undefined when there
 * is not enough to tell.
 */
export function estimateEta(points: readonly StepPoint[], step: number, totalSteps: number): number | undefined {
  if (totalSteps <= 0) return undefined;
  if (step >= totalSteps) return 0;
  const first = points[0];
  const last = points[points.length - 1];
  if (!first || !last || last === first) return undefined;
  const steps = last.step - first.step;
  const ms = last.t - first.t;
  if (steps <= 0 || ms <= 0) return undefined;
  return ((totalSteps - step) * ms) / steps;
}

/** `45s`, `3m 10s`, `1h 05m`, `2d 3h`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** A loss or metric: 3 decimals in the usual range, exponent notation for tiny or huge values. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const a = Math.abs(value);
  if (a !== 0 && (a < 0.001 || a >= 1e6)) return value.toExponential(2);
  if (a >= 100) return value.toFixed(1);
  return value.toFixed(3);
}

export function formatSteps(step: number, totalSteps: number): string {
  return totalSteps > 0 ? `step ${step}/${totalSteps}` : `step ${step}`;
}

/** What a description or the status bar needs of a run. */
export interface RunProgress {
  state: RunState;
  reason?: string;
  status?: RunStatus;
  events: EventsSummary;
  eta?: number;
}

/** The step the run is at: status.json lags behind the events by up to one write. */
export function currentStep(run: RunProgress): number {
  return Math.max(run.status?.step ?? 0, run.events.lastStep?.step ?? 0);
}

/** The last line of a reason: for a crashed run that is the last line of its log. */
export function reasonHeadline(reason: string | undefined, max = 80): string | undefined {
  const lines = (reason ?? '').split('\n').filter((l) => l.trim() !== '');
  const last = lines[lines.length - 1]?.trim();
  if (!last) return undefined;
  return last.length > max ? `${last.slice(0, max - 1)}…` : last;
}

function elapsed(status: RunStatus | undefined): number | undefined {
  if (!status) return undefined;
  const ms = Date.parse(status.updatedAt) - Date.parse(status.startedAt);
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

/** `step 120/900 · loss 0.412 · ETA 3m 10s`, and the equivalent for the other states. */
export function describeRun(run: RunProgress): string {
  const total = run.status?.totalSteps ?? 0;
  const step = currentStep(run);
  const parts: string[] = [];
  switch (run.state) {
    case 'running': {
      if (step === 0 && !run.events.lastStep) return 'starting';
      parts.push(formatSteps(step, total));
      if (run.events.lastStep) parts.push(`loss ${formatNumber(run.events.lastStep.loss)}`);
      if (run.eta !== undefined) parts.push(`ETA ${formatDuration(run.eta)}`);
      break;
    }
    case 'queued':
      parts.push(run.reason === 'starting' ? 'starting' : 'queued');
      break;
    case 'completed': {
      parts.push('completed');
      const best = run.status?.best;
      if (best) parts.push(`${best.metric} ${formatNumber(best.value)}`);
      const ms = elapsed(run.status);
      if (ms !== undefined) parts.push(formatDuration(ms));
      break;
    }
    case 'failed': {
      parts.push(step > 0 ? `failed at step ${step}` : 'failed');
      const why = reasonHeadline(run.reason);
      if (why) parts.push(why);
      break;
    }
    case 'stopped':
      parts.push(`stopped at ${formatSteps(step, total)}`);
      break;
  }
  return parts.join(' · ');
}

/** Percent done, 0..100, for progress notifications. */
export function percentDone(run: RunProgress): number {
  const total = run.status?.totalSteps ?? 0;
  if (total <= 0) return 0;
  return Math.min(100, (100 * currentStep(run)) / total);
}
