import type { RunState, RunStatus } from '../../shared/run-directory.js';
import type { PretrainingTask } from '../configs/from-run.js';

/**
 * The run state machine (DESIGN.md, "Run directory": queued | running | completed | failed |
 * stopped | cancelled, the last a cluster job's scancel) and what each state allows. No 'vscode' import: unit-tested in plain Node.
 */
export const RUN_STATES: readonly RunState[] = ['queued', 'running', 'completed', 'failed', 'stopped', 'cancelled'];

/** States in which some process is (or should be) working on the run. */
export function isActive(state: RunState): boolean {
  return state === 'queued' || state === 'running';
}

/**
 * Transitions the engine and the extension make. completed is terminal; failed and stopped go back
 * to queued or running on resume. A status read from disk that breaks these rules is still shown
 * (the folder is the truth), but the run manager checks every state it writes itself (queued,
 * stopped, failed: RunManager.setState) against these, from the state the run is shown in.
 */
const TRANSITIONS: Readonly<Record<RunState, readonly RunState[]>> = {
  queued: ['running', 'failed', 'stopped', 'cancelled'],
  running: ['completed', 'failed', 'stopped', 'cancelled'],
  completed: [],
  failed: ['queued', 'running'],
  stopped: ['queued', 'running'],
  cancelled: ['queued', 'running'],
};

export function canTransition(from: RunState, to: RunState): boolean {
  return from === to || TRANSITIONS[from].includes(to);
}

export type RunAction = 'stop' | 'resume' | 'delete' | 'export' | 'serve' | 'open' | 'log' | 'compare';

const ACTIONS: Readonly<Record<RunState, readonly RunAction[]>> = {
  queued: ['stop', 'delete', 'open', 'log'],
  running: ['stop', 'open', 'log', 'compare'],
  completed: ['delete', 'export', 'serve', 'open', 'log', 'compare'],
  failed: ['resume', 'delete', 'open', 'log', 'compare'],
  stopped: ['resume', 'delete', 'open', 'log', 'compare'],
  cancelled: ['resume', 'delete', 'open', 'log', 'compare'],
};

export function allows(state: RunState, action: RunAction): boolean {
  return ACTIONS[state].includes(action);
}

/**
 * The tree item's `contextValue`; package.json menus match it with `viewItem`. A completed
 * pre-training run (masked-lm, or causal-lm on plain text) is `run.completed.pretrain-<task>`, for
 * "Fine-tune from This Run" (and no Serve for a masked LM, which serves no task).
 */
export function contextValue(state: RunState, pretraining?: PretrainingTask): string {
  return state === 'completed' && pretraining ? `run.completed.pretrain-${pretraining}` : `run.${state}`;
}

export interface EffectiveState {
  state: RunState;
  reason?: string;
  /** The process that should be writing the run is gone and the state on disk is stale. */
  died: boolean;
}

export interface LivenessInput {
  /** status.json as written, or undefined when it is missing or unreadable. */
  status: RunStatus | undefined;
  /** Why status.json could not be read, when it exists but is broken. */
  statusError?: string;
  isAlive: (pid: number) => boolean;
  /** The pid of an engine this window started and that may not have written status.json yet. */
  launchedPid?: number;
  /** The last lines of engine.log, for the reason of a run whose process died. */
  logTail: readonly string[];
}

function withLog(headline: string, logTail: readonly string[]): string {
  return logTail.length === 0 ? headline : `${headline} Last lines of engine.log:\n${logTail.join('\n')}`;
}

/**
 * The state to show. A queued or running run whose process is gone (killed, crashed, machine
 * rebooted) never wrote its final state: it is shown as failed, with the end of its log as the
 * reason, because that is where a crash leaves its message.
 */
export function effectiveState(input: LivenessInput): EffectiveState {
  const { status, isAlive, launchedPid, logTail } = input;
  if (!status) {
    if (launchedPid !== undefined && isAlive(launchedPid)) return { state: 'queued', reason: 'starting', died: false };
    const why = input.statusError ?? 'status.json is missing.';
    const headline =
      launchedPid === undefined ? why : `The engine (pid ${launchedPid}) exited before writing status.json.`;
    return { state: 'failed', reason: withLog(headline, logTail), died: launchedPid !== undefined };
  }
  // A cluster job's pid is another host's (or the submitter's): the scheduler's state, synced into
  // status.json by `finetune submit --sync`, says whether it lives.
  if (isActive(status.state) && !status.job && !(status.pid > 0 && isAlive(status.pid))) {
    const headline = `The engine process (pid ${status.pid}) ended without writing a final state (status.json still says ${status.state}).`;
    return { state: 'failed', reason: withLog(headline, logTail), died: true };
  }
  return status.reason === undefined
    ? { state: status.state, died: false }
    : { state: status.state, reason: status.reason, died: false };
}
