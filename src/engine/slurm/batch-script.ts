import type { SlurmLauncherConfig } from '../../shared/config.js';
import { SBATCH_OPTIONS } from '../../shared/config-launcher.js';
import { REQUEUE_EXIT_CODE } from '../train/run-job.js';

/**
 * The batch script `finetune submit` writes into the run (or sweep) directory and hands to sbatch.
 * It runs the engine CLI with this Node, forwards Slurm's warning signal (USR1, sent to the batch
 * shell 120 s before the time limit or on preemption: --signal=B:USR1@120) to the engine, which
 * checkpoints, stops and exits with REQUEUE_EXIT_CODE, and then has Slurm requeue the job; a requeued job finds the run started
 * (events.jsonl exists) and runs `finetune resume`, which continues exactly from that checkpoint.
 * Any other end of the engine is the job's end: its exit code is recorded in `job-exit` for when
 * the scheduler has forgotten the job (there is no accounting database to ask).
 */
export const JOB_EXIT_FILE = 'job-exit';
export const BATCH_SCRIPT_FILE = 'slurm-job.sh';

/** The warning signal and how long before the time limit Slurm sends it. */
export const WARNING_SIGNAL = 'B:USR1@120';

export interface BatchScript {
  /** The run directory (a single run) or the sweep folder (an array). */
  dir: string;
  jobName: string;
  launcher: SlurmLauncherConfig;
  /** `node <abs path>/bin/finetune.js`, as an argv. */
  cli: readonly string[];
  /** The engine command for a single run; an array's tasks run `sweep-task <sweep dir>`. */
  run: { kind: 'run'; config: string } | { kind: 'sweep-task' };
  engineArgs: readonly string[];
  /** For an array: `0-N%parallel`. */
  array?: string;
}

/** sbatch's options from the launcher block, in the order of SBATCH_OPTIONS, then extra_args. */
export function launcherOptions(launcher: SlurmLauncherConfig): string[] {
  const out: string[] = [];
  for (const [key, option] of Object.entries(SBATCH_OPTIONS)) {
    const value = launcher[key as keyof typeof SBATCH_OPTIONS];
    if (value !== undefined) out.push(`${option}=${value}`);
  }
  return [...out, ...(launcher.extra_args ?? [])];
}

/** A word for bash, single-quoted unless it is plainly safe. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A single run's exit code, written atomically (an array's trials report to sweep.json instead). */
const recordExit = `printf '{"job": "%s", "exitCode": %d}\\n' "$JOB" "$code" >"$DIR/${JOB_EXIT_FILE}.tmp.$$" &&
  mv -f "$DIR/${JOB_EXIT_FILE}.tmp.$$" "$DIR/${JOB_EXIT_FILE}"
`;

export function batchScript(b: BatchScript): string {
  const q = shellQuote;
  const logs = b.array ? `${b.dir}/logs/slurm-%A_%a` : `${b.dir}/slurm-%j`;
  const options = [
    `--job-name=${b.jobName}`,
    `--output=${logs}.out`,
    `--error=${logs}.err`,
    // A requeued job appends to its logs instead of truncating them.
    '--open-mode=append',
    '--requeue',
    `--signal=${WARNING_SIGNAL}`,
    ...(b.array ? [`--array=${b.array}`] : []),
    ...launcherOptions(b.launcher),
  ];
  const cli = b.cli.map(q).join(' ');
  const engineArgs = b.engineArgs.map(q).join(' ');
  // Bash expansions, not template placeholders: the job id as scontrol and squeue name it.
  const job = b.array ? '"$SLURM_ARRAY_JOB_ID"_"$SLURM_ARRAY_TASK_ID"' : '"$SLURM_JOB_ID"';
  const start =
    b.run.kind === 'run'
      ? `if [ -e "$DIR/events.jsonl" ]; then
  echo "finetune: job $JOB (restart \${SLURM_RESTART_COUNT:-0}): resuming $DIR"
  ${cli} resume "$DIR" ${engineArgs} &
else
  ${cli} train ${q(b.run.config)} --run-dir "$DIR" ${engineArgs} &
fi`
      : `# The task asks the sweep for its trial under the sweep folder's lock (a requeued task gets its own again).
${cli} sweep-task "$DIR" ${engineArgs} &`;
  return `#!/bin/bash
# Written by 'finetune submit'; submitted as: sbatch --parsable ${q(BATCH_SCRIPT_FILE)}
${options.map((o) => `#SBATCH ${o}`).join('\n')}
set -u
DIR=${q(b.dir)}
JOB=${job}
export FINETUNE_JOB="slurm:$JOB"
# Submitted from VS Code, the CLI's node is VS Code's own executable, which runs scripts as Node only so.
export ELECTRON_RUN_AS_NODE=1
interrupted=0
child=
# Slurm's warning (time limit or preemption): the engine checkpoints and stops, then the job is requeued.
on_warning() {
  interrupted=1
  if [ -n "$child" ]; then kill -USR1 "$child" 2>/dev/null; fi
}
trap on_warning USR1
${start}
child=$!
# wait returns early when a trapped signal arrives: wait again until the engine has exited (127:
# the signal came after the engine was already waited for, so the code in hand is its exit code).
code=0
while :; do
  interrupted=0
  wait "$child"
  last=$?
  if [ "$last" -ne 127 ]; then code=$last; fi
  if [ "$interrupted" = 0 ]; then break; fi
done
if [ "$code" = ${REQUEUE_EXIT_CODE} ]; then
  echo "finetune: job $JOB checkpointed on Slurm's warning signal: requeueing it"
  scontrol requeue "$JOB"
  exit 0
fi
${b.array ? '' : recordExit}exit "$code"
`;
}
