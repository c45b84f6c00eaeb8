import { parseArgs } from 'node:util';
import type { DeviceChoice } from './runtime.js';
import { selftest } from './selftest.js';

/** `finetune <command> [options]`: the engine's command line. Never imports 'vscode'. */
const USAGE = `usage: finetune <command> [options]

commands:
  selftest   train a small transformer classifier on a synthetic task and report accuracy
             --epochs N (default 6)  --device auto|cpu|cuda (default auto)  --threads N  --seed N (default 42)
  help       show this message
`;

const DEVICES: readonly DeviceChoice[] = ['auto', 'cpu', 'cuda'];

function intOption(value: string | undefined, name: string, dflt: number | undefined): number | undefined {
  if (value === undefined) return dflt;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a non-negative integer, got '${value}'`);
  return n;
}

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return command === undefined ? 1 : 0;
  }
  if (command === 'selftest') {
    const { values } = parseArgs({
      args: rest,
      options: {
        epochs: { type: 'string' },
        device: { type: 'string' },
        threads: { type: 'string' },
        seed: { type: 'string' },
      },
      strict: true,
    });
    const device = (values.device ?? 'auto') as DeviceChoice;
    if (!DEVICES.includes(device))
      throw new UsageError(`--device must be one of ${DEVICES.join(', ')}, got '${values.device}'`);
    const reports = await selftest({
      epochs: intOption(values.epochs, 'epochs', 6) as number,
      device,
      threads: intOption(values.threads, 'threads', undefined),
      seed: intOption(values.seed, 'seed', 42) as number,
      out: process.stdout,
    });
    const last = reports[reports.length - 1];
    process.stdout.write(`selftest: final validation accuracy ${((last?.valAccuracy ?? 0) * 100).toFixed(1)}%\n`);
    return 0;
  }
  throw new UsageError(`unknown command '${command}'`);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (
      err instanceof UsageError ||
      (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))
    ) {
      process.stderr.write(`finetune: ${(err as Error).message}\n\n${USAGE}`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`finetune: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
