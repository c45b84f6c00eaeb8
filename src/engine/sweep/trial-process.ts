import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RUN_FILES, type RunEvent, type RunStatus } from '../../shared/run-directory.js';

/**
 * A trial is an ordinary engine run in its own process (`finetune train` or `finetune resume`), so
 * trials can run side by side and a pruned one stops by the run directory's stop protocol like any
 * other run. The sweep reads the trial's progress from its run directory, as the extension does.
 */
export type TrialLauncher = (args: readonly string[]) => ChildProcess;

/** This CLI again, with the same Node flags (a loader under tests): `<node> [flags] <cli> <args>`. */
export const cliLauncher: TrialLauncher = (args) =>
  spawn(process.execPath, [...process.execArgv, process.argv[1] as string, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });

export interface TrialExit {
  code: number | null;
  /** The end of what the engine printed on stderr (a config error has no status.json to say it). */
  stderr: string;
}

export function watchExit(child: ChildProcess): Promise<TrialExit> {
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  return new Promise((resolve) => {
    child.on('error', (err) => resolve({ code: null, stderr: err.message }));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

/** The eval events of a run directory so far; a partial last line (an append in progress) is left out. */
export function evalEvents(runDir: string): Extract<RunEvent, { type: 'eval' }>[] {
  const file = join(runDir, RUN_FILES.events);
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  if (!text.endsWith('\n')) lines.pop();
  const out: Extract<RunEvent, { type: 'eval' }>[] = [];
  for (const line of lines) {
    if (!line.includes('"eval"')) continue;
    const e = JSON.parse(line) as RunEvent;
    if (e.type === 'eval') out.push(e);
  }
  return out;
}

export function runStatus(runDir: string): RunStatus | undefined {
  const file = join(runDir, RUN_FILES.status);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as RunStatus;
}
