/**
 * The run directory contract (see DESIGN.md, "Run directory"): what the engine writes and the
 * extension and webview read. Change only together with every reader.
 */
export type RunState = 'queued' | 'running' | 'completed' | 'failed' | 'stopped' | 'cancelled';

/**
 * The cluster job that runs the run (`finetune submit`), in status.json while it has one. The
 * submitter writes it with state `queued`; `finetune submit --sync` (squeue, scontrol) maps the
 * scheduler's state onto the run: `queued` with the pending reason in `reason`, `failed` with the
 * job's exit code, `cancelled` (scancel). While the job runs, its engine writes status.json as
 * any engine does and carries `job` on. Readers never judge such a run by `pid` (another host's).
 */
export interface RunJob {
  scheduler: 'slurm';
  /** The job id (`1234`, or `1234_5` for a task of a job array). */
  id: string;
  /** Where the job was submitted, for people. */
  host?: string;
  /** The scheduler's own state word when last read (PENDING, RUNNING, COMPLETED, ...). */
  schedulerState?: string;
  /** The batch script's exit code, once the job has ended. */
  exitCode?: number;
}

/** `status.json`, rewritten atomically (temporary file, then rename). */
export interface RunStatus {
  state: RunState;
  pid: number;
  startedAt: string;
  updatedAt: string;
  step: number;
  totalSteps: number;
  epoch: number;
  best?: { metric: string; value: number; step: number };
  reason?: string;
  job?: RunJob;
}

/** One line of `events.jsonl`. `t` is milliseconds since the Unix epoch. */
export type RunEvent =
  | { type: 'step'; step: number; epoch: number; loss: number; lr: number; tokensPerSec: number; t: number }
  | { type: 'eval'; step: number; metrics: Record<string, number>; t: number }
  | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; message: string; t: number }
  | { type: 'checkpoint'; step: number; path: string; t: number }
  | { type: 'status'; state: RunState; reason?: string; t: number }
  | { type: 'samples'; step: number; samples: EvalSample[]; t: number };

/**
 * One validation row of a generating evaluation (translation or summarization with
 * `eval.generate: true`): its source text, its reference target and the model's output. A
 * `samples` event carries the first `MAX_EVAL_SAMPLES` validation rows at each evaluation, the
 * same rows every time, so a table can compare them over the run.
 */
export interface EvalSample {
  source: string;
  reference: string;
  prediction: string;
}

export const MAX_EVAL_SAMPLES = 8;

/**
 * Stop protocol: a reader that wants a run to stop creates this (empty) file in the run directory;
 * the engine checks for it at every step boundary, writes a checkpoint and ends in `stopped`. The
 * engine treats SIGTERM and SIGINT the same way. A run that has not stopped after a grace period
 * may then be killed; its last checkpoint stays loadable.
 */
export const STOP_REQUEST_FILE = 'stop-requested';

/**
 * The runs folder (`<output_dir>` above) when neither the config's `output_dir` nor the extension's
 * `finetune.runsFolder` setting names one. The config schema's default, the setting's default in
 * package.json (checked by test/extension/manifest.test.ts) and the engine's fallback are this.
 */
export const DEFAULT_RUNS_FOLDER = '.finetune/runs';

/**
 * The runs folder a config's runs go to, as written (not yet resolved): its `output_dir` when set
 * (a non-empty string), else `fallback` (the extension passes its `finetune.runsFolder` setting;
 * the engine has none, so the default). A relative folder is relative to the workspace folder:
 * the extension resolves it against the workspace folder, the engine against its working
 * directory, which is the workspace folder when the extension starts it (and where a CLI user
 * runs it from). The resolving is left to the callers because src/shared has no `node:path`.
 */
export function runsFolderOf(outputDir: string | undefined, fallback: string = DEFAULT_RUNS_FOLDER): string {
  return outputDir ? outputDir : fallback;
}

/** Files of the run directory, by role. */
export const RUN_FILES = {
  config: 'config.yaml',
  status: 'status.json',
  events: 'events.jsonl',
  log: 'engine.log',
  checkpoints: 'checkpoints',
  final: 'final',
  /** `{pid, host, startedAt}` while an engine owns the run (run-lock.ts). */
  lock: 'lock',
} as const;

/**
 * `final/distillation.json`, written by a distillation run once its final model is exported: the
 * teacher beside the student. `metrics` of the teacher are its own run's final/metrics.json (its
 * validation split, not re-measured on the student's; empty for a bare model folder), the
 * student's are this run's final/metrics.json. Parameters come from the safetensors headers;
 * `latencyMs` is the median batch-1 forward of each model.onnx over the same `examples` training
 * rows, on CPU with `threads` ORT threads (absent for a teacher folder without a model.onnx).
 */
export interface DistillationSide {
  path: string;
  metrics: Record<string, number>;
  parameters: number;
  latencyMs?: number;
}
export interface DistillationReport {
  teacher: DistillationSide;
  student: DistillationSide;
  latency: { examples: number; threads: number };
}
export const DISTILLATION_REPORT_FILE = 'distillation.json';
