import { type ChildProcess, type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeviceName } from '../../shared/config.js';
import { RUN_FILES, STOP_REQUEST_FILE } from '../../shared/run-directory.js';
import type { TokenizerType } from '../../shared/tokenizer-types.js';
import { type IDisposable, toDisposable } from '../lifecycle.js';

/**
 * Starting and stopping engine processes (`dist/cli.js`, the engine CLI). The engine is a separate
 * process: nothing here imports engine code or onnxruntime-node. No 'vscode' import.
 */
export interface EngineOptions {
  device: DeviceName;
  /** 0 lets the engine choose. */
  threads: number;
}

/**
 * `--device D --threads N`. `--device` overrides the config's own `device`, so the setting's
 * `auto` passes nothing and leaves the choice to the config (whose default is auto too).
 */
function engineFlags(opts: EngineOptions): string[] {
  const flags = opts.device === 'auto' ? [] : ['--device', opts.device];
  if (opts.threads > 0) flags.push('--threads', String(opts.threads));
  return flags;
}

/** `finetune train <config> --run-dir DIR [--device D] [--threads N]` (the CLI contract). */
export function trainArgs(cli: string, configPath: string, runDir: string, opts: EngineOptions): string[] {
  return [cli, 'train', configPath, '--run-dir', runDir, ...engineFlags(opts)];
}

/** `finetune estimate <config> [--device D] [--threads N]`: one timed step, recorded in the cache. */
export function estimateArgs(cli: string, configPath: string, opts: EngineOptions): string[] {
  return [cli, 'estimate', configPath, ...engineFlags(opts)];
}

/** `finetune resume <run-dir> [--device D] [--threads N]`: continues from the latest checkpoint. */
export function resumeArgs(cli: string, runDir: string, opts: EngineOptions): string[] {
  return [cli, 'resume', runDir, ...engineFlags(opts)];
}

/** `finetune chat --model <dir> [--device D] [--threads N]`: the Chat tab's engine (src/shared/chat-protocol.ts). */
export function chatArgs(cli: string, modelDir: string, opts: EngineOptions): string[] {
  return [cli, 'chat', '--model', modelDir, ...engineFlags(opts)];
}

/**
 * Starts an engine that lives and dies with its owner (the Chat tab's), talking over its stdio:
 * not detached, so it never outlives the window. Spawn errors arrive as the 'error' event.
 */
export function spawnAttached(args: string[], cwd: string): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, args, { cwd, stdio: 'pipe', env: engineEnv(), windowsHide: true });
}

export type ExportFormat = 'onnx' | 'safetensors';

/** `finetune export <run-dir> --format onnx|safetensors --out <dir>`. */
export function exportArgs(cli: string, runDir: string, format: ExportFormat, out: string): string[] {
  return [cli, 'export', runDir, '--format', format, '--out', out];
}

export interface TokenizerTrainOptions {
  type: TokenizerType;
  vocabSize: number;
  inputs: readonly string[];
  /** The text column of JSON-lines inputs (absent: the CLI's default, text). */
  textColumn?: string;
  lowercase: boolean;
  out: string;
}

/** `finetune tokenizer train --type T --vocab-size N --input F... [--text-column C] [--lowercase] --out DIR`. */
export function tokenizerTrainArgs(cli: string, o: TokenizerTrainOptions): string[] {
  return [
    cli,
    'tokenizer',
    'train',
    '--type',
    o.type,
    '--vocab-size',
    String(o.vocabSize),
    ...o.inputs.flatMap((f) => ['--input', f]),
    ...(o.textColumn === undefined ? [] : ['--text-column', o.textColumn]),
    ...(o.lowercase ? ['--lowercase'] : []),
    '--out',
    o.out,
  ];
}

/**
 * The environment of an engine: the extension host's, with ELECTRON_RUN_AS_NODE so that VS Code's
 * executable (Electron) runs the CLI as plain Node.
 */
