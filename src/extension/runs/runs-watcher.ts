import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { type FSWatcher, watch } from 'chokidar';
import type { IDisposable } from '../lifecycle.js';

/**
 * File events of the runs folders, through chokidar (native watchers, no polling). Each runs
 * folder is watched two levels deep: run folders appearing and disappearing, and the files of
 * each run (status.json, events.jsonl, engine.log, ...). A runs folder that does not exist yet
 * (no run was ever started) is awaited by watching its nearest existing parent, since chokidar
 * does not report a missing folder that appears later. A sweep's `trials/` folder is watched as
 * one more root (its trials are run folders), inside the runs folder that holds the sweep. No
 * 'vscode' import.
 */
export interface RunsWatcherListener {
  /** A run folder appeared, or one of its files (`file`, a name inside the run folder) changed. */
  onRunChanged(runDir: string, file: string | undefined): void;
  onRunRemoved(runDir: string): void;
  /** A runs folder now exists (created after watching began, or again after deletion): rescan it. */
  onRootAppeared(root: string): void;
  onError(err: unknown): void;
}

/** Temporary files of atomic writes (`status.json.tmp-123`, `step-10.tmp`) are noise. */
function isTemporary(path: string): boolean {
  return /\.tmp(-\d+)?$|\.tmp-/.test(path);
}

export class RunsWatcher implements IDisposable {
  private readonly roots = new Set<string>();
  /** Missing runs folder -> the existing ancestor watched for it. */
  private readonly pending = new Map<string, string>();
  private main: FSWatcher | undefined;
  private ancestors: FSWatcher | undefined;

  constructor(private readonly listener: RunsWatcherListener) {}

  get watchedRoots(): string[] {
    return [...this.roots];
  }

  setRoots(paths: readonly string[]): void {
    const next = new Set(paths.map((p) => resolve(p)));
    for (const root of [...this.roots]) if (!next.has(root)) this.removeRoot(root);
    for (const root of next) if (!this.roots.has(root)) this.addRoot(root);
  }

  dispose(): void {
    void this.main?.close();
    void this.ancestors?.close();
    this.main = undefined;
    this.ancestors = undefined;
    this.roots.clear();
    this.pending.clear();
  }

  private addRoot(root: string): void {
    this.roots.add(root);
    if (existsSync(root)) this.watchRoot(root);
    else this.await(root);
  }

  private removeRoot(root: string): void {
    this.roots.delete(root);
    const ancestor = this.pending.get(root);
    this.pending.delete(root);
    if (ancestor !== undefined) this.releaseAncestor(ancestor);
    else this.main?.unwatch(root);
  }

  private watchRoot(root: string): void {
    if (!this.main) {
      this.main = watch([], {
        ignoreInitial: true,
        depth: 1,
        ignored: (path) => isTemporary(path),
      });
      this.main.on('all', (event, path) => this.onMainEvent(event, path));
      this.main.on('error', (err) => this.listener.onError(err));
    }
    this.main.add(root);
  }

  private await(root: string): void {
    let ancestor = dirname(root);
    while (!existsSync(ancestor) && dirname(ancestor) !== ancestor) ancestor = dirname(ancestor);
    this.pending.set(root, ancestor);
    if (!this.ancestors) {
      this.ancestors = watch([], { ignoreInitial: true, depth: 0 });
      this.ancestors.on('addDir', (path) => this.onAncestorAddDir(resolve(path)));
      this.ancestors.on('error', (err) => this.listener.onError(err));
    }
    this.ancestors.add(ancestor);
  }

  private releaseAncestor(ancestor: string): void {
    if (![...this.pending.values()].includes(ancestor)) this.ancestors?.unwatch(ancestor);
  }

  private onAncestorAddDir(path: string): void {
    for (const [root, ancestor] of [...this.pending]) {
      if (root !== path && !root.startsWith(path + sep)) continue;
      this.pending.delete(root);
      this.releaseAncestor(ancestor);
      if (existsSync(root)) {
        this.watchRoot(root);
        this.listener.onRootAppeared(root);
      } else this.await(root);
    }
  }

  private onMainEvent(event: string, rawPath: string): void {
    const path = resolve(rawPath);
    if (this.roots.has(path)) {
      if (event === 'unlinkDir') {
        this.main?.unwatch(path);
        this.await(path);
      }
      return;
    }
    // A sweep's trials folder is a root inside a runs folder: the deepest root a path is in names its run.
    const root = [...this.roots]
      .filter((r) => path.startsWith(r + sep))
      .reduce<string | undefined>((a, r) => (a === undefined || r.length > a.length ? r : a), undefined);
    if (root === undefined) return;
    const parts = relative(root, path).split(sep);
    const run = parts[0];
    if (run === undefined || run.startsWith('.')) return;
    const runDir = join(root, run);
    if (parts.length === 1) {
      if (event === 'unlinkDir') this.listener.onRunRemoved(runDir);
      else if (event === 'addDir') this.listener.onRunChanged(runDir, undefined);
      return;
    }
    this.listener.onRunChanged(runDir, parts[1]);
  }
}
