import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { type FSWatcher, watch } from 'chokidar';
import { parse as parseYaml } from 'yaml';
import type { FinalMetrics, JsonValue, RunInfo } from '../../shared/messages.js';
import { RUN_FILES, type RunEvent } from '../../shared/run-directory.js';
import { isRunOf } from '../../shared/run-id.js';
import { isRunEvent } from '../runs/events.js';
import { parseStatus } from '../runs/run-reader.js';
import { JsonlTail } from './jsonl-tail.js';

/**
 * Follows one run directory for the panel: what the run is (status.json, config.yaml,
 * final/metrics.json) and what it did (events.jsonl, read incrementally). Nothing here needs the
 * engine's process: a run started from the CLI, before a reload or on another machine reads the
 * same (DESIGN.md, "Run directory"). No 'vscode' import, so it is tested in Node.
 *
 * Changes arrive from chokidar; a slow poll backs it up while the run is live, since file-change
 * notifications are unreliable on network and container file systems.
 */
export interface RunListener {
  /** New events; `reset` means events.jsonl was rewritten and these are all of its events. */
  events(runId: string, events: RunEvent[], reset: boolean): void;
  /** status.json, config.yaml or final/metrics.json changed. */
  info(info: RunInfo): void;
}

const POLL_MS = 2000;
const INFO_MS = 250;
const FINAL_METRICS = `${RUN_FILES.final}/metrics.json`;

export class RunFollower {
  readonly id: string;
  private readonly tail: JsonlTail<RunEvent>;
  private watcher: FSWatcher | undefined;
  private poll: ReturnType<typeof setInterval> | undefined;
  private reading: Promise<void> | undefined;
  private infoTimer: ReturnType<typeof setTimeout> | undefined;
  private again = false;
  private current: RunInfo;
  private disposed = false;

  constructor(
    readonly dir: string,
    private readonly listener: RunListener,
  ) {
    this.id = basename(dir);
    this.tail = new JsonlTail<RunEvent>(join(dir, RUN_FILES.events));
    this.current = { id: this.id, dir };
  }

  get info(): RunInfo {
    return this.current;
  }

  /** Reads everything there is so far; call once before start(). */
  async load(): Promise<{ info: RunInfo; events: RunEvent[] }> {
    this.current = await readRunInfo(this.dir);
    const { values } = await this.tail.read();
    return { info: this.current, events: values.filter(isRunEvent) };
  }

  /** Starts following changes, reported to the listener. */
  start(): void {
    if (this.disposed || this.watcher) return;
    this.watcher = watch(this.dir, { ignoreInitial: true, depth: 1 });
    this.watcher.on('all', (_event, path) => {
      const rel = path.slice(this.dir.length + 1).replaceAll('\\', '/');
      if (rel === RUN_FILES.events) this.readEvents();
      else if (rel === RUN_FILES.status || rel === RUN_FILES.config || rel === FINAL_METRICS) this.scheduleInfo();
    });
    this.watcher.on('error', () => {
      // A watcher error (e.g. the folder was deleted) leaves the poll, which reads what is left.
    });
    this.poll = setInterval(() => {
      const state = this.current.status?.state;
      if (state === undefined || state === 'queued' || state === 'running') {
        this.readEvents();
        this.scheduleInfo();
      }
    }, POLL_MS);
  }

  dispose(): void {
    this.disposed = true;
    if (this.poll) clearInterval(this.poll);
    clearTimeout(this.infoTimer);
    void this.watcher?.close();
    this.watcher = undefined;
  }

  /** Serialised: a change during a read triggers one more read after it, never two at once. */
  private readEvents(): void {
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = (async () => {
      do {
        this.again = false;
        const { values, reset } = await this.tail.read().catch(() => ({ values: [], reset: false }));
        const events = values.filter(isRunEvent);
        if (!this.disposed && (events.length > 0 || reset)) this.listener.events(this.id, events, reset);
      } while (this.again && !this.disposed);
      this.reading = undefined;
    })();
  }

  /**
   * The engine rewrites status.json at every step: re-reading it at most every INFO_MS keeps a
   * fast run from costing a read and a message per step (the step events carry the progress).
   */
  private scheduleInfo(): void {
    if (this.infoTimer !== undefined || this.disposed) return;
    this.infoTimer = setTimeout(() => {
      this.infoTimer = undefined;
      void this.refreshInfo();
    }, INFO_MS);
  }

  private async refreshInfo(): Promise<void> {
    const info = await readRunInfo(this.dir);
    if (this.disposed || JSON.stringify(info) === JSON.stringify(this.current)) return;
    this.current = info;
    this.listener.info(info);
  }
}

/** The run's status, config and final metrics; each is left out while missing or unreadable. */
export async function readRunInfo(dir: string): Promise<RunInfo> {
  const info: RunInfo = { id: basename(dir), dir };
  const statusText = await readFile(join(dir, RUN_FILES.status), 'utf8').catch(() => undefined);
  const status = statusText === undefined ? undefined : parseStatus(statusText);
  if (typeof status === 'object') info.status = status;
  const configText = await readFile(join(dir, RUN_FILES.config), 'utf8').catch(() => undefined);
  if (configText !== undefined) {
    try {
      info.config = parseYaml(configText) as JsonValue;
    } catch {
      // A config that does not parse shows no hyperparameters; the run itself still shows.
    }
  }
  const metrics = await readJson(join(dir, FINAL_METRICS));
  if (metrics && typeof metrics === 'object' && !Array.isArray(metrics)) info.finalMetrics = metrics as FinalMetrics;
  return info;
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Reports run directories that appear in a runs folder and belong to one config: the engine names
 * them `<config name>-<YYYYMMDD-HHMMSS>` (plus `-N` when that is taken), so a run started from the panel (or the CLI) shows up
 * without the panel knowing who started it.
 */
export class RunsFolderWatcher {
  private readonly watcher: FSWatcher;

  constructor(folder: string, configName: string, added: (dir: string) => void) {
    this.watcher = watch(folder, { ignoreInitial: true, depth: 0 });
    this.watcher.on('addDir', (path) => {
      if (isRunOf(configName, basename(path))) added(path);
    });
    this.watcher.on('error', () => {
      // The runs folder may not exist yet; chokidar picks it up when it is created.
    });
  }

  dispose(): void {
    void this.watcher.close();
  }
}
