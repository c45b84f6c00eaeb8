import { open, readdir, readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type ConfigFs,
  type Diagnostic,
  formatOf,
  tooLargeDiagnostic,
  validateConfig,
} from '../../shared/config-validate.js';
import { MAX_CONFIG_BYTES } from '../../shared/limits.js';
import { cachedModelFolder } from '../../shared/node/hub-cache.js';
import { type Command, choiceOption, UsageError } from './command.js';

/** ConfigFs over Node's file system, for the engine and the CLI. */
export const nodeConfigFs: ConfigFs = {
  async exists(path) {
    return stat(path).then(
      () => true,
      () => false,
    );
  },
  async readText(path) {
    return readFile(path, 'utf8').catch(() => undefined);
  },
  async readDir(path) {
    return readdir(path).catch(() => undefined);
  },
  async resolveHubModel(id) {
    return cachedModelFolder(id);
  },
  async readHead(path, bytes) {
    const file = await open(path, 'r').catch(() => undefined);
    if (!file) return undefined;
    try {
      const buffer = Buffer.alloc(bytes);
      const { bytesRead } = await file.read(buffer, 0, bytes, 0);
      return buffer.subarray(0, bytesRead).toString('utf8');
    } catch {
      return undefined; // a folder opens, and fails here
    } finally {
      await file.close();
    }
  },
};

/** One diagnostic as a compiler would print it: 1-based line and column. */
export function formatDiagnostic(file: string, d: Diagnostic): string {
  return `${file}:${d.range.start.line + 1}:${d.range.start.character + 1}: ${d.severity}: ${d.message} [${d.code}]`;
}

export interface ValidateOptions {
  format: 'text' | 'json';
  out: { write(s: string): unknown };
}

/** Validates one config file and prints its diagnostics; resolves to the exit code. */
export async function validateFile(file: string, o: ValidateOptions): Promise<number> {
  const path = resolve(file);
  const cannot = (err: NodeJS.ErrnoException) => {
    throw new UsageError(`can't read ${file}: ${err.code ?? err.message}`);
  };
  // A file over the limit is reported, not read (the same diagnostic the editor shows).
  const { size } = await stat(path).catch(cannot);
  const diagnostics =
    size > MAX_CONFIG_BYTES
      ? [tooLargeDiagnostic(size)]
      : await validateConfig(await readFile(path, 'utf8').catch(cannot), formatOf(path), {
          fs: nodeConfigFs,
          configDir: dirname(path),
        });
  if (o.format === 'json') {
    const list = diagnostics.map(({ severity, message, code, range }) => ({ severity, message, code, range }));
    o.out.write(`${JSON.stringify(list, null, 2)}\n`);
  } else {
    // The path as given, like a compiler: relative stays relative, so editors and terminals can open it.
    for (const d of diagnostics) o.out.write(`${formatDiagnostic(file, d)}\n`);
    const errors = diagnostics.filter((d) => d.severity === 'error').length;
    const warnings = diagnostics.filter((d) => d.severity === 'warning').length;
    const summary = diagnostics.length === 0 ? 'no problems' : `${errors} error(s), ${warnings} warning(s)`;
    o.out.write(`${file}: ${summary}\n`);
  }
  return diagnostics.some((d) => d.severity === 'error') ? 1 : 0;
}

export const validateCommand: Command = {
  summary: 'check a config file: syntax, schema, rules, and the model and data it names',
  usage: `usage: finetune validate <config> [--format text|json]

Checks a *.finetune.yaml or *.finetune.json file the way the editor does: syntax, unknown keys,
types and ranges, keys that contradict each other, and whether the model folder, the data files
and their columns exist. Paths in the config are relative to its folder.

  --format text   file:line:col: severity: message [code], one per line (default)
  --format json   a JSON array of {severity, message, code, range} with 0-based positions

Exits with 1 when there is an error, 0 otherwise (warnings included).
`,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      options: { format: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    });
    const format = choiceOption(values.format, 'format', ['text', 'json'] as const) ?? 'text';
    if (positionals.length !== 1) throw new UsageError('expected one config file');
    return validateFile(positionals[0] as string, { format, out: process.stdout });
  },
};
