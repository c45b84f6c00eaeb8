import { type ChatMessage, type ChatOptions, type ChatStopReason, checkChatOptions } from './chat-protocol.js';
import type { ConfigFormat, Diagnostic } from './config-tree.js';
import type { DataReport } from './data-report.js';
import {
  isPlaygroundRequest,
  PLAYGROUND_HOST_TYPES,
  PLAYGROUND_REQUEST_TYPES,
  type PlaygroundHostMessage,
  type PlaygroundRequest,
} from './playground-messages.js';
import type { DistillationReport, RunEvent, RunStatus } from './run-directory.js';
import type { SweepRecord, SweepState } from './sweep-record.js';

/**
 * The protocol between the extension host and the run panel's webview (DESIGN.md, "Extension").
 *
 * Handshake: the webview posts `ready` once its script has run (a message posted before that would
 * be lost, since VS Code does not queue them), and the host answers with `init`, carrying
 * everything the panel shows. A webview that is hidden and shown again is recreated and sends
 * `ready` again, so `init` is also how the panel recovers after a reload.
 *
 * Requests: every webview message that wants an answer carries an `id`; the host answers each
 * with exactly one `reply` with that id, `ok: false` and an error text when it failed, so a
 * failure is shown where the user acted instead of being lost in the host's log.
 *
 * Updates: after `init` the host sends only what is new. `events` carries the events appended to
 * each run's `events.jsonl` since the last message, batched by the host (at most one message per
 * EVENT_BATCH_MS) so a fast run cannot flood the webview with one message per step.
 *
 * Chat (the Chat tab; the engine side is src/shared/chat-protocol.ts): `chatModels` asks for the
 * models of a run the tab can talk to, which the host posts as a `chatModels` message before its
 * reply. `chatSend` starts a reply under a `chatId` the page chooses: the host posts `chatReady`
 * (the model is loaded), `chatToken` deltas and `chatDone`, and replies to the request once the
 * generation has ended, `ok: false` with the reason when it could not run or failed. `chatStop`
 * ends the generation under way at the next token.
 *
 * Sweeps: a panel opened on a sweep folder gets its `sweep.json` in `init` and again, whole, in a
 * `sweep` message each time the file is replaced (it is small: one record per trial). `applyBest`
 * asks the host to write the best trial's values into the sweep's source config.
 * Playground (the Playground tab): src/shared/playground-messages.ts.
 *
 * Data (the Data tab): `dataReport` asks for a run's data-report.json (`runId`), or, without a
 * run, the config's report computed now by the engine (`finetune data stats --format json`); the
 * host posts it as a `dataReport` message before its reply. `openDataRow` opens a dataset file at
 * a line of the report: the host resolves the path against the run (or the config's folder) and
 * refuses one outside the workspace and the run. `showData` asks the page to show the Data tab on
 * the config's report (the Show Data Report command).
 */
export const EVENT_BATCH_MS = 100;

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A path into the config: keys and array indices from the root, as in Diagnostic.path. */
export type ConfigPath = (string | number)[];

/** The config file the panel edits, as the host last read it. */
export interface ConfigState {
  uri: string;
  /** The file's name, for titles and messages. */
  fileName: string;
  format: ConfigFormat;
  text: string;
  /** The document version the text belongs to; edits are applied on the host's current text. */
  version: number;
  /**
   * The editor's diagnostics for this text, when the host has them (they include checks of files
   * on disk). Without them the webview validates the text itself with the same validator.
   */
  diagnostics?: Diagnostic[];
}

/** `final/metrics.json`: metric name to value, and for classification a confusion matrix. */
export interface FinalMetrics {
  [metric: string]: unknown;
  confusion_matrix?: ConfusionMatrix;
}

/** `matrix[i][j]` counts examples of true label `labels[i]` predicted as `labels[j]`. */
export interface ConfusionMatrix {
  labels: (string | number)[];
  matrix: number[][];
}

/** One run directory as the panel knows it, without its events. */
export interface RunInfo {
  /** The run id: the run directory's name. */
  id: string;
  /** The run directory, as a path for display. */
  dir: string;
  /** Undefined until the engine has written `status.json`. */
  status?: RunStatus;
  /** The resolved config as run (`config.yaml`), for the comparison legend. */
  config?: JsonValue;
  finalMetrics?: FinalMetrics;
  /** `final/distillation.json` of a distillation run: the teacher beside the student. */
  distillation?: DistillationReport;
}

export interface RunSnapshot extends RunInfo {
  /** Every event of `events.jsonl` so far. */
  events: RunEvent[];
}

