import { basename, join } from 'node:path';
import { type FSWatcher, watch } from 'chokidar';
import type { RunInfo } from '../../shared/messages.js';
import { RUN_FILES, type RunEvent } from '../../shared/run-directory.js';
import { isRunOf } from '../../shared/run-id.js';
import { parseEventLine } from '../runs/events.js';
import { FileTail } from '../runs/file-tail.js';
import { FINAL_METRICS, readRunInfo } from '../runs/run-reader.js';

/**
 * Follows one run directory for the panel: what the run is (status.json, config.yaml,
 * final/metrics.json, read by readRunInfo, the runs view's reader) and what it did (events.jsonl,
 * read incrementally through the runs view's FileTail). Nothing here needs the engine's process:
 * a run started from the CLI, before a reload or on another machine reads the same (DESIGN.md,
 * "Run directory"). No 'vscode' import, so it is tested in Node.
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

/** The events among lines of events.jsonl; other lines (not JSON, unknown types) are skipped. */
function eventsOf(lines: readonly string[]): RunEvent[] {
  return lines.map(parseEventLine).filter((e): e is RunEvent => e !== undefined);
}

export class RunFollower {
  readonly id: string;
  private readonly tail: FileTail;
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
    this.tail = new FileTail(join(dir, RUN_FILES.events));
    this.current = { id: this.id, dir };
  }

  get info(): RunInfo {
    return this.current;
  }

  /** Reads everything there is so far; call once before start(). */
  async load(): Promise<{ info: RunInfo; events: RunEvent[] }> {
    this.current = await readRunInfo(this.dir);
    const { lines } = await this.tail.readLines();
    return { info: this.current, events: eventsOf(lines) };
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
        const { lines, restarted } = await this.tail.readLines().catch(() => ({ lines: [], restarted: false }));
        const events = eventsOf(lines);
        if (!this.disposed && (events.length > 0 || restarted)) this.listener.events(this.id, events, restarted);
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
