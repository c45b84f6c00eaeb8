import { spawn } from 'node:child_process';
import { nodeAt, parseConfigText } from '../../shared/config-tree.js';
import { formatOf } from '../../shared/config-validate.js';
import { engineEnv } from './engine-process.js';

/**
 * The extension's side of `finetune submit` (src/engine/slurm): it runs the engine CLI's submit,
 * --status and --cancel, as a user would in a terminal, and shows their words. No 'vscode' import.
 */

/** The config's launcher type (`slurm`) when it has a launcher: block. */
export function launcherTypeOf(text: string, fileName: string): string | undefined {
  const node = nodeAt(parseConfigText(text, formatOf(fileName)).root, ['launcher', 'type']);
  return node?.kind === 'scalar' && typeof node.value === 'string' ? node.value : undefined;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `<node> <cli...> <args>` in `cwd`, to its end; `cli` is the CLI's path (with Node flags before it, if any). */
export function runCli(cli: readonly string[], args: readonly string[], cwd: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...cli, ...args], { cwd, env: engineEnv(), windowsHide: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', (err) => resolve({ code: null, stdout, stderr: err.message }));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Submits the config; the run directory on success. sbatch's refusal comes back verbatim with the
 * launcher line that caused it (the CLI's stderr), as the error's message.
 */
export async function submitConfig(cliPath: string, configPath: string, cwd: string, runDir: string): Promise<string> {
  const r = await runCli([cliPath], ['submit', configPath, '--run-dir', runDir], cwd);
  const dir = /^submitted (?:job|job array) \d+(?: \(\d+ trials\))?: (.+)$/m.exec(r.stdout)?.[1];
  if (r.code !== 0 || !dir) throw new Error((r.stderr || r.stdout).trim() || `finetune submit exited with ${r.code}`);
  return dir.trim();
}

/** Stop a cluster run: the CLI writes the stop file, waits for the checkpoint, then scancels. */
export async function cancelJob(cliPath: string, runDir: string, cwd: string): Promise<void> {
  const r = await runCli([cliPath], ['submit', '--cancel', runDir], cwd);
  if (r.code !== 0) throw new Error((r.stderr || r.stdout).trim());
}