export function engineEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...base, ELECTRON_RUN_AS_NODE: '1' };
}

/**
 * Starts an engine that outlives the window: detached (its own process group, so closing or
 * reloading the window does not take it down) and unref'd so the extension host never waits for
 * it. stderr (crash traces, config errors) is appended to the run's engine.log. stdout is not:
 * the engine echoes there the very lines it writes to engine.log itself, which would appear
 * twice. Errors of the spawn itself (no executable) arrive as the child's 'error' event: the
 * caller listens for it.
 */
export function spawnDetached(args: string[], runDir: string, cwd: string): ChildProcess {
  const logFd = openSync(join(runDir, RUN_FILES.log), 'a');
  try {
    const child = spawn(process.execPath, args, {
      cwd,
      detached: true,
      stdio: ['ignore', 'ignore', logFd],
      env: engineEnv(),
      windowsHide: true,
    });
    child.unref();
    return child;
  } finally {
    // The child has its own copy of the descriptor.
    closeSync(logFd);
  }
}

/** Sends a signal; false when the process is already gone. */
export function signalPid(pid: number, signal: NodeJS.Signals): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

export interface StopPlan {
  /** How long the engine gets to reach a step boundary, checkpoint and stop, before SIGTERM. */
  graceMs: number;
  /** How long after SIGTERM before SIGKILL. */
  killMs: number;
}

export const DEFAULT_STOP_PLAN: StopPlan = { graceMs: 30_000, killMs: 10_000 };

export interface StopDeps {
  isAlive(pid: number): boolean;
  signal(pid: number, signal: NodeJS.Signals): boolean;
  /** Called when an escalation step is taken, for the log. */
  onEscalate?(signal: NodeJS.Signals): void;
}

/** Creates the stop-request file the engine checks at each step boundary (the stop protocol). */
export async function requestStop(runDir: string): Promise<void> {
  await writeFile(join(runDir, STOP_REQUEST_FILE), `${new Date().toISOString()}\n`);
}

/**
 * Escalates a stop request that the engine has not honoured: SIGTERM after `graceMs` (the engine
 * treats it like the stop file), SIGKILL `killMs` later. `elapsedMs` is how long ago the request
 * was made, so a window reloaded in between keeps the original deadlines. Disposing cancels it.
 */
export function escalateStop(pid: number, plan: StopPlan, deps: StopDeps, elapsedMs = 0): IDisposable {
  let timer: NodeJS.Timeout | undefined;
  const step = (signal: NodeJS.Signals, next?: () => void) => () => {
    timer = undefined;
    if (!deps.isAlive(pid)) return;
    deps.signal(pid, signal);
    deps.onEscalate?.(signal);
    next?.();
  };
  const kill = step('SIGKILL');
  const term = step('SIGTERM', () => {
    timer = setTimeout(kill, plan.killMs);
  });
  const untilTerm = plan.graceMs - elapsedMs;
  const untilKill = untilTerm + plan.killMs;
  if (untilTerm > 0) timer = setTimeout(term, untilTerm);
  else if (untilKill > 0) {
    step('SIGTERM')();
    timer = setTimeout(kill, untilKill);
  } else timer = setTimeout(kill, 0);
  return toDisposable(() => {
    if (timer) clearTimeout(timer);
  });
}

/**
 * `finetune serve --model <dir> --host 127.0.0.1 --port <port>`: `port` 0 (a free port, printed
 * on the listening line) with `exitWithStdin` for the Playground's own server, which then ends
 * with its parent; a fixed port for the Serve Model task in the terminal.
 */
export function serveArgs(
  cli: string,
  modelDir: string,
  opts: EngineOptions,
  port: number,
  exitWithStdin: boolean,
): string[] {
  const args = [cli, 'serve', '--model', modelDir, '--host', '127.0.0.1', '--port', String(port)];
  return [...args, ...engineFlags(opts), ...(exitWithStdin ? ['--exit-with-stdin'] : [])];
}
