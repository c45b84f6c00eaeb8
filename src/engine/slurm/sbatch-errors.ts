import { entryAt, parseConfigText } from '../../shared/config-tree.js';
import { formatOf } from '../../shared/config-validate.js';
import { MAX_CONFIG_BYTES } from '../../shared/limits.js';
import { readTextBounded } from '../util/bounded-read.js';

/**
 * sbatch's refusal shown as it is, with the config line of the launcher key it is about, so a bad
 * partition or an account the cluster does not know points at the line to change.
 */
// The first match wins: "Invalid account or account/partition combination" is about the account.
const BLAME: readonly [RegExp, string][] = [
  [/account|association/i, 'account'],
  [/partition/i, 'partition'],
  [/qos/i, 'qos'],
  [/time limit|--time/i, 'time'],
  [/memory|--mem/i, 'mem'],
  [/gres|gpu/i, 'gpus'],
  [/cpus|cpu count|--cpus-per-task/i, 'cpus_per_task'],
];

export class SbatchError extends Error {
  constructor(
    readonly sbatchMessage: string,
    readonly where: string,
  ) {
    super(`sbatch refused the job:\n${sbatchMessage}\n${where}`);
  }
}

/** `file:line:col: launcher.<key>: <the line>` for the key sbatch's message is about (else launcher:). */
export function blameLauncherLine(configPath: string, message: string): string {
  const text = readTextBounded(configPath, MAX_CONFIG_BYTES, 'a config file');
  const parsed = parseConfigText(text, formatOf(configPath));
  const key = BLAME.find(([re]) => re.test(message))?.[1];
  const entry = (key && entryAt(parsed.root, ['launcher', key])) || entryAt(parsed.root, ['launcher']);
  if (!entry) return `(${configPath} has no launcher: block)`;
  const pos = parsed.lines.positionAt(entry.keySpan[0]);
  const line = text.slice(parsed.lines.lineStart(pos.line), parsed.lines.lineEnd(pos.line));
  const name = entry.key === 'launcher' ? 'launcher' : `launcher.${entry.key}`;
  return `${configPath}:${pos.line + 1}:${pos.character + 1}: ${name}: ${line.trim()}`;
}
