import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RUN_FILES } from '../../shared/run-directory.js';
import { describeLock, LOCKED_EXIT_CODE } from '../../shared/run-lock.js';
import { type EngineOptions, resumeArgs, spawnDetached, trainArgs } from './engine-process.js';
import { type RunOwner, runOwner } from './run-owner.js';
import type { QueuedJob } from './run-queue.js';

/**
 * Starts engines for the run manager, one engine per run. A run whose lock a live engine holds
 * (started by another window, a terminal, a scheduler) is not started again: the caller follows
 * that engine instead. Two windows that both find no lock and start an engine at the same moment
 * are settled by the engine itself: the one that loses the lock exits with LOCKED_EXIT_CODE,
 * having written nothing, and the window that started it is told (onRefused) so that it follows
 * the winner rather than recording the exit as a failure. No 'vscode' import.
 */
export interface LauncherDeps {
  /** The engine CLI (dist/cli.js). */
  cliPath: string;
  /** Starts the engine process: spawnDetached, or a test's stand-in. */
  spawn?(args: string[], runDir: string, cwd: string): ChildProcess;
  /** The run's owner per its lock: runOwner, or a test's stand-in. */
  owner?(runDir: string): Promise<RunOwner | undefined>;
  /** The engine lost the run to another engine and exited without touching it. */
  onRefused(runDir: string, child: ChildProcess): void;
  /** The process could not be started (no executable): the run should be read again. */
  onSpawnError(runDir: string): void;
  /** For the extension's log. */
  log(message: string): void;
}

export type LaunchResult = { kind: 'started'; child: ChildProcess } | { kind: 'owned'; owner: RunOwner };

export class EngineLauncher {
  /** Engines started here whose status.json does not carry their pid yet, by run folder. */
  private readonly launched = new Map<string, number>();

  constructor(private readonly deps: LauncherDeps) {}

  /** The engine started here for the run, until its status.json names it (or it ends). */
  pendingPid(runDir: string): number | undefined {
    return this.launched.get(runDir);
  }

  /** The engine's status.json is there, or it is gone: nothing is pending any more. */
  settle(runDir: string, pid?: number): void {
    if (pid === undefined || this.launched.get(runDir) === pid) this.launched.delete(runDir);
  }

  /** The owner of the run (a live engine holding its lock), or undefined. */
  owner(runDir: string): Promise<RunOwner | undefined> {
    return (this.deps.owner ?? runOwner)(runDir);
  }

  /**
   * Whether `pid`, an engine started here that is gone, really failed the run: not when it was
   * refused because another live engine owns the run (whose status.json is then the truth).
   */
  async diedOwning(runDir: string, pid: number): Promise<boolean> {
    const owner = await this.owner(runDir);
    return owner === undefined || owner.lock?.pid === pid;
  }

  /** Starts the job's engine, unless a live engine owns the run already. */
  async launch(job: QueuedJob, options: EngineOptions): Promise<LaunchResult> {
    const { runDir } = job;
    const owner = await this.owner(runDir);
    if (owner) {
      const line = `not starting an engine: the run is owned by ${describeLock(owner.lock)} (${owner.why}); following it`;
      await note(runDir, 'INFO', line);
      this.deps.log(`${runDir}: ${line}.`);
      return { kind: 'owned', owner };
    }
    const cli = this.deps.cliPath;
    if (!existsSync(cli))
      throw new Error(`The engine is not built: ${cli} is missing (run "npm run build" in the extension folder).`);
    const args =
      job.kind === 'train' && job.configPath
        ? trainArgs(cli, job.configPath, runDir, options)
        : resumeArgs(cli, runDir, options);
    await note(runDir, 'INFO', `starting: finetune ${args.slice(1).join(' ')}`);
    const child = (this.deps.spawn ?? spawnDetached)(args, runDir, job.cwd);
    child.on('error', (err) => {
      void note(runDir, 'ERROR', `could not start the engine (${process.execPath}): ${err.message}`);
      this.settle(runDir, child.pid);
      this.deps.onSpawnError(runDir);
    });
    // Registered before anyone else listens to this child (RunSession), so the run is no longer
    // pending when the exit makes the run manager read the folder.
    child.on('exit', (code, signal) => {
      if (code === LOCKED_EXIT_CODE) {
        this.settle(runDir, child.pid);
        this.deps.log(
          `${runDir}: the engine pid ${child.pid} found the run owned by another engine; following that one.`,
        );
        this.deps.onRefused(runDir, child);
      } else if (code !== 0)
        void note(runDir, 'ERROR', `the engine exited with ${signal ? `signal ${signal}` : `code ${code}`}`);
    });
    if (child.pid !== undefined) this.launched.set(runDir, child.pid);
    this.deps.log(`Started engine pid ${child.pid ?? '?'}: ${args.slice(1).join(' ')}`);
    return { kind: 'started', child };
  }
}

/** A line of the extension's own in engine.log, where the user reads the run's story. */
function note(runDir: string, level: string, message: string): Promise<void> {
  return appendFile(
    join(runDir, RUN_FILES.log),
    `${new Date().toISOString()} ${level.padEnd(5)} [extension] ${message}\n`,
  ).catch(() => {});
}
