import { spawnSync } from 'node:child_process';

/**
 * Slurm's own commands (sbatch, squeue, scontrol, scancel), run synchronously: they answer in
 * milliseconds from slurmctld, and their exact words are what a user needs to see on an error.
 */
export interface SlurmResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class SlurmCommandError extends Error {
  constructor(
    readonly command: string,
    readonly result: SlurmResult,
  ) {
    super(`${command} failed (exit code ${result.code}):\n${(result.stderr || result.stdout).trim()}`);
  }
}

export function slurm(command: string, args: readonly string[]): SlurmResult {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 60_000 });
  if (r.error) {
    const missing = (r.error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(
      missing
        ? `${command} is not installed or not on PATH: 'finetune submit' needs Slurm's client commands (Debian: apt-get install slurm-client)`
        : `${command}: ${r.error.message}`,
    );
  }
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

/** Runs the command and returns its stdout, or throws its stderr verbatim. */
export function slurmOk(command: string, args: readonly string[]): string {
  const r = slurm(command, args);
  if (r.code !== 0) throw new SlurmCommandError(`${command} ${args.join(' ')}`, r);
  return r.stdout;
}
