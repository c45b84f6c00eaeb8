import { isAbsolute, relative } from 'node:path';
import { overwriteInPlace } from '../io/atomic.js';
import { StorageError, storageError } from '../io/storage-errors.js';
import type { RunDirectory } from './run-dir.js';

/**
 * How a run that fails is recorded, also when the failure is the disk itself. With the disk full,
 * status.json cannot be replaced atomically (the temporary copy needs space), so it is rewritten in
 * place, which needs none; the status event and the log line are attempted each on its own, since
 * an append that fits in the file's last block can still succeed. No attempt may throw over the
 * reason.
 */

/** The reason a failed run gives: for a storage failure, the file, and how to continue. */
export function failureReason(error: unknown, run: RunDirectory): string {
  const path = (error as { path?: unknown } | null)?.path;
  const mapped = storageError(error, typeof path === 'string' ? path : run.path);
  if (!(mapped instanceof StorageError)) return error instanceof Error ? error.message : String(error);
  const inRun = relative(run.path, mapped.file);
  const file = inRun === '' ? run.path : inRun.startsWith('..') || isAbsolute(inRun) ? mapped.file : inRun;
  let last: number | undefined;
  try {
    last = run.checkpointSteps().at(-1);
  } catch {
    // The folder cannot be listed either (an I/O error): say nothing about checkpoints.
  }
  const fix = ['ENOSPC', 'EDQUOT'].includes(mapped.code) ? 'free some space' : 'fix or replace the disk';
  const next =
    last === undefined
      ? `No checkpoint was saved before it: ${fix}, then start the run again.`
      : `The last complete checkpoint is checkpoints/step-${last}: ${fix}, then \`finetune resume ${run.path}\` continues from it.`;
  return `${mapped.at(file).message} (${mapped.code}). ${next}`;
}

/** Records `failed` with `reason`: status.json first (what readers go by), then the event and the log. */
export function recordFailure(run: RunDirectory, reason: string): void {
  try {
    run.updateStatus({ state: 'failed', reason });
  } catch {
    const status = { ...run.current, state: 'failed', reason, updatedAt: new Date().toISOString() };
    try {
      overwriteInPlace(run.file('status.json'), `${JSON.stringify(status, null, 2)}\n`);
    } catch {
      // Nothing more can be written; the caller still reports the reason.
    }
  }
  attempt(() => run.event({ type: 'status', state: 'failed', reason }));
  attempt(() => run.log('error', reason));
}

function attempt(write: () => void): void {
  try {
    write();
  } catch {
    // Best effort: see recordFailure.
  }
}
