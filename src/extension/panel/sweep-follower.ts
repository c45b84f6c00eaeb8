import { join } from 'node:path';
import { type FSWatcher, watch } from 'chokidar';
import type { SweepInfo } from '../../shared/messages.js';
import { isPidAlive } from '../../shared/node/run-claims.js';
import { SWEEP_FILE } from '../../shared/sweep-record.js';
import { readSweepInfo } from '../runs/sweep-reader.js';

/**
 * Follows one sweep folder for the panel's Sweep view: sweep.json, re-read when chokidar reports
 * it replaced (the engine renames a new version over it) and, while the sweep runs, on a slow poll
 * as well (file notifications are unreliable on network file systems). Reports each version that
 * differs from the last. No 'vscode' import.
 */
const POLL_MS = 2000;
const READ_MS = 150;

export class SweepFollower {
  private watcher: FSWatcher | undefined;
  private poll: ReturnType<typeof setInterval> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private current: SweepInfo;
  private disposed = false;

  constructor(
    readonly dir: string,
    private readonly changed: (info: SweepInfo) => void,
    private readonly isAlive: (pid: number) => boolean = isPidAlive,
  ) {
    this.current = { id: '', dir };
  }

  get info(): SweepInfo {
    return this.current;
  }

  async load(): Promise<SweepInfo> {
    this.current = await readSweepInfo(this.dir, this.isAlive);
    return this.current;
  }

  start(): void {
    if (this.disposed || this.watcher) return;
    this.watcher = watch(this.dir, { ignoreInitial: true, depth: 0 });
    this.watcher.on('all', (_event, path) => {
      if (path === join(this.dir, SWEEP_FILE)) this.schedule();
    });
    // A watcher error leaves the poll to do the work.
    this.watcher.on('error', () => undefined);
    this.poll = setInterval(() => {
      if (this.current.state === undefined || this.current.state === 'running') this.schedule();
    }, POLL_MS);
  }

  dispose(): void {
    this.disposed = true;
    clearInterval(this.poll);
    clearTimeout(this.timer);
    void this.watcher?.close();
    this.watcher = undefined;
  }

  private schedule(): void {
    if (this.timer !== undefined || this.disposed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.refresh();
    }, READ_MS);
  }

  private async refresh(): Promise<void> {
    const info = await readSweepInfo(this.dir, this.isAlive);
    if (this.disposed || JSON.stringify(info) === JSON.stringify(this.current)) return;
    this.current = info;
    this.changed(info);
  }
}
