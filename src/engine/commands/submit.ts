import { parseArgs } from 'node:util';
import { syncRun } from '../slurm/job-state.js';
import { SbatchError } from '../slurm/sbatch-errors.js';
import { cancelRun, submitRun } from '../slurm/submit.js';
import { cancelSweep, submitSweep, syncSweep } from '../slurm/sweep-array.js';
import { ConfigError, loadConfig } from '../train/finetune.js';
import { type Command, engineArgs, intOption, UsageError } from './command.js';
import { isSweepDir } from './sweep.js';

const options = {
  device: { type: 'string' },
  threads: { type: 'string' },
  'run-dir': { type: 'string' },
  status: { type: 'boolean' },
  cancel: { type: 'boolean' },
  grace: { type: 'string' },
} as const;

function show(dir: string, s: { state: string; reason?: string; step: number; job?: { id: string } }): void {
  const reason = s.reason ? ` (${s.reason})` : '';
  process.stdout.write(`${dir}: job ${s.job?.id ?? '?'} ${s.state}${reason}, step ${s.step}\n`);
}

export const submitCommand: Command = {
  summary: 'run a config (or its sweep, as a job array) on Slurm, as its launcher: block says',
  usage: `usage: finetune submit <config.finetune.yaml> [--run-dir DIR] [--device D] [--threads N]
       finetune submit --status <run-dir | sweep-dir>
       finetune submit --cancel <run-dir | sweep-dir> [--grace SECONDS]

Writes a batch script into the run directory and submits it with sbatch (--requeue,
--signal=B:USR1@120, logs slurm-<job>.out/.err in the run directory) using the config's
launcher: block (partition, time, cpus_per_task, mem, gpus, account, qos, extra_args). A config
with a sweep: block becomes a job array (--array=0-<max_trials-1>%<parallel>), one trial per task.
Before its time limit (or when preempted) a job checkpoints, is requeued, and resumes from there.

  --run-dir DIR  the run (or sweep) directory, on a filesystem the cluster's nodes share
  --status       read the job's state from Slurm into status.json (queued with the pending
                 reason, running, completed, failed with the exit code, cancelled) and print it
  --cancel       stop the run: the stop file first (the engine checkpoints), then scancel; for a
                 sweep, its running trials so and the whole array (the sweep ends stopped)
  --grace S      how long --cancel waits for the checkpoint before scancel (default 120)
  --device D     overrides the config's device in the job
  --threads N    ONNX Runtime intra-op threads of the job's engine
`,
  async run(args) {
    const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true });
    const [target, ...extra] = positionals;
    if (!target || extra.length > 0) throw new UsageError('expected exactly one config file or directory');
    if (values.status) {
      if (isSweepDir(target)) {
        for (const [dir, s] of syncSweep(target)) show(dir, s);
      } else show(target, syncRun(target));
      return 0;
    }
    if (values.cancel) {
      const grace = (intOption(values.grace, 'grace') ?? 120) * 1000;
      if (!isSweepDir(target)) show(target, await cancelRun(target, grace));
      else {
        const record = await cancelSweep(target, grace);
        process.stdout.write(`${target}: sweep ${record.state}${record.reason ? ` (${record.reason})` : ''}\n`);
      }
      return 0;
    }
    try {
      const o = { ...(values['run-dir'] ? { runDir: values['run-dir'] } : {}), engineArgs: engineArgs(values) };
      if (loadConfig(target).sweep) {
        const { sweepDir, jobId, tasks } = submitSweep(target, o);
        process.stdout.write(`submitted job array ${jobId} (${tasks} trials): ${sweepDir}\n`);
      } else {
        const { runDir, jobId } = submitRun(target, o);
        process.stdout.write(`submitted job ${jobId}: ${runDir}\n`);
      }
      return 0;
    } catch (err) {
      if (err instanceof ConfigError || err instanceof SbatchError) {
        process.stderr.write(`${err.message}\n`);
        return 1;
      }
      throw err;
    }
  },
};
