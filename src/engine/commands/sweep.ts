import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LOCKED_EXIT_CODE } from '../../shared/run-lock.js';
import { resumeSweep, type SweepOptions, startSweep } from '../sweep/runner.js';
import { SWEEP_FILE, type SweepRecord } from '../sweep/state.js';
import { ConfigError } from '../train/finetune.js';
import { RunLockedError } from '../train/run-lock.js';
import { type Command, engineArgs, UsageError } from './command.js';

const options = {
  device: { type: 'string' },
  threads: { type: 'string' },
  'sweep-dir': { type: 'string' },
  resume: { type: 'boolean' },
} as const;

/** Whether a folder given to `finetune resume` is a sweep's (it has sweep.json) rather than a run's. */
export function isSweepDir(dir: string): boolean {
  return existsSync(join(dir, SWEEP_FILE));
}

function sweepOptions(values: { device?: string; threads?: string }): SweepOptions {
  return {
    engineArgs: engineArgs(values),
    echo: (line) => process.stdout.write(`${line}\n`),
  };
}

function summary(sweepDir: string, record: SweepRecord): number {
  const count = (state: string) => record.trials.filter((t) => t.state === state).length;
  const s = record.settings;
  process.stdout.write(
    `sweep ${record.state}: ${sweepDir}\n  ${record.trials.length} trials: ${count('completed')} completed, ${count('pruned')} pruned, ${count('failed')} failed\n`,
  );
  if (record.reason) process.stdout.write(`  ${record.reason}\n`);
  if (record.best) {
    const params = Object.entries(record.best.params)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ');
    process.stdout.write(`  best: trial ${record.best.trial}, ${s.metric} ${record.best.value} (${params})\n`);
  }
  return 0;
}

/** `finetune resume <sweep dir>` comes here too. */
export async function resumeSweepCommand(
  sweepDir: string,
  values: { device?: string; threads?: string },
): Promise<number> {
  try {
    const { record } = await resumeSweep(sweepDir, sweepOptions(values));
    return summary(sweepDir, record);
  } catch (err) {
    return refused(err);
  }
}

export const sweepCommand: Command = {
  summary: "run the trials of a config's sweep: block and keep the best (or --resume a sweep)",
  usage: `usage: finetune sweep <config.finetune.yaml> [--sweep-dir DIR] [--device auto|cpu|cuda] [--threads N]
       finetune sweep --resume <sweep-dir>

Runs the trials of the config's sweep: block (strategy grid, random or tpe; pruner median or asha),
each an ordinary run directory <sweep-dir>/trials/<n>/, and writes <sweep-dir>/sweep.json: the
space, the settings, every trial's parameters, state, evaluations and objective, and the best.

  --sweep-dir DIR  the sweep's folder (default: <output_dir>/<config name>-sweep-<timestamp>)
  --resume         continue the sweep in <sweep-dir>: finished trials are kept, an interrupted
                   one resumes from its checkpoint, the next ones are those an uninterrupted sweep
                   would have run (same as 'finetune resume <sweep-dir>')
  --device D       overrides the config's device in every trial
  --threads N      ONNX Runtime intra-op threads of each trial's engine
`,
  async run(args) {
    const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true });
    const [target, ...extra] = positionals;
    if (!target || extra.length > 0)
      throw new UsageError(values.resume ? 'expected exactly one sweep folder' : 'expected exactly one config file');
    if (values.resume) return resumeSweepCommand(target, values);
    try {
      const { sweepDir, record } = await startSweep(target, values['sweep-dir'], sweepOptions(values));
      return summary(sweepDir, record);
    } catch (err) {
      if (err instanceof ConfigError) {
        process.stderr.write(`${err.message}\n`);
        return 1;
      }
      return refused(err);
    }
  },
};

/** Another sweep process owns the folder: the same exit code as a locked run. */
function refused(err: unknown): number {
  if (!(err instanceof RunLockedError)) throw err;
  process.stderr.write(`finetune: ${err.message}\n`);
  return LOCKED_EXIT_CODE;
}
