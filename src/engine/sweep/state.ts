import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  bestTrial,
  parseSweepRecord,
  SWEEP_FILE,
  type SweepRecord,
  type TrialRecord,
} from '../../shared/sweep-record.js';
import { writeTextAtomic } from '../io/atomic.js';

/**
 * Reading and writing `sweep.json` (its shape: src/shared/sweep-record.ts, shared with the Runs
 * view and the panel). Only the sweep process writes it, always through writeTextAtomic, so a kill
 * at any moment leaves the previous or the next version whole; everything a resumed sweep needs to
 * continue exactly is in it (the samplers draw from the seed and the trial number, not from a stream).
 */
export {
  bestTrial,
  type Intermediate,
  SWEEP_CONFIG_FILE,
  SWEEP_FILE,
  type SweepRecord,
  type SweepState,
  TRIALS_FOLDER,
  type TrialRecord,
  type TrialState,
} from '../../shared/sweep-record.js';

export function trialDir(sweepDir: string, t: TrialRecord): string {
  return join(sweepDir, t.dir);
}

export function readSweep(sweepDir: string): SweepRecord {
  const file = join(sweepDir, SWEEP_FILE);
  if (!existsSync(file)) throw new Error(`${sweepDir} is not a sweep folder: ${SWEEP_FILE} is missing`);
  const record = parseSweepRecord(readFileSync(file, 'utf8'), file);
  if (typeof record === 'string') throw new Error(record);
  return record;
}

export function writeSweep(sweepDir: string, record: SweepRecord): void {
  record.updatedAt = new Date().toISOString();
  const best = bestTrial(record);
  if (best) record.best = best;
  writeTextAtomic(join(sweepDir, SWEEP_FILE), `${JSON.stringify(record, null, 2)}\n`);
}
