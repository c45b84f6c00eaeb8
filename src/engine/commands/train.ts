import { parseArgs } from 'node:util';
import { resumeRun, trainFromConfig } from '../train/finetune.js';
import { REQUEUE_EXIT_CODE, warningReceived } from '../train/run-job.js';
import { type Command, ENGINE_OPTIONS, engineOptions, UsageError, withEngineExit } from './command.js';
import { isSweepDir, resumeSweepCommand } from './sweep.js';

const options = { ...ENGINE_OPTIONS, 'run-dir': { type: 'string' } } as const;

/** A one-line progress bar on a terminal; nothing when piped (the run directory has it all). */
function progress(): ((line: string) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  return (line) => process.stderr.write(`\r\x1b[2K${line}`);
}

/** Log lines on stdout, clearing the progress bar first on a terminal. */
function echo(level: string, message: string): void {
  if (level === 'debug') return;
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K');
  process.stdout.write(`${level === 'info' ? '' : `${level}: `}${message}\n`);
}

function common(values: { device?: string; threads?: string }) {
  const show = progress();
  return { ...engineOptions(values), ...(show ? { progress: show } : {}), echo };
}

async function report(runDir: string, outcome: string): Promise<number> {
  if (process.stderr.isTTY) process.stderr.write('\n');
  process.stdout.write(`run ${outcome}: ${runDir}\n`);
  // Stopped by the cluster's warning: the batch script has the job requeued on this code.
  return outcome === 'stopped' && warningReceived() ? REQUEUE_EXIT_CODE : 0;
}

export const trainCommand: Command = {
  summary: 'fine-tune a model as a config file describes; writes a run directory',
  usage: `usage: finetune train <config.finetune.yaml> [--run-dir DIR] [--device auto|cpu|cuda] [--threads N]

Validates the config, prepares the data, fine-tunes, evaluates, and exports the best model to
<run-dir>/final. Relative paths in the config resolve against the config file's folder.

  --run-dir DIR   write the run directory here (default: <output_dir>/<config name>-<timestamp>,
                  with -2, -3... when another run took that name); refused (exit code 3) while
                  another engine owns DIR
  --device D      overrides the config's device
  --threads N     ONNX Runtime intra-op threads (default: one per core)
`,
  async run(args) {
    const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true });
    const [config, ...extra] = positionals;
    if (!config || extra.length > 0) throw new UsageError('expected exactly one config file');
    return withEngineExit(async () => {
      const { runDir, outcome } = await trainFromConfig(config, values['run-dir'], common(values));
      return report(runDir, outcome);
    });
  },
};

export const resumeCommand: Command = {
  summary: 'continue a stopped, failed or killed run from its latest checkpoint',
  usage: `usage: finetune resume <run-dir | sweep-dir> [--device auto|cpu|cuda] [--threads N]

Continues exactly where the latest sound checkpoint left off (one whose files match the sha256
its trainer_state.json records; a damaged one is named and skipped), or from step 0 when the run
stopped before its first checkpoint: the per-step losses and the final model are those an
uninterrupted run would have given; refused (exit code 3)
while another engine owns the run (its lock file names the pid and host). Given a sweep's folder
(it has sweep.json), continues the sweep as 'finetune sweep --resume' does.
`,
  async run(args) {
    const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true });
    const [runDir, ...extra] = positionals;
    if (!runDir || extra.length > 0) throw new UsageError('expected exactly one run directory');
    if (isSweepDir(runDir)) return resumeSweepCommand(runDir, values);
    return withEngineExit(async () => report(runDir, await resumeRun(runDir, common(values))));
  },
};
