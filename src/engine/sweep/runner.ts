import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import type { ParameterValue } from '../../shared/config-sweep.js';
import { toValue } from '../../shared/config-tree.js';
import { formatOf, parseConfigText } from '../../shared/config-validate.js';
import { MAX_CONFIG_BYTES } from '../../shared/limits.js';
import { createRunDirectory } from '../../shared/node/run-claims.js';
import { RUN_FILES, STOP_REQUEST_FILE } from '../../shared/run-directory.js';
import { configName } from '../../shared/run-id.js';
import { LOCKED_EXIT_CODE } from '../../shared/run-lock.js';
import { writeTextAtomic } from '../io/atomic.js';
import { absolutePaths, loadConfig } from '../train/finetune.js';
import { acquireRunLock } from '../train/run-lock.js';
import { readTextBounded } from '../util/bounded-read.js';
import { suggest } from './samplers.js';
import { withValue } from './space.js';
import {
  readSweep,
  SWEEP_CONFIG_FILE,
  type SweepRecord,
  TRIALS_FOLDER,
  type TrialRecord,
  trialDir,
  writeSweep,
} from './state.js';
import { recordEvaluations, trialOutcome } from './trial-outcome.js';
import { cliLauncher, runStatus, type TrialExit, type TrialLauncher, watchExit } from './trial-process.js';

/**
 * `finetune sweep`: runs the trials of a config's `sweep:` block, `parallel` at a time, each an
 * engine run in `<sweep>/trials/<n>/`, prunes bad ones from their evaluations through the stop file,
 * and keeps sweep.json current. A killed sweep resumes with `resumeSweep`: finished trials are kept,
 * an interrupted one is resumed from its checkpoint (`finetune resume`), and the next trials are
 * the ones an uninterrupted sweep would have drawn.
 */
export interface SweepOptions {
  launch?: TrialLauncher;
  /** Passed on to every trial's engine (`--device cpu`, `--threads 1`). */
  engineArgs?: readonly string[];
  echo?: (line: string) => void;
  /** How often running trials' run directories are read, in ms. */
  pollMs?: number;
}

export async function startSweep(configPath: string, sweepDirPath: string | undefined, o: SweepOptions = {}) {
  const { sweepDir, raw, record } = createSweep(configPath, sweepDirPath);
  return drive(sweepDir, raw, record, o);
}

/** A new sweep's folder, its config (paths absolute) and its first record, not yet written. */
export function createSweep(configPath: string, sweepDirPath: string | undefined) {
  const config = loadConfig(configPath);
  if (!config.sweep) throw new Error(`${configPath} has no sweep: block (see 'finetune sweep --help')`);
  const raw = readRawConfig(configPath);
  const sweepDir = sweepDirPath
    ? resolve(sweepDirPath)
    : createRunDirectory(resolve(config.output_dir), `${configName(configPath)}-sweep.finetune.yaml`);
  mkdirSync(sweepDir, { recursive: true });
  writeTextAtomic(join(sweepDir, SWEEP_CONFIG_FILE), `# resolved from ${resolve(configPath)}\n${stringify(raw)}`);
  const now = new Date().toISOString();
  const record: SweepRecord = {
    version: 1,
    state: 'running',
    pid: process.pid,
    startedAt: now,
    updatedAt: now,
    source: resolve(configPath),
    settings: config.sweep,
    trials: [],
  };
  return { sweepDir, raw, record };
}

export async function resumeSweep(sweepDirPath: string, o: SweepOptions = {}) {
  const sweepDir = resolve(sweepDirPath);
  const record = readSweep(sweepDir);
  const configFile = join(sweepDir, SWEEP_CONFIG_FILE);
  const config = loadConfig(configFile);
  if (!config.sweep) throw new Error(`${configFile} has no sweep: block`);
  record.state = 'running';
  delete record.reason;
  record.pid = process.pid;
  record.settings = config.sweep;
  return drive(sweepDir, readRawConfig(configFile), record, o, true);
}

/** The engine command of a trial: `resume` once it has started, else `train` on its config (written here). */
export function trialArgs(sweepDir: string, raw: Record<string, unknown>, t: TrialRecord, started: boolean): string[] {
  const dir = trialDir(sweepDir, t);
  if (started) return ['resume', dir];
  mkdirSync(dir, { recursive: true });
  const file = join(dir, RUN_FILES.config);
  writeTextAtomic(file, `# trial ${t.number} of the sweep ${sweepDir}\n${stringify(trialConfig(raw, t.params))}`);
  return ['train', file, '--run-dir', dir];
}

/** The config as written (defaults not filled in, so a trial's values never clash with one), paths absolute. */
export function readRawConfig(path: string): Record<string, unknown> {
  const text = readTextBounded(path, MAX_CONFIG_BYTES, 'a config file');
  const raw = toValue(parseConfigText(text, formatOf(path)).root) as Record<string, unknown> & {
    model: string;
    data: { train: string; validation?: string };
  };
  return absolutePaths(raw, dirname(resolve(path)));
}

/** A trial's config: the sweep's without its sweep block, with the trial's values at their keys. */
export function trialConfig(raw: Record<string, unknown>, params: Record<string, ParameterValue>) {
  const { sweep: _sweep, ...base } = raw;
  let out: Record<string, unknown> = base;
  for (const [key, value] of Object.entries(params)) out = withValue(out, key, value);
  return out;
}

interface Active {
  trial: TrialRecord;
  exit: Promise<TrialExit> | undefined;
  ended?: TrialExit;
}

