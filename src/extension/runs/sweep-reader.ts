import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { SweepInfo } from '../../shared/messages.js';
import {
  finishedTrials,
  parseSweepRecord,
  SWEEP_CONFIG_FILE,
  SWEEP_FILE,
  type SweepRecord,
  sourceConfigOf,
  TRIALS_FOLDER,
} from '../../shared/sweep-record.js';
import { formatNumber } from './progress.js';
import { listRunDirs, readRunFile } from './run-reader.js';

/**
 * Reads sweep folders (`<output_dir>/<config>-sweep-<stamp>/`, README "Sweeps") for the Runs view
 * and the panel: sweep.json through the shared checked reader, with the effective state (a sweep
 * whose process is gone while its record says running was killed: it shows as stopped, and
 * resumes with `finetune sweep --resume`), and the config file it was started from. Bounded reads,
 * as for run files. No 'vscode' import: unit-tested in Node.
 */
export function isSweepDir(dir: string): boolean {
  return existsSync(join(dir, SWEEP_FILE));
}

/** The sweep folders in a runs folder. */
export async function listSweepDirs(root: string): Promise<string[]> {
  let names: string[];
  try {
    names = (await readdir(root, { withFileTypes: true }))
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => e.name);
  } catch {
    return [];
  }
  return names.map((n) => join(root, n)).filter(isSweepDir);
}

/** The trials' run directories of a sweep (`trials/<n>/`). */
export function listTrialDirs(sweepDir: string): Promise<string[]> {
  return listRunDirs(join(sweepDir, TRIALS_FOLDER));
}

export function trialsFolder(sweepDir: string): string {
  return join(sweepDir, TRIALS_FOLDER);
}

export async function readSweepInfo(dir: string, isAlive: (pid: number) => boolean): Promise<SweepInfo> {
  const info: SweepInfo = { id: basename(dir), dir };
  let record: SweepRecord | string;
  try {
    record = parseSweepRecord(await readRunFile(join(dir, SWEEP_FILE)), SWEEP_FILE);
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    if (!missing) info.error = `${SWEEP_FILE}: ${(err as Error).message}`;
    return info;
  }
  if (typeof record === 'string') {
    info.error = record;
    return info;
  }
  info.record = record;
  info.state = record.state;
  if (record.reason !== undefined) info.reason = record.reason;
  if (record.state === 'running' && !isAlive(record.pid)) {
    info.state = 'stopped';
    info.reason = `The sweep's process (pid ${record.pid}) is gone; continue it with: finetune sweep --resume ${dir}`;
  }
  const source = await sourceConfig(dir, record);
  if (source) info.sourceFile = source;
  return info;
}

/** The config file the sweep was started from, when it still exists. */
export async function sourceConfig(dir: string, record: SweepRecord): Promise<string | undefined> {
  const header = record.source ? undefined : await readRunFile(join(dir, SWEEP_CONFIG_FILE)).catch(() => undefined);
  const source = sourceConfigOf(record, header);
  return source && existsSync(source) ? source : undefined;
}

/** The Runs view's description of a sweep: `running · 3/6 trials · best accuracy 0.912`. */
export function describeSweep(info: SweepInfo): string {
  const record = info.record;
  if (!record) return info.error ?? 'waiting for sweep.json';
  const parts = [info.state ?? record.state, `${finishedTrials(record)}/${record.settings.max_trials} trials`];
  if (record.best) parts.push(`best ${record.settings.metric} ${formatNumber(record.best.value)}`);
  return parts.join(' · ');
}
