import { open, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parseConfigText, toValue } from '../../shared/config-tree.js';
import { formatBytes, formatOver, MAX_RUN_FILE_BYTES } from '../../shared/limits.js';
import { isDistillationReport } from '../../shared/message-guards.js';
import type { FinalMetrics, JsonValue, RunInfo } from '../../shared/messages.js';
import {
  DISTILLATION_REPORT_FILE,
  RUN_FILES,
  type RunJob,
  type RunState,
  type RunStatus,
  STOP_REQUEST_FILE,
} from '../../shared/run-directory.js';
import { runIdTime } from '../../shared/run-id.js';
import { SWEEP_FILE } from '../../shared/sweep-record.js';
import { type PretrainingTask, pretrainingTaskOf } from '../configs/from-run.js';
import { EventsAccumulator } from './events.js';
import { FileTail, lastLines } from './file-tail.js';
import { estimateEta, type RunProgress } from './progress.js';
import { effectiveState, RUN_STATES } from './run-state.js';

/**
 * Reads run directories (DESIGN.md, "Run directory"), for the runs view (RunReader: a snapshot
 * with the effective state, progress and ETA) and for the run panel (readRunInfo: status, config
 * and final metrics; panel/run-follower.ts follows the events). Everything may be missing or
 * half-written: a run that has just been created, a folder copied from another machine, an
 * engine killed mid-write. Nothing here needs the engine's process. No 'vscode' import:
 * unit-tested in plain Node.
 */
export interface RunSnapshot extends RunProgress {
  id: string;
  dir: string;
  statusError?: string;
  died: boolean;
  /** Start time in ms, for sorting newest first. */
  startedAt: number;
  /** When a stop was requested (mtime of the stop-request file). */
  stopRequestedAt?: number;
  /** A completed run's pre-training task (config.yaml: masked-lm, or causal-lm on plain text). */
  pretraining?: PretrainingTask;
}

const LOG_LINES_ON_DEATH = 8;
const STATE_SET = new Set<string>(RUN_STATES);

/** status.json's object, or a message saying what is wrong with it. */
export function parseStatus(text: string): RunStatus | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return `status.json is not valid JSON (${(err as Error).message}).`;
  }
  if (value === null || typeof value !== 'object') return 'status.json is not a JSON object.';
  const v = value as Record<string, unknown>;
  if (typeof v.state !== 'string' || !STATE_SET.has(v.state))
    return `status.json has state ${JSON.stringify(v.state)}, expected one of ${RUN_STATES.join(', ')}.`;
  const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : 0);
  const status: RunStatus = {
    state: v.state as RunState,
    pid: num(v.pid),
    startedAt: typeof v.startedAt === 'string' ? v.startedAt : '',
    updatedAt: typeof v.updatedAt === 'string' ? v.updatedAt : '',
    step: num(v.step),
    totalSteps: num(v.totalSteps),
    epoch: num(v.epoch),
  };
  const best = v.best as RunStatus['best'] | undefined;
  if (best && typeof best.metric === 'string' && typeof best.value === 'number') status.best = best;
  if (typeof v.reason === 'string') status.reason = v.reason;
  const job = v.job as Partial<RunJob> | undefined;
  if (job && job.scheduler === 'slurm' && typeof job.id === 'string') {
    status.job = { scheduler: 'slurm', id: job.id };
    if (typeof job.host === 'string') status.job.host = job.host;
    if (typeof job.schedulerState === 'string') status.job.schedulerState = job.schedulerState;
    if (typeof job.exitCode === 'number') status.job.exitCode = job.exitCode;
  }
  return status;
}

/**
 * A run's status.json: `status` when it parses, `error` saying what is wrong when it exists but
 * does not; neither while it is missing (not written yet).
 */
export async function readStatusFile(dir: string): Promise<{ status?: RunStatus; error?: string }> {
  let text: string;
  try {
    text = await readRunFile(join(dir, RUN_FILES.status));
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? {} : { error: `status.json: ${(err as Error).message}` };
  }
  const parsed = parseStatus(text);
  return typeof parsed === 'string' ? { error: parsed } : { status: parsed };
}