async function drive(
  sweepDir: string,
  raw: Record<string, unknown>,
  record: SweepRecord,
  o: SweepOptions,
  resuming = false,
): Promise<{ sweepDir: string; record: SweepRecord }> {
  const s = record.settings;
  const echo = o.echo ?? (() => {});
  const launch = o.launch ?? cliLauncher;
  const pollMs = o.pollMs ?? 250;
  const lock = acquireRunLock(sweepDir, 'train');
  if (resuming) clearStopRequests(sweepDir, record);
  const onExit = () => lock.release();
  process.once('exit', onExit);
  let signalled = false;
  const onSignal = () => {
    signalled = true;
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const started = Date.now();
  const active = new Map<number, Active>();
  let stopping = false;
  const save = () => writeSweep(sweepDir, record);

  const launchTrial = (t: TrialRecord) => {
    const dir = trialDir(sweepDir, t);
    const status = runStatus(dir);
    if (status?.state === 'completed') {
      // Finished while no sweep watched it (killed between the run's end and sweep.json).
      active.set(t.number, { trial: t, exit: undefined, ended: { code: 0, stderr: '' } });
      return;
    }
    const child = launch([...trialArgs(sweepDir, raw, t, status !== undefined), ...(o.engineArgs ?? [])]);
    const a: Active = { trial: t, exit: watchExit(child) };
    void a.exit?.then((e) => {
      a.ended = e;
    });
    active.set(t.number, a);
  };

  /** The trial's new evaluations, each followed by the pruner's decision; true when sweep.json changed. */
  const readEvaluations = (t: TrialRecord): boolean => recordEvaluations(sweepDir, record, t, save, echo);

  /** A trial's engine has exited: its final state, or back to waiting when another engine owns it. */
  const ended = (a: Active, exit: TrialExit) => {
    const t = a.trial;
    readEvaluations(t);
    active.delete(t.number);
    if (t.state === 'pruned') return;
    const dir = trialDir(sweepDir, t);
    const status = runStatus(dir);
    if (exit.code === LOCKED_EXIT_CODE) {
      echo(`trial ${t.number}: another engine owns ${dir}; waiting for it`);
      waiting.add(t.number);
      return;
    }
    const outcome = trialOutcome(record, t, status, exit, echo);
    if (outcome === 'stopped') {
      // Stopped by a request not ours: the whole sweep stops, and the trial resumes with it.
      if (!stopping) echo(`trial ${t.number} was stopped: stopping the sweep`);
      stopping = true;
    }
  };

  const waiting = new Set<number>();
  try {
    save();
    for (const t of record.trials) if (t.state === 'running') launchTrial(t);
    for (;;) {
      if (!stopping && (signalled || existsSync(join(sweepDir, STOP_REQUEST_FILE)))) {
        stopping = true;
        echo('stop requested: stopping the running trials at their next step');
      }
      if (stopping) for (const a of active.values()) stopTrial(sweepDir, a.trial);
      const timedOut = s.timeout !== undefined && Date.now() - started > s.timeout * 1000;
      while (!stopping && !timedOut && active.size + waiting.size < s.parallel && record.trials.length < s.max_trials) {
        const n = record.trials.length;
        const params = suggest(s, n, record.trials);
        const t: TrialRecord = {
          number: n,
          state: 'running',
          params,
          dir: `${TRIALS_FOLDER}/${n}`,
          intermediate: [],
          rungs: [],
          startedAt: new Date().toISOString(),
        };
        record.trials.push(t);
        save();
        echo(
          `trial ${n} started: ${Object.entries(params)
            .map(([k, v]) => `${k}=${v}`)
            .join(', ')}`,
        );
        launchTrial(t);
      }
      if (active.size === 0 && waiting.size === 0) break;
      // Wake at a trial's exit or the next poll, whichever comes first (at once when one has exited).
      const running = [...active.values()].filter((a) => !a.ended && a.exit);
      if (running.length === active.size) await Promise.race([...running.map((a) => a.exit), sleep(pollMs)]);
      let changed = false;
      for (const a of [...active.values()]) {
        if (a.ended) {
          ended(a, a.ended);
          changed = true;
        } else changed = readEvaluations(a.trial) || changed;
      }
      for (const n of [...waiting]) {
        const t = record.trials[n] as TrialRecord;
        if (existsSync(join(trialDir(sweepDir, t), RUN_FILES.lock))) continue;
        waiting.delete(n);
        launchTrial(t);
      }
      if (changed) save();
    }
    const timedOut = s.timeout !== undefined && Date.now() - started > s.timeout * 1000;
    record.state = stopping ? 'stopped' : 'completed';
    if (!stopping && timedOut && record.trials.length < s.max_trials)
      record.reason = `timeout: no trial started after ${s.timeout} s`;
    save();
    return { sweepDir, record };
  } catch (err) {
    record.state = 'failed';
    record.reason = (err as Error).message;
    save();
    throw err;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    process.off('exit', onExit);
    lock.release();
  }
}

/**
 * A sweep stopped by its stop file leaves it, and the stop files it wrote for its running trials,
 * in place (the engines honour them; nothing removes them): left there they would stop the resumed
 * sweep and its trials at their first step. Resuming is the request to go on, so they go, once the
 * sweep's lock is held (a sweep still stopping keeps its requests). A pruned trial keeps its own.
 */
function clearStopRequests(sweepDir: string, record: SweepRecord): void {
  rmSync(join(sweepDir, STOP_REQUEST_FILE), { force: true });
  for (const t of record.trials)
    if (t.state === 'running') rmSync(join(trialDir(sweepDir, t), STOP_REQUEST_FILE), { force: true });
}

function stopTrial(sweepDir: string, t: TrialRecord): void {
  const file = join(trialDir(sweepDir, t), STOP_REQUEST_FILE);
  if (existsSync(trialDir(sweepDir, t)) && !existsSync(file)) writeFileSync(file, '');
}
