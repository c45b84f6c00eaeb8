import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';
import * as vscode from 'vscode';
import { createRunDirectory, isPidAlive } from '../../shared/node/run-claims.js';
import { RUN_FILES, type RunState, STOP_REQUEST_FILE } from '../../shared/run-directory.js';
import { SWEEP_FILE } from '../../shared/sweep-record.js';
import { Disposable, toDisposable } from '../lifecycle.js';
import { localFolders, readSettings, runsRootOf } from '../settings.js';
import { EngineLauncher } from './engine-launcher.js';
import { DEFAULT_STOP_PLAN, requestStop, signalPid } from './engine-process.js';
import { KeyedThrottle } from './keyed-throttle.js';
import { ownerMessage, type RunOwner } from './run-owner.js';
import { type QueuedJob, RunQueue, setExtensionState } from './run-queue.js';
import { listRunDirs, RunReader, type RunSnapshot } from './run-reader.js';
import { RunSession } from './run-session.js';
import { allows, canTransition, isActive } from './run-state.js';
import { RunsWatcher } from './runs-watcher.js';
import { cancelJob, runCli, submitConfig } from './slurm-jobs.js';
import { listSweepDirs, listTrialDirs, trialsFolder } from './sweep-reader.js';
import { type SweepSnapshot, SweepTracker } from './sweep-tracker.js';

/**
 * The one place that knows every run of the workspace. The run directories are the truth
 * (DESIGN.md, "Run directory"): the manager reads them when chokidar reports a change, so runs
 * started before a window reload, from a terminal or on another machine show up the same way
 * as runs started here. Engines are detached processes that outlive the window; the manager
 * holds one RunSession per active run for what lives as long as that process.
 */
export interface RunChange {
  dir: string;
  /** undefined when the run was deleted. */
  run: RunSnapshot | undefined;
  previous: RunSnapshot | undefined;
}

export interface StartRequest {
  configPath: string;
  folder: vscode.WorkspaceFolder;
  /** The config's `output_dir`, when it sets one (relative to the workspace folder). */
  outputDir?: string;
}

const QUEUE_KEY = 'finetune.queue';
const EXTRA_ROOTS_KEY = 'finetune.extraRunRoots';
const SOURCES_KEY = 'finetune.runConfigs';
/** Run folder -> when this workspace asked it to stop (ms), for escalation after a reload. */
const STOPS_KEY = 'finetune.stopRequests';
/** File events come in bursts (status.json and events.jsonl together at every step). */
const READ_DELAY_MS = 200;
const WATCHDOG_MS = 5_000;
/** How often cluster runs' Slurm state is read into their status.json. */
const JOB_SYNC_MS = 15_000;

export class RunManager extends Disposable {
  private readonly readers = new Map<string, RunReader>();
  private readonly runs = new Map<string, RunSnapshot>();
  private syncingJobs = false;
  private readonly sessions = new Map<string, RunSession>();
  private readonly launcher: EngineLauncher;
  private readonly readSoon = new KeyedThrottle(READ_DELAY_MS, (dir) => void this.read(dir));
  private readonly reads = new Map<string, Promise<void>>();
  private readonly queue: RunQueue;
  private readonly watcher: RunsWatcher;
  private readonly changes = this._register(new vscode.EventEmitter<RunChange>());
  private readonly logChanges = this._register(new vscode.EventEmitter<string>());
  /** A run appeared, changed or was deleted. */
  readonly onDidChangeRun = this.changes.event;
  /** A run's engine.log grew. */
  readonly onDidChangeLog = this.logChanges.event;
  private readonly sweepChanges = this._register(new vscode.EventEmitter<string>());
  /** A sweep folder appeared, its sweep.json changed, or it was deleted. */
  readonly onDidChangeSweep = this.sweepChanges.event;
  /** Sweep folders: their trials are runs here, their `trials/` folders watched as runs folders. */
  private readonly sweeps = new SweepTracker({
    changed: (dir, sweep, trials) => this.sweepChanged(dir, sweep, trials),
  });