/** What the Start, Stop and Resume buttons ask for; the host maps them to command ids. */
export type RunCommand = 'start' | 'stop' | 'resume';

/** A sweep folder as the panel knows it. */
export interface SweepInfo {
  /** The sweep folder's name. */
  id: string;
  dir: string;
  /** sweep.json, undefined while it is missing or unreadable (`error` says why). */
  record?: SweepRecord;
  error?: string;
  /** The record's state, except a `running` sweep whose process is gone (killed): `stopped`. */
  state?: SweepState;
  reason?: string;
  /** The config file "Apply best to config" edits, when the host found it. */
  sourceFile?: string;
}

// ---- host -> webview ------------------------------------------------------------------------

export interface InitMessage {
  type: 'init';
  /** Absent when the panel shows runs without a config file (e.g. a comparison). */
  config?: ConfigState;
  runs: RunSnapshot[];
  /** Workspace Trust: false means the engine cannot be started, so Start and Resume are disabled. */
  trusted: boolean;
  /** What the panel shows, saved in the page's state so VS Code can restore the panel after a reload. */
  target: PanelTarget;
  /** Set when the panel shows a sweep. */
  sweep?: SweepInfo;
}

export interface PanelTarget {
  runDirs: string[];
  configUri?: string;
  /** A sweep folder: the panel opens on its Sweep view. */
  sweepDir?: string;
}

/** The sweep's sweep.json changed (or became readable or unreadable). */
export interface SweepMessage {
  type: 'sweep';
  sweep: SweepInfo;
}

export interface ConfigMessage {
  type: 'config';
  config: ConfigState;
}

export interface EventsMessage {
  type: 'events';
  runs: { runId: string; events: RunEvent[] }[];
}

/** A run was added, or its status or final metrics changed. */
export interface RunMessage {
  type: 'run';
  run: RunInfo;
  /** Set when the run's events.jsonl was rewritten: the events so far replace the panel's. */
  events?: RunEvent[];
}

export interface RunRemovedMessage {
  type: 'runRemoved';
  runId: string;
}

export type ReplyMessage =
  | { type: 'reply'; id: number; ok: true }
  | { type: 'reply'; id: number; ok: false; error: string };

/** A model of a run the Chat tab can talk to: `final` or a checkpoint's folder name (`step-<N>`). */
export interface ChatModelChoice {
  key: string;
  label: string;
}

export interface ChatModelsMessage {
  type: 'chatModels';
  runId: string;
  models: ChatModelChoice[];
  /** Why the run has no model to chat with (its task, no checkpoint yet); absent when it has. */
  unavailable?: string;
}

/** The engine has loaded the model; `chat` false: no chat template, replies continue the text. */
export interface ChatReadyMessage {
  type: 'chatReady';
  chatId: number;
  chat: boolean;
}

export interface ChatTokenMessage {
  type: 'chatToken';
  chatId: number;
  text: string;
}

export interface ChatDoneMessage {
  type: 'chatDone';
  chatId: number;
  stoppedBy: ChatStopReason;
  tokens: number;
}

export type ChatHostMessage = ChatModelsMessage | ChatReadyMessage | ChatTokenMessage | ChatDoneMessage;

/** A data report: a run's data-report.json (`runId`), or the config's computed now (no `runId`). */
export interface DataReportMessage {
  type: 'dataReport';
  runId?: string;
  report: DataReport;
}

/** Show the Data tab on the config's report. */
export interface ShowDataMessage {
  type: 'showData';
}

export type HostMessage =
  | InitMessage
  | ConfigMessage
  | EventsMessage
  | RunMessage
  | RunRemovedMessage
  | SweepMessage
  | ReplyMessage
  | ChatHostMessage
  | DataReportMessage
  | ShowDataMessage
  | PlaygroundHostMessage;

// ---- webview -> host ------------------------------------------------------------------------

export interface ReadyMessage {
  type: 'ready';
}

/** Set the value at `path` in the config file; `value` undefined removes the key. */
export interface EditConfigRequest {
  type: 'editConfig';
  id: number;
  path: ConfigPath;
  value: JsonValue | undefined;
}

export interface CommandRequest {
  type: 'command';
  id: number;
  command: RunCommand;
  /** The run that Stop and Resume act on. */
  runId?: string;
}

/** Save a chart as a PNG file: the host shows a save dialog. */
export interface ExportPngRequest {
  type: 'exportPng';
  id: number;
  /** A suggested file name, without folder. */
  fileName: string;
  /** `data:image/png;base64,...` */
  dataUrl: string;
}

export interface ChatModelsRequest {
  type: 'chatModels';
  id: number;
  runId: string;
}

