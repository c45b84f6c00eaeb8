import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { resumeSweep, type SweepOptions, startSweep } from '../sweep/runner.js';
import { SWEEP_FILE, type SweepRecord } from '../sweep/state.js';
import { type Command, ENGINE_OPTIONS, engineArgs, UsageError, withEngineExit } from './command.js';

const options = {
  ...ENGINE_OPTIONS,
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
  return withEngineExit(async () => {
    const { record } = await resumeSweep(sweepDir, sweepOptions(values));
    return summary(sweepDir, record);
  });
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
    return withEngineExit(async () => {
      const { sweepDir, record } = await startSweep(target, values['sweep-dir'], sweepOptions(values));
      return summary(sweepDir, record);
    });
  },
};
