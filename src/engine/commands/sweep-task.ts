import { parseArgs } from 'node:util';
import { runArrayTask } from '../sweep/array-task.js';
import { type Command, engineArgs, UsageError } from './command.js';

export const sweepTaskCommand: Command = {
  summary: "one trial of a sweep submitted to Slurm (run by the job array's batch script)",
  usage: `usage: finetune sweep-task <sweep-dir> [--device D] [--threads N]

Run by each task of the job array that 'finetune submit' makes of a sweep: takes the task's trial
from <sweep-dir>/sweep.json under the sweep folder's lock (its own again after a requeue, else the
next trial with the strategy's values), runs it, and records its evaluations, pruning and outcome.
Needs FINETUNE_JOB, which the batch script sets.
`,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      options: { device: { type: 'string' }, threads: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    });
    const [sweepDir, ...extra] = positionals;
    if (!sweepDir || extra.length > 0) throw new UsageError('expected exactly one sweep folder');
    return runArrayTask(sweepDir, {
      engineArgs: engineArgs(values),
      echo: (line) => process.stdout.write(`${line}\n`),
    });
  },
};