  constructor(
    private readonly cliPath: string,
    private readonly state: vscode.Memento,
    private readonly log: vscode.LogOutputChannel,
  ) {
    super();
    this.launcher = new EngineLauncher({
      cliPath,
      onRefused: (dir, child) => {
        // This window's session watched the refused process: the owner needs a watchdog instead.
        const session = this.sessions.get(dir);
        if (session && session.processId === child.pid) {
          session.dispose();
          this.sessions.delete(dir);
        }
        void this.launcher.owner(dir).then((owner) => this.reportOwner(dir, owner));
      },
      onSpawnError: (dir) => this.scheduleRead(dir),
      log: (message) => this.log.info(message),
    });
    this.queue = new RunQueue({
      load: () => state.get<QueuedJob[]>(QUEUE_KEY, []),
      save: (jobs) => void state.update(QUEUE_KEY, jobs),
    });
    this.watcher = this._register(
      new RunsWatcher({
        onRunChanged: (dir, file) => {
          // A new folder may be a sweep's; a sweep folder's files are its record, not a run's.
          if (file === SWEEP_FILE || this.sweeps.get(dir) || (file === undefined && this.sweeps.claims(dir)))
            this.sweeps.schedule(dir);
          else if (file === RUN_FILES.log) this.logChanges.fire(dir);
          else this.scheduleRead(dir);
        },
        onRunRemoved: (dir) => (this.sweeps.get(dir) ? this.sweeps.schedule(dir) : this.scheduleRead(dir)),
        onRootAppeared: (root) => void this.scan(root),
        onError: (err) => this.log.warn(`Watching the runs folders: ${String(err)}`),
      }),
    );
    this._register(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('finetune.runsFolder')) void this.refresh();
        if (e.affectsConfiguration('finetune.maxConcurrentRuns')) void this.pump();
      }),
    );
    this._register(vscode.workspace.onDidChangeWorkspaceFolders(() => void this.refresh()));
    const jobSync = setInterval(() => void this.syncJobs(), JOB_SYNC_MS);
    this._register(
      toDisposable(() => {
        this.sweeps.dispose();
        this.readSoon.dispose();
        clearInterval(jobSync);
        for (const session of this.sessions.values()) session.dispose();
        this.sessions.clear();
      }),
    );
  }

  /** Re-attaches: adopts this workspace's queue (the extension host's pid changed), reads every run. */
  async initialize(): Promise<void> {
    for (const job of [...this.queue.list()]) {
      if (!existsSync(join(job.runDir, RUN_FILES.status)) || !(await this.setState(job.runDir, 'queued', process.pid)))
        this.queue.remove(job.runDir);
    }
    await this.refresh();
    await this.pump();
  }

  /** Every run, newest first. */
  list(): RunSnapshot[] {
    return [...this.runs.values()].sort((a, b) => b.startedAt - a.startedAt || b.id.localeCompare(a.id));
  }

  get(dir: string): RunSnapshot | undefined {
    return this.runs.get(dir);
  }

  /** Every sweep folder of the runs folders. */
  listSweeps(): SweepSnapshot[] {
    return this.sweeps.list();
  }

  getSweep(dir: string): SweepSnapshot | undefined {
    return this.sweeps.get(dir);
  }

  /** The sweep a run is a trial of. */
  sweepOf(runDir: string): SweepSnapshot | undefined {
    return this.sweeps.sweepOf(runDir);
  }

  /** The config file a run was started from, when this workspace started it. */
  sourceConfig(dir: string): string | undefined {
    return this.state.get<Record<string, string>>(SOURCES_KEY, {})[dir];
  }

  /** Runs whose engine is working (not those waiting in the queue). */
  activeCount(): number {
    return this.sessions.size;
  }

  isWaiting(dir: string): boolean {
    return this.queue.has(dir);
  }

  roots(): string[] {
    const extra = this.state.get<string[]>(EXTRA_ROOTS_KEY, []);
    return [...new Set([...localFolders().map((f) => runsRootOf(f)), ...extra])];
  }

  /** Re-reads the runs folders from scratch (settings or workspace folders changed, or the user asked). */
  async refresh(): Promise<void> {
    const roots = this.roots();
    const sweepDirs = (await Promise.all(roots.map((r) => listSweepDirs(r)))).flat();
    this.sweeps.retain(new Set(sweepDirs));
    await Promise.all(sweepDirs.map((d) => this.sweeps.read(d)));
    this.watchRoots();
    const trials = await Promise.all(sweepDirs.map((d) => listTrialDirs(d)));
    const found = new Set([...(await Promise.all(roots.map((r) => listRunDirs(r)))).flat(), ...trials.flat()]);
    for (const dir of [...this.runs.keys()]) if (!found.has(dir)) this.forget(dir);
    await Promise.all([...found].map((dir) => this.read(dir)));
  }

  /** The runs folder a config's runs go to, watched from now on. */
  private async watchRoot(request: StartRequest): Promise<string> {
    const root = runsRootOf(request.folder, request.outputDir);
    if (!this.roots().includes(root)) {
      await this.state.update(EXTRA_ROOTS_KEY, [...this.state.get<string[]>(EXTRA_ROOTS_KEY, []), root]);
      this.watchRoots();
    }
    return root;
  }

  /**
   * Cluster runs not ended: Slurm's state into their status.json (`finetune submit --status`), so a
   * pending reason, a job cancelled or killed before its engine could write, shows. The engine's
   * own writes take over while the job runs; the file watcher reads the result.
   */
  private async syncJobs(): Promise<void> {
    if (this.syncingJobs) return;
    this.syncingJobs = true;
    try {
      for (const run of this.runs.values()) {
        if (!run.status?.job || !isActive(run.state)) continue;
        const r = await runCli([this.cliPath], ['submit', '--status', run.dir], dirname(run.dir));
        if (r.code !== 0) this.log.warn(`Slurm state of ${run.id}: ${(r.stderr || r.stdout).trim()}`);
      }
    } finally {
      this.syncingJobs = false;
    }
  }

  /** `finetune submit`: the run goes to the config's Slurm launcher; it is watched like any run. */
  async submit(request: StartRequest): Promise<string> {
    const root = await this.watchRoot(request);
    const claimed = createRunDirectory(root, request.configPath);
    const runDir = await submitConfig(this.cliPath, request.configPath, request.folder.uri.fsPath, claimed).catch(
      async (err: unknown) => {
        await rm(claimed, { recursive: true, force: true });
        throw err;
      },
    );
    await this.state.update(SOURCES_KEY, { ...this.state.get(SOURCES_KEY, {}), [runDir]: request.configPath });
    this.log.info(`Submitted ${request.configPath} to Slurm: ${runDir}`);
    await this.read(runDir);
    return runDir;
  }

  async start(request: StartRequest): Promise<string> {
    const { configPath, folder } = request;
    const root = await this.watchRoot(request);
    const runDir = createRunDirectory(root, configPath); // exclusive: a same-second clash gets -2
    await this.state.update(SOURCES_KEY, { ...this.state.get(SOURCES_KEY, {}), [runDir]: configPath });
    await this.enqueueOrLaunch({ kind: 'train', runDir, configPath, cwd: folder.uri.fsPath });
    return runDir;
  }

  /** Resumes a stopped or failed run; one a live engine owns (another window's) is followed instead. */
  async resume(dir: string): Promise<RunOwner | undefined> {
    const owner = await this.launcher.owner(dir);
    if (owner) {
      this.reportOwner(dir, owner);
      return owner;
    }
    // What the folder says now, not at the last file event: another window may have just resumed it.
    await this.read(dir);
    const run = this.runs.get(dir);
    if (!run) throw new Error(`No run at ${dir}.`);
    if (!allows(run.state, 'resume'))
      throw new Error(`Run ${run.id} is ${run.state}: only stopped or failed runs resume.`);
    // A stop request left from the last attempt would stop the new engine at its first step.
    await rm(join(dir, STOP_REQUEST_FILE), { force: true });
    const folder = localFolders().find((f) => dir.startsWith(f.uri.fsPath + sep));
    await this.enqueueOrLaunch({ kind: 'resume', runDir: dir, cwd: folder?.uri.fsPath ?? dirname(dir) });
    return undefined;
  }

  /** Another engine owns the run: say so, and show that engine's run. */
  private reportOwner(dir: string, owner: RunOwner | undefined): void {
    const message = ownerMessage(basename(dir), owner);
    this.log.info(message);
    void vscode.window.showInformationMessage(`Fine-tune: ${message}`);
    this.scheduleRead(dir);
  }

  /** Asks the engine to stop at its next step boundary; SIGTERM, then SIGKILL, if it does not. */
  async stop(dir: string): Promise<void> {
    if (this.queue.remove(dir)) {
      await this.setState(dir, 'stopped', process.pid, 'Stopped while waiting in the queue.');
      return this.read(dir);
    }
    const run = this.runs.get(dir);
    if (!run || !allows(run.state, 'stop')) return;
    if (run.status?.job) {
      // A cluster job: its engine is on another host, so no signal from here; the CLI writes the
      // stop file, waits for the checkpoint and scancels the job.
      this.log.info(`Cancelling job ${run.status.job.id} of ${run.id}.`);
      await cancelJob(this.cliPath, dir, dirname(dir));
      return this.read(dir);
    }
    await requestStop(dir);
    this.log.info(`Stop requested for ${run.id}.`);
    // Signals go to the pid that status.json names: only when the workspace is trusted, since a
    // run folder in an untrusted repository could name any process of the user's.
    if (vscode.workspace.isTrusted) {
      await this.state.update(STOPS_KEY, { ...this.state.get(STOPS_KEY, {}), [dir]: Date.now() });
      this.sessions.get(dir)?.escalate(DEFAULT_STOP_PLAN);
    } else this.log.warn(`${run.id}: Restricted Mode, so the stop is only requested; the engine is not signalled.`);
    await this.read(dir);
  }

  async delete(dir: string): Promise<void> {
    const run = this.runs.get(dir);
    if (run && !allows(run.state, 'delete'))
      throw new Error(`Run ${run.id} is ${run.state}: stop it before deleting it.`);
    this.queue.remove(dir);
    await rm(dir, { recursive: true, force: true });
    this.forget(dir);
    const sources = { ...this.state.get<Record<string, string>>(SOURCES_KEY, {}) };
    delete sources[dir];
    await this.state.update(SOURCES_KEY, sources);
    this.log.info(`Deleted run ${dir}.`);
  }

  private async enqueueOrLaunch(job: QueuedJob): Promise<void> {
    if (this.activeCount() >= readSettings().maxConcurrentRuns) {
      if (await this.setState(job.runDir, 'queued', process.pid)) {
        this.queue.add(job);
        this.log.info(`Queued ${job.runDir}: ${this.activeCount()} run(s) active.`);
      }
    } else await this.launch(job);
    await this.read(job.runDir);
  }

  /** Starts queued jobs while slots are free. */
  private async pump(): Promise<void> {
    while (this.queue.size > 0 && this.activeCount() < readSettings().maxConcurrentRuns) {
      const job = this.queue.shift();
      if (!job) break;
      try {
        await this.launch(job);
      } catch (err) {
        await this.setState(job.runDir, 'failed', process.pid, (err as Error).message);
      }
      await this.read(job.runDir);
    }
  }

  /**
   * Writes the state of a run no engine is working on (run-queue.ts), when the run state machine
   * allows going there from `from`: by default the state the run is shown in (undefined for a
   * run not read yet, such as a new one). An illegal transition is logged and not written.
   */
  private async setState(
    dir: string,
    to: RunState,
    pid: number,
    reason?: string,
    from: RunState | undefined = this.runs.get(dir)?.state,
  ): Promise<boolean> {
    if (from !== undefined && !canTransition(from, to)) {
      this.log.warn(`${dir}: not marking a ${from} run ${to}.`);
      return false;
    }
    await setExtensionState(dir, to, pid, reason);
    return true;
  }

  private async launch(job: QueuedJob): Promise<void> {
    const { device, engineThreads } = readSettings(vscode.Uri.file(job.cwd));
    const started = await this.launcher.launch(job, { device, threads: engineThreads });
    if (started.kind === 'owned') return this.reportOwner(job.runDir, started.owner);
    const session = new RunSession(job.runDir, this.sessionDeps(job.runDir), started.child);
    this.sessions.get(job.runDir)?.dispose();
    this.sessions.set(job.runDir, session);
  }

  private sessionDeps(dir: string) {
    return {
      isAlive: isPidAlive,
      signal: signalPid,
      onEscalate: (signal: NodeJS.Signals) => this.log.warn(`${dir}: the engine did not stop in time; sent ${signal}.`),
      onProcessGone: () => this.scheduleRead(dir),
      watchdogMs: WATCHDOG_MS,
    };
  }

  /** Reads a run soon, at most once per READ_DELAY_MS (keyed-throttle.ts). */
  private scheduleRead(dir: string): void {
    this.readSoon.schedule(dir);
  }

  /** Reads one run; reads of the same run are serialized (the events reader keeps a file offset). */
  private read(dir: string): Promise<void> {
    const next = (this.reads.get(dir) ?? Promise.resolve()).then(() => this.readNow(dir));
    const settled = next.catch((err: unknown) => this.log.error(`Reading run ${dir}: ${String(err)}`));
    this.reads.set(dir, settled);
    return settled;
  }

  private async readNow(dir: string): Promise<void> {
    if (this.isDisposed) return;
    if (!existsSync(dir)) return this.forget(dir);
    let reader = this.readers.get(dir);
    if (!reader) {
      reader = new RunReader(dir, { isAlive: isPidAlive });
      this.readers.set(dir, reader);
    }
    const launchedPid = this.launcher.pendingPid(dir);
    let run = await reader.read(launchedPid);
    if (launchedPid !== undefined && run.status?.pid === launchedPid) this.launcher.settle(dir, launchedPid);
    else if (launchedPid !== undefined && run.died) {
      // Our engine died before writing its own status: write the final state for it, so the
      // folder says failed after a reload too (status.json would otherwise still be the last
      // attempt's, or missing). The state left is that of the engine it launched: running. Not
      // when it lost the run to another live engine (another window's): that one's is the truth.
      this.launcher.settle(dir, launchedPid);
      if (await this.launcher.diedOwning(dir, launchedPid))
        await this.setState(dir, 'failed', launchedPid, run.reason, 'running');
      run = await reader.read();
    }
    const previous = this.runs.get(dir);
    this.runs.set(dir, run);
    this.updateSession(run);
    if (!previous || signature(previous) !== signature(run)) this.changes.fire({ dir, run, previous });
    if (previous && isActive(previous.state) && !isActive(run.state)) await this.pump();
  }

  /** Opens, feeds or closes the run's process scope to match its state. */
  private updateSession(run: RunSnapshot): void {
    let session = this.sessions.get(run.dir);
    if (!isActive(run.state) || this.queue.has(run.dir)) {
      session?.dispose();
      this.sessions.delete(run.dir);
      this.forgetStopRequest(run.dir);
      return;
    }
    if (!session) {
      session = new RunSession(run.dir, this.sessionDeps(run.dir));
      this.sessions.set(run.dir, session);
    }
    const pid = this.launcher.pendingPid(run.dir) ?? run.status?.pid;
    if (pid !== undefined && pid > 0) session.attach(pid);
    // A stop this workspace requested before a reload keeps its deadlines. A stop-request file
    // alone (e.g. committed to a repository) never makes the extension signal anything.
    const requestedAt = this.state.get<Record<string, number>>(STOPS_KEY, {})[run.dir];
    if (
      requestedAt !== undefined &&
      run.stopRequestedAt !== undefined &&
      run.state === 'running' &&
      vscode.workspace.isTrusted
    )
      session.escalate(DEFAULT_STOP_PLAN, Date.now() - requestedAt);
  }

  private forgetStopRequest(dir: string): void {
    const stops = this.state.get<Record<string, number>>(STOPS_KEY, {});
    if (!(dir in stops)) return;
    const { [dir]: _, ...rest } = stops;
    void this.state.update(STOPS_KEY, rest);
  }

  /** The runs folders, and the trials folder of each sweep in them. */
  private watchRoots(): void {
    this.watcher.setRoots([...this.roots(), ...this.sweeps.trialFolders()]);
  }

  private sweepChanged(dir: string, sweep: SweepSnapshot | undefined, trials: string[]): void {
    if (this.isDisposed) return;
    // Read as a run while it had only its config.yaml, before the sweep wrote sweep.json.
    if (this.runs.has(dir)) this.forget(dir);
    this.watchRoots();
    if (sweep) for (const t of trials) if (!this.runs.has(t)) void this.read(t);
    if (!sweep) for (const run of [...this.runs.keys()]) if (run.startsWith(trialsFolder(dir) + sep)) this.forget(run);
    this.sweepChanges.fire(dir);
  }

  private async scan(root: string): Promise<void> {
    await Promise.all((await listRunDirs(root)).map((dir) => this.read(dir)));
  }

  private forget(dir: string): void {
    this.forgetStopRequest(dir);
    this.sessions.get(dir)?.dispose();
    this.sessions.delete(dir);
    this.launcher.settle(dir);
    this.readers.delete(dir);
    const previous = this.runs.get(dir);
    if (this.runs.delete(dir)) this.changes.fire({ dir, run: undefined, previous });
  }
}

/** What the views show of a run: a change of anything else is not worth a refresh. */
function signature(run: RunSnapshot): string {
  const s = run.status;
  return [run.state, run.reason, s?.step, s?.totalSteps, s?.updatedAt, run.events.lines, run.stopRequestedAt].join('|');
}
