import type { ChildProcess } from 'node:child_process';
import { Disposable, type IDisposable, toDisposable } from '../lifecycle.js';
import { escalateStop, type StopDeps, type StopPlan } from './engine-process.js';

/**
 * The scope of one engine process: what lives exactly as long as a run is queued or running, and
 * is disposed when it ends (or when the window goes away; the engine itself keeps running).
 *
 * How the end is noticed: an engine this window spawned reports its exit. One started by an
 * earlier window (re-attached after a reload) or from a terminal cannot be awaited, and a killed
 * process writes no file, so no file event would ever say it is gone: for those, and only while
 * they are active, the pid is checked every `watchdogMs`. No 'vscode' import.
 */
export interface SessionDeps extends StopDeps {
  /** Called when the process may have ended: the run manager re-reads the run directory. */
  onProcessGone(): void;
  watchdogMs: number;
}

export class RunSession extends Disposable {
  private pid: number | undefined;
  private watchdog: IDisposable | undefined;
  private stopping: IDisposable | undefined;
  private readonly spawnedHere: boolean;

  constructor(
    readonly runDir: string,
    private readonly deps: SessionDeps,
    child?: ChildProcess,
  ) {
    super();
    if (child) {
      this.pid = child.pid;
      const onExit = () => deps.onProcessGone();
      child.on('exit', onExit);
      child.on('error', onExit);
      this._register(
        toDisposable(() => {
          child.off('exit', onExit);
          child.off('error', onExit);
        }),
      );
    }
    this.spawnedHere = child !== undefined;
  }

  get processId(): number | undefined {
    return this.pid;
  }

  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  /** The pid from status.json; starts the watchdog for a process this window did not spawn. */
  attach(pid: number): void {
    if (this.isDisposed || pid <= 0) return;
    this.pid = pid;
    if (this.spawnedHere || this.watchdog) return;
    const timer = setInterval(() => {
      if (!this.deps.isAlive(pid)) this.deps.onProcessGone();
    }, this.deps.watchdogMs);
    timer.unref();
    this.watchdog = this._register(toDisposable(() => clearInterval(timer)));
  }

  /** Arms SIGTERM then SIGKILL after a stop request made `elapsedMs` ago; once per session. */
  escalate(plan: StopPlan, elapsedMs = 0): void {
    if (this.isDisposed || this.stopping || this.pid === undefined) return;
    this.stopping = this._register(escalateStop(this.pid, plan, this.deps, elapsedMs));
  }
}
