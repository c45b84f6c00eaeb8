import { DEVICE_NAMES, type DeviceName } from '../../shared/config.js';
import { LOCKED_EXIT_CODE } from '../../shared/run-lock.js';
import { ConfigError } from '../train/finetune.js';
import { RunLockedError } from '../train/run-lock.js';

/** One `finetune <name>` command: how it is described in help and what it runs. */
export interface Command {
  /** One line for `finetune help`. */
  summary: string;
  /** Full help for `finetune <name> --help`. */
  usage: string;
  /** Runs with the arguments after the command name; resolves to the exit code. */
  run(args: string[]): Promise<number>;
}

/** Bad command-line input: printed with the command's usage, exit code 2. */
export class UsageError extends Error {}

/**
 * `--name N`, a non-negative integer, or undefined when absent. A blank value (`--name=`) is an
 * error, not 0 (which is what Number('') gives).
 */
export function intOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0)
    throw new UsageError(`--${name} must be a non-negative integer, got '${value}'`);
  return n;
}

/** `--name X`, a finite number, or undefined when absent; a blank value is an error, as in intOption. */
export function numberOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got '${value}'`);
  return n;
}

/** `--name X` that must be given (and not blank). */
export function requiredOption(value: string | undefined, name: string): string {
  if (value === undefined || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

export function choiceOption<T extends string>(
  value: string | undefined,
  name: string,
  choices: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (!choices.includes(value as T))
    throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got '${value}'`);
  return value as T;
}

/** The options of every command that starts an engine run (train, resume, sweep). */
export const ENGINE_OPTIONS = { device: { type: 'string' }, threads: { type: 'string' } } as const;

/** --device and --threads, checked; absent ones are left out. */
export function engineOptions(values: { device?: string; threads?: string }): {
  device?: DeviceName;
  threads?: number;
} {
  const device = choiceOption(values.device, 'device', DEVICE_NAMES);
  const threads = intOption(values.threads, 'threads');
  return { ...(device ? { device } : {}), ...(threads === undefined ? {} : { threads }) };
}

/**
 * Runs a command's body, turning the two failures a user fixes without a stack into exit codes:
 * a config with errors (its diagnostics, exit 1) and a run or sweep folder another engine owns
 * (LOCKED_EXIT_CODE, which the extension tells from a failure).
 */
export async function withEngineExit(body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    if (!(err instanceof RunLockedError)) throw err;
    process.stderr.write(`finetune: ${err.message}\n`);
    return LOCKED_EXIT_CODE;
  }
}

/** `--device D --threads N` as given, checked, for an engine this command starts (a trial, a cluster job). */
export function engineArgs(values: { device?: string; threads?: string }): string[] {
  const { device, threads } = engineOptions(values);
  return [...(device ? ['--device', device] : []), ...(threads === undefined ? [] : ['--threads', String(threads)])];
}
