import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type RunStatus, STOP_REQUEST_FILE } from '../../shared/run-directory.js';
import { shouldPruneTrial } from './pruners.js';
import { type SweepRecord, type TrialRecord, trialDir } from './state.js';
import { evalEvents, type TrialExit } from './trial-process.js';

/**
 * What a sweep learns from a trial's run directory, the same whether the trial is a child of
 * `finetune sweep` or a task of a Slurm job array (which holds the sweep folder's lock meanwhile).
 */

/**
 * Appends the trial's new evaluations of the objective, each followed by the pruner's decision; a
 * pruned trial is saved as pruned before its stop file is written, so a resumed sweep never resumes
 * it. True when the record changed.
 */
export function recordEvaluations(
  sweepDir: string,
  record: SweepRecord,
  t: TrialRecord,
  save: () => void,
  echo: (line: string) => void,
): boolean {
  const metric = record.settings.metric;
  let changed = false;
  for (const e of evalEvents(trialDir(sweepDir, t))) {
    if (t.state !== 'running') break;
    const last = t.intermediate[t.intermediate.length - 1];
    if (last && e.step <= last.step) continue; // logged again by a resumed run
    const value = e.metrics[metric];
    if (value === undefined) continue;
    t.intermediate.push({ step: e.step, value });
    changed = true;
    if (shouldPruneTrial(record, t)) {
      t.state = 'pruned';
      t.endedAt = new Date().toISOString();
      save();
      writeFileSync(join(trialDir(sweepDir, t), STOP_REQUEST_FILE), '');
      echo(`trial ${t.number} pruned at step ${e.step}: ${metric} ${value}`);
    }
  }
  return changed;
}

/**
 * A trial's engine has exited (not pruned, not locked out): `completed` with its objective (the best
 * evaluation), `failed` with the reason, or `stopped` when its engine stopped on a request not the
 * sweep's (the trial stays running, to be resumed).
 */
export function trialOutcome(
  record: SweepRecord,
  t: TrialRecord,
  status: RunStatus | undefined,
  exit: TrialExit,
  echo: (line: string) => void,
): 'completed' | 'failed' | 'stopped' {
  const s = record.settings;
  if (status?.state === 'completed') {
    const values = t.intermediate.map((iv) => iv.value).filter((v) => !Number.isNaN(v));
    if (values.length === 0) return failTrial(t, `no evaluation of ${s.metric}`, echo);
    t.value = s.mode === 'max' ? Math.max(...values) : Math.min(...values);
    t.state = 'completed';
    t.endedAt = new Date().toISOString();
    echo(`trial ${t.number} completed: ${s.metric} ${t.value}`);
    return 'completed';
  }
  if (status?.state === 'stopped') return 'stopped';
  const reason = status?.reason ?? (exit.stderr.trim().split('\n').slice(-3).join(' ') || `exit code ${exit.code}`);
  return failTrial(t, reason, echo);
}

function failTrial(t: TrialRecord, reason: string, echo: (line: string) => void): 'failed' {
  t.state = 'failed';
  t.reason = reason;
  t.endedAt = new Date().toISOString();
  echo(`trial ${t.number} failed: ${reason}`);
  return 'failed';
}