/** A conversation's next reply; `messages` are the user and assistant turns, the system prompt apart. */
export interface ChatSendRequest {
  type: 'chatSend';
  id: number;
  chatId: number;
  runId: string;
  /** A ChatModelChoice key of the run. */
  model: string;
  system: string;
  messages: ChatMessage[];
  options: ChatOptions;
}

export interface ChatStopRequest {
  type: 'chatStop';
  id: number;
  chatId: number;
}

/** Write the values of the sweep's best trial (`trial`, as the page shows it) into its source config. */
export interface ApplyBestRequest {
  type: 'applyBest';
  id: number;
  trial: number;
}

/** A run's data report (`runId`), or the config's computed by the engine (no `runId`). */
export interface DataReportRequest {
  type: 'dataReport';
  id: number;
  runId?: string;
}

/** Open a dataset file of a report at a 1-based line; `file` as the report names it. */
export interface OpenDataRowRequest {
  type: 'openDataRow';
  id: number;
  file: string;
  line: number;
  /** The run whose report names the file (relative paths resolve against its folder); else the config's. */
  runId?: string;
}

export type WebviewRequest =
  | ApplyBestRequest
  | DataReportRequest
  | OpenDataRowRequest
  | EditConfigRequest
  | CommandRequest
  | ExportPngRequest
  | ChatModelsRequest
  | ChatSendRequest
  | ChatStopRequest
  | PlaygroundRequest;
export type WebviewMessage = ReadyMessage | WebviewRequest;

/** A request as the webview writes it, before its id is assigned. */
export type RequestBody = WebviewRequest extends infer R ? (R extends WebviewRequest ? Omit<R, 'id'> : never) : never;

const HOST_TYPES: ReadonlySet<string> = new Set([
  'init',
  'config',
  'events',
  'run',
  'runRemoved',
  'sweep',
  'reply',
  'chatModels',
  'chatReady',
  'chatToken',
  'chatDone',
  'dataReport',
  'showData',
  ...PLAYGROUND_HOST_TYPES,
]);
const WEBVIEW_TYPES: ReadonlySet<string> = new Set([
  'ready',
  'editConfig',
  'command',
  'exportPng',
  'chatModels',
  'chatSend',
  'chatStop',
  'applyBest',
  'dataReport',
  'openDataRow',
  ...PLAYGROUND_REQUEST_TYPES,
]);

/**
 * Shape checks at the boundary: a message posted to a webview can come from anything that runs
 * in it, so the host checks what it acts on, and the webview ignores what it does not understand.
 */
export function isHostMessage(data: unknown): data is HostMessage {
  return isObject(data) && typeof data.type === 'string' && HOST_TYPES.has(data.type);
}

export function isWebviewMessage(data: unknown): data is WebviewMessage {
  if (!isObject(data) || typeof data.type !== 'string' || !WEBVIEW_TYPES.has(data.type)) return false;
  if (data.type === 'ready') return true;
  if (typeof data.id !== 'number' || !Number.isInteger(data.id)) return false;
  switch (data.type) {
    case 'editConfig':
      return Array.isArray(data.path) && data.path.every((p) => typeof p === 'string' || typeof p === 'number');
    case 'command':
      return (
        (data.command === 'start' || data.command === 'stop' || data.command === 'resume') &&
        (data.runId === undefined || typeof data.runId === 'string')
      );
    case 'chatModels':
      return typeof data.runId === 'string';
    case 'chatSend':
      return (
        Number.isSafeInteger(data.chatId) &&
        typeof data.runId === 'string' &&
        typeof data.model === 'string' &&
        typeof data.system === 'string' &&
        Array.isArray(data.messages) &&
        data.messages.every(
          (m) => isObject(m) && (m.role === 'user' || m.role === 'assistant') && typeof m.content === 'string',
        ) &&
        checkChatOptions(data.options) === undefined
      );
    case 'chatStop':
      return Number.isSafeInteger(data.chatId);
    case 'applyBest':
      return Number.isSafeInteger(data.trial);
    case 'dataReport':
      return data.runId === undefined || typeof data.runId === 'string';
    case 'openDataRow':
      return (
        typeof data.file === 'string' &&
        data.file !== '' &&
        Number.isSafeInteger(data.line) &&
        (data.line as number) >= 1 &&
        (data.runId === undefined || typeof data.runId === 'string')
      );
    case 'playgroundModels':
    case 'playgroundRun':
    case 'playgroundStop':
      return isPlaygroundRequest(data);
    default:
      return (
        typeof data.fileName === 'string' &&
        typeof data.dataUrl === 'string' &&
        data.dataUrl.startsWith('data:image/png;base64,')
      );
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