export interface ReaderDeps {
  isAlive(pid: number): boolean;
}

/** Reads one run directory, keeping its place in events.jsonl between reads. */
export class RunReader {
  private readonly events: FileTail;
  private readonly acc = new EventsAccumulator();
  /** Read once the run has completed: its config.yaml does not change after that. */
  private pretraining: PretrainingTask | null | undefined;

  constructor(
    readonly dir: string,
    private readonly deps: ReaderDeps,
  ) {
    this.events = new FileTail(join(dir, RUN_FILES.events));
  }

  get id(): string {
    return basename(this.dir);
  }

  /** `launchedPid`: the engine this window spawned for the run, before its status.json exists. */
  async read(launchedPid?: number): Promise<RunSnapshot> {
    const { status, error: statusError } = await readStatusFile(this.dir);
    const chunk = await this.events.read();
    if (chunk.restarted) this.acc.reset();
    this.acc.push(chunk.text);
    const summary = this.acc.summary;

    const isAlive = (pid: number) => this.deps.isAlive(pid);
    // Right after a resume, status.json is still the previous attempt's until the new engine
    // (another pid) rewrites it: until then the state comes from the launched process.
    const current = launchedPid === undefined || status?.pid === launchedPid ? status : undefined;
    const input = { status: current, statusError, isAlive, launchedPid, logTail: [] as string[] };
    let eff = effectiveState(input);
    // Only a run that died needs its log: don't read it for every change of a live run.
    if (eff.died || !current) {
      input.logTail = await lastLines(join(this.dir, RUN_FILES.log), LOG_LINES_ON_DEATH);
      eff = effectiveState(input);
    }

    const step = Math.max(status?.step ?? 0, summary.lastStep?.step ?? 0);
    const eta = eff.state === 'running' ? estimateEta(summary.recentSteps, step, status?.totalSteps ?? 0) : undefined;
    const snapshot: RunSnapshot = {
      id: this.id,
      dir: this.dir,
      state: eff.state,
      died: eff.died,
      events: summary,
      startedAt: await this.startTime(status),
    };
    if (eff.reason !== undefined) snapshot.reason = eff.reason;
    if (status) snapshot.status = status;
    if (statusError !== undefined) snapshot.statusError = statusError;
    if (eta !== undefined) snapshot.eta = eta;
    const stopAt = await mtime(join(this.dir, STOP_REQUEST_FILE));
    if (stopAt !== undefined) snapshot.stopRequestedAt = stopAt;
    if (eff.state === 'completed') {
      if (this.pretraining === undefined) this.pretraining = pretrainingTaskOf(await readRunConfig(this.dir)) ?? null;
      if (this.pretraining) snapshot.pretraining = this.pretraining;
    }
    return snapshot;
  }

  private async startTime(status: RunStatus | undefined): Promise<number> {
    const fromStatus = status ? Date.parse(status.startedAt) : Number.NaN;
    if (Number.isFinite(fromStatus)) return fromStatus;
    return runIdTime(this.id) ?? (await mtime(this.dir)) ?? 0;
  }
}

async function mtime(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).mtimeMs;
  } catch {
    return undefined;
  }
}

const RUN_MARKERS = new Set<string>([RUN_FILES.status, RUN_FILES.events, RUN_FILES.log, RUN_FILES.config]);

/**
 * The run directories in a runs folder: sub-folders holding at least one of the run files, and not
 * sweep folders (they hold a config.yaml too; sweep-reader.ts lists them).
 */
export async function listRunDirs(root: string): Promise<string[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch {
    return [];
  }
  const dirs = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => join(root, e.name));
  const checks = await Promise.all(
    dirs.map(async (dir) => {
      try {
        const names = await readdir(dir);
        return !names.includes(SWEEP_FILE) && names.some((name) => RUN_MARKERS.has(name));
      } catch {
        return false;
      }
    }),
  );
  return dirs.filter((_, i) => checks[i]);
}

/** `checkpoints/step-<N>` folders, by step; temporary folders of a checkpoint being written are skipped. */
export async function listCheckpoints(dir: string): Promise<{ step: number; path: string }[]> {
  const root = join(dir, RUN_FILES.checkpoints);
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    return [];
  }
  return names
    .flatMap((name) => {
      const m = /^step-(\d+)$/.exec(name);
      return m ? [{ step: Number(m[1]), path: join(root, name) }] : [];
    })
    .sort((a, b) => a.step - b.step);
}

/** The files of `final/` (the exported model), sorted; [] when the run exported nothing. */
export async function listFinal(dir: string): Promise<string[]> {
  try {
    return (await readdir(join(dir, RUN_FILES.final))).filter((n) => !n.startsWith('.')).sort();
  } catch {
    return [];
  }
}

/**
 * A run file's text, refused over MAX_RUN_FILE_BYTES: run folders are read in the extension host,
 * in untrusted workspaces too, so a huge file there must not be loaded whole.
 */
export async function readRunFile(path: string): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size > MAX_RUN_FILE_BYTES)
      throw new Error(
        `the file is ${formatOver(size, MAX_RUN_FILE_BYTES)}, more than the ${formatBytes(MAX_RUN_FILE_BYTES)} a run file may have`,
      );
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * config.yaml parsed, whatever its value; undefined when missing, unreadable, not YAML, or over a
 * bound of the config parser (aliases, nesting: it is the validator's bounded parse, not toJS).
 */
async function readConfigValue(dir: string): Promise<unknown> {
  try {
    const parsed = parseConfigText(await readRunFile(join(dir, RUN_FILES.config)), 'yaml');
    if (parsed.syntax.some((d) => d.severity === 'error')) return undefined;
    return toValue(parsed.root) ?? null;
  } catch {
    return undefined;
  }
}

/** The run's resolved config (config.yaml), or undefined when missing, unreadable or not a mapping. */
export async function readRunConfig(dir: string): Promise<Record<string, unknown> | undefined> {
  const value = await readConfigValue(dir);
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** `final/metrics.json`, relative to the run directory. */
export const FINAL_METRICS = `${RUN_FILES.final}/metrics.json`;

/**
 * What the run panel shows of a run besides its events: status, config and final metrics, each
 * left out while missing or unreadable (a config that does not parse shows no hyperparameters;
 * the run itself still shows).
 */
export async function readRunInfo(dir: string): Promise<RunInfo> {
  const info: RunInfo = { id: basename(dir), dir };
  const { status } = await readStatusFile(dir);
  if (status) info.status = status;
  const config = await readConfigValue(dir);
  if (config !== undefined) info.config = config as JsonValue;
  const metrics = await readJson(join(dir, FINAL_METRICS));
  if (metrics && typeof metrics === 'object' && !Array.isArray(metrics)) info.finalMetrics = metrics as FinalMetrics;
  const distillation = await readJson(join(dir, RUN_FILES.final, DISTILLATION_REPORT_FILE));
  if (isDistillationReport(distillation)) info.distillation = distillation;
  return info;
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readRunFile(path));
  } catch {
    return undefined;
  }
}

const HIGHLIGHTS: readonly [label: string, path: string][] = [
  ['model', 'model'],
  ['task', 'task'],
  ['method', 'training.method'],
  ['epochs', 'training.epochs'],
  ['batch size', 'training.batch_size'],
  ['learning rate', 'training.learning_rate'],
  ['scheduler', 'training.scheduler'],
  ['max length', 'data.max_length'],
  ['LoRA r', 'training.lora.r'],
  ['device', 'device'],
];

/** The key settings of a run for its tooltip, as `[label, value]`, skipping those not set. */
export function configHighlights(config: Record<string, unknown> | undefined): [string, string][] {
  if (!config) return [];
  const out: [string, string][] = [];
  for (const [label, path] of HIGHLIGHTS) {
    let v: unknown = config;
    for (const key of path.split('.'))
      v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
    if (v === undefined || v === null || typeof v === 'object') continue;
    // Learning rates as people write them: 2e-5, not 0.00002.
    out.push([label, typeof v === 'number' && v !== 0 && Math.abs(v) < 1e-3 ? v.toExponential() : String(v)]);
  }
  return out;
}
