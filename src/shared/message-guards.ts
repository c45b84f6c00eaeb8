import { CHAT_STOP_REASONS, type ChatStopReason } from './chat-protocol.js';
import type { Diagnostic } from './config-tree.js';
import { checkDataReport } from './data-report-check.js';
import type {
  ChatModelChoice,
  ChatModelsMessage,
  ConfigState,
  HostMessage,
  JsonValue,
  RunInfo,
  RunSnapshot,
  SweepInfo,
} from './messages.js';
import { checkPlaygroundMessage } from './playground-messages.js';
import type { DistillationReport, DistillationSide, RunEvent, RunStatus } from './run-directory.js';
import { checkSweepRecord, SWEEP_STATES, type SweepState } from './sweep-record.js';

/**
 * The webview's full check of what the host posts (isHostMessage only looks at `type`). The host is
 * ours, but what it forwards comes from run folders on disk: an events.jsonl line of another
 * engine version, a half-written status.json, a folder copied from elsewhere. A message the panel
 * cannot act on is rejected whole, with the reason; inside an acceptable one, the parts that are
 * not well-formed (an event, a run of `init`, the diagnostics of a config) are left out and
 * counted, so that one bad line on disk does not blank the panel. The views can then rely on the
 * types of src/shared/messages.ts. No DOM or Node types: a pure function, fuzzed in the tests.
 */
export type HostMessageCheck = { message: HostMessage; dropped: number } | { problem: string };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
/** loss, lr and metric values: JSON writes NaN and infinities as null. */
const isNumOrNull = (v: unknown) => v === null || isNum(v);
const LEVELS = new Set(['debug', 'info', 'warn', 'error']);
const SEVERITIES = new Set(['error', 'warning', 'info', 'hint']);
const STOP_REASONS: ReadonlySet<string> = new Set(CHAT_STOP_REASONS);
const isChatId = (v: unknown): v is number => Number.isSafeInteger(v);

export function checkHostMessage(data: unknown): HostMessageCheck {
  if (!isObj(data)) return { problem: 'not an object' };
  let dropped = 0;
  /** The well-formed items of an array, counting the others. */
  const keep = <T>(items: unknown[], ok: (v: unknown) => v is T): T[] => {
    const kept = items.filter(ok);
    dropped += items.length - kept.length;
    return kept;
  };
  const events = (v: unknown): RunEvent[] | undefined => (Array.isArray(v) ? keep(v, isRunEvent) : undefined);
  switch (data.type) {
    case 'init': {
      if (!Array.isArray(data.runs)) return { problem: 'init: runs is not an array' };
      if (typeof data.trusted !== 'boolean') return { problem: 'init: trusted is not a boolean' };
      const target = data.target;
      if (!isObj(target) || !isStrArray(target.runDirs) || !(target.configUri === undefined || isStr(target.configUri)))
        return { problem: 'init: target is not {runDirs: string[], configUri?: string}' };
      const runs: RunSnapshot[] = [];
      for (const r of data.runs) {
        const info = runInfo(r);
        const evs = isObj(r) ? events(r.events) : undefined;
        if (info && evs) runs.push({ ...info, events: evs });
        else dropped++;
      }
      const config = data.config === undefined ? undefined : configState(data.config, () => dropped++);
      if (data.config !== undefined && !config) return { problem: 'init: config is not a config state' };
      if (target.sweepDir !== undefined && !isStr(target.sweepDir))
        return { problem: 'init: target.sweepDir is not a string' };
      const sweep = data.sweep === undefined ? undefined : sweepInfo(data.sweep);
      if (typeof sweep === 'string') return { problem: `init: sweep: ${sweep}` };
      const { runDirs, configUri, sweepDir } = target;
      return {
        message: {
          type: 'init',
          runs,
          trusted: data.trusted,
          target: { runDirs, ...(isStr(configUri) ? { configUri } : {}), ...(isStr(sweepDir) ? { sweepDir } : {}) },
          ...(config ? { config } : {}),
          ...(sweep ? { sweep } : {}),
        },
        dropped,
      };
    }
    case 'config': {
      const config = configState(data.config, () => dropped++);
      return config ? { message: { type: 'config', config }, dropped } : { problem: 'config: not a config state' };
    }
    case 'events': {
      if (!Array.isArray(data.runs)) return { problem: 'events: runs is not an array' };
      const runs: { runId: string; events: RunEvent[] }[] = [];
      for (const r of data.runs) {
        const evs = isObj(r) && isStr(r.runId) ? events(r.events) : undefined;
        if (isObj(r) && isStr(r.runId) && evs) runs.push({ runId: r.runId, events: evs });
        else dropped++;
      }
      return { message: { type: 'events', runs }, dropped };
    }
    case 'run': {
      const run = runInfo(data.run);
      if (!run) return { problem: 'run: not a run (id, dir, status...)' };
      if (data.events === undefined) return { message: { type: 'run', run }, dropped };
      const evs = events(data.events);
      return evs ? { message: { type: 'run', run, events: evs }, dropped } : { problem: 'run: events is not an array' };
    }
    case 'runRemoved':
      return isStr(data.runId)
        ? { message: { type: 'runRemoved', runId: data.runId }, dropped }
        : { problem: 'runRemoved: runId is not a string' };
    case 'sweep': {
      const sweep = sweepInfo(data.sweep);
      return typeof sweep === 'string'
        ? { problem: `sweep: ${sweep}` }
        : { message: { type: 'sweep', sweep }, dropped };
    }
    case 'reply': {
      if (!Number.isInteger(data.id)) return { problem: 'reply: id is not an integer' };
      const id = data.id as number;
      if (data.ok === true) return { message: { type: 'reply', id, ok: true }, dropped };
      if (data.ok === false && isStr(data.error))
        return { message: { type: 'reply', id, ok: false, error: data.error }, dropped };
      return { problem: 'reply: ok is not true, or false with an error text' };
    }
    case 'chatModels': {
      if (!isStr(data.runId) || !Array.isArray(data.models)) return { problem: 'chatModels: runId or models missing' };
      if (data.unavailable !== undefined && !isStr(data.unavailable))
        return { problem: 'chatModels: unavailable is not a string' };
      const models = keep(data.models, isModelChoice);
      const message: ChatModelsMessage = { type: 'chatModels', runId: data.runId, models };
      if (isStr(data.unavailable)) message.unavailable = data.unavailable;
      return { message, dropped };
    }
    case 'chatReady':
      return isChatId(data.chatId) && typeof data.chat === 'boolean'
        ? { message: { type: 'chatReady', chatId: data.chatId, chat: data.chat }, dropped }
        : { problem: 'chatReady: chatId or chat missing' };
    case 'chatToken':
      return isChatId(data.chatId) && isStr(data.text)
        ? { message: { type: 'chatToken', chatId: data.chatId, text: data.text }, dropped }
        : { problem: 'chatToken: chatId or text missing' };
    case 'chatDone':
      return isChatId(data.chatId) && isStr(data.stoppedBy) && STOP_REASONS.has(data.stoppedBy) && isNum(data.tokens)
        ? {
            message: {
              type: 'chatDone',
              chatId: data.chatId,
              stoppedBy: data.stoppedBy as ChatStopReason,
              tokens: data.tokens,
            },
            dropped,
          }
        : { problem: 'chatDone: chatId, stoppedBy or tokens missing' };
    case 'dataReport': {
      if (data.runId !== undefined && !isStr(data.runId)) return { problem: 'dataReport: runId is not a string' };
      const report = checkDataReport(data.report);
      if (typeof report === 'string') return { problem: `dataReport: report: ${report}` };
      return {
        message: { type: 'dataReport', ...(isStr(data.runId) ? { runId: data.runId } : {}), report },
        dropped,
      };
    }
    case 'showData':
      return { message: { type: 'showData' }, dropped };
    case 'playgroundModels':
    case 'playgroundToken':
    case 'playgroundResult': {
      const checked = checkPlaygroundMessage(data, (items) => keep(items, isModelChoice));
      return 'message' in checked ? { message: checked.message, dropped } : checked;
    }
    default:
      return { problem: `unknown type ${JSON.stringify(data.type)?.slice(0, 40)}` };
  }
}

/** A sweep folder: its sweep.json checked as the host's reader checks it (src/shared/sweep-record.ts). */
function sweepInfo(v: unknown): SweepInfo | string {
  if (!isObj(v) || !isStr(v.id) || !isStr(v.dir)) return 'not a sweep (id, dir)';
  const info: SweepInfo = { id: v.id, dir: v.dir };
  if (v.record !== undefined) {
    const record = checkSweepRecord(v.record);
    if (typeof record === 'string') return `record: ${record}`;
    info.record = record;
  }
  if (v.state !== undefined) {
    if (!(SWEEP_STATES as readonly unknown[]).includes(v.state)) return 'state is not a sweep state';
    info.state = v.state as SweepState;
  }
  for (const key of ['error', 'reason', 'sourceFile'] as const) {
    const text = v[key];
    if (text === undefined) continue;
    if (!isStr(text)) return `${key} is not a string`;
    info[key] = text;
  }
  return info;
}

function isModelChoice(m: unknown): m is ChatModelChoice {
  return isObj(m) && isStr(m.key) && isStr(m.label);
}

function isStrArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every(isStr);
}

/** An event with every field its type has (DESIGN.md, "Run directory"). */
export function isRunEvent(v: unknown): v is RunEvent {
  if (!isObj(v) || !isNum(v.t)) return false;
  switch (v.type) {
    case 'step':
      return isNum(v.step) && isNum(v.epoch) && isNumOrNull(v.loss) && isNumOrNull(v.lr) && isNum(v.tokensPerSec);
    case 'eval':
      return isNum(v.step) && isObj(v.metrics) && Object.values(v.metrics).every(isNumOrNull);
    case 'log':
      return isStr(v.level) && LEVELS.has(v.level) && isStr(v.message);
    case 'checkpoint':
      return isNum(v.step) && isStr(v.path);
    case 'status':
      return isStr(v.state) && (v.reason === undefined || isStr(v.reason));
    case 'samples':
      return (
        isNum(v.step) &&
        Array.isArray(v.samples) &&
        v.samples.every((s) => isObj(s) && isStr(s.source) && isStr(s.reference) && isStr(s.prediction))
      );
    default:
      return false;
  }
}

/**
 * status.json as the host read it. `state` may be any string: states the contract adds later
 * (`cancelled`) show as they are rather than hide the run.
 */
function isRunStatus(v: unknown): v is RunStatus {
  if (!isObj(v)) return false;
  const best = v.best;
  return (
    isStr(v.state) &&
    isNum(v.pid) &&
    isStr(v.startedAt) &&
    isStr(v.updatedAt) &&
    isNum(v.step) &&
    isNum(v.totalSteps) &&
    isNum(v.epoch) &&
    (best === undefined || (isObj(best) && isStr(best.metric) && isNum(best.value) && isNum(best.step))) &&
    (v.reason === undefined || isStr(v.reason))
  );
}

function runInfo(v: unknown): RunInfo | undefined {
  if (!isObj(v) || !isStr(v.id) || !isStr(v.dir)) return undefined;
  if (v.status !== undefined && !isRunStatus(v.status)) return undefined;
  const metrics = v.finalMetrics;
  if (metrics !== undefined && !(isObj(metrics) && isConfusion(metrics.confusion_matrix))) return undefined;
  const info: RunInfo = { id: v.id, dir: v.dir };
  if (v.status !== undefined) info.status = v.status as RunStatus;
  if (v.config !== undefined) info.config = v.config as JsonValue;
  if (metrics !== undefined) info.finalMetrics = metrics;
  if (v.distillation !== undefined) {
    if (!isDistillationReport(v.distillation)) return undefined;
    info.distillation = v.distillation;
  }
  return info;
}

function isDistillationSide(v: unknown): v is DistillationSide {
  return (
    isObj(v) &&
    isStr(v.path) &&
    isObj(v.metrics) &&
    Object.values(v.metrics).every(isNum) &&
    isNum(v.parameters) &&
    (v.latencyMs === undefined || isNum(v.latencyMs))
  );
}

export function isDistillationReport(v: unknown): v is DistillationReport {
  return (
    isObj(v) &&
    isDistillationSide(v.teacher) &&
    isDistillationSide(v.student) &&
    isObj(v.latency) &&
    isNum(v.latency.examples) &&
    isNum(v.latency.threads)
  );
}

function isConfusion(v: unknown): boolean {
  if (v === undefined) return true;
  if (!isObj(v) || !Array.isArray(v.labels) || !Array.isArray(v.matrix)) return false;
  return v.labels.every((l) => isStr(l) || isNum(l)) && v.matrix.every((row) => Array.isArray(row) && row.every(isNum));
}

/** The config state, without its diagnostics when they are malformed (the webview then validates). */
function configState(v: unknown, droppedDiagnostics: () => void): ConfigState | undefined {
  if (!isObj(v) || !isStr(v.uri) || !isStr(v.fileName) || !isStr(v.text) || !isNum(v.version)) return undefined;
  if (v.format !== 'yaml' && v.format !== 'json') return undefined;
  const state: ConfigState = { uri: v.uri, fileName: v.fileName, format: v.format, text: v.text, version: v.version };
  if (Array.isArray(v.diagnostics) && v.diagnostics.every(isDiagnostic)) state.diagnostics = v.diagnostics;
  else if (v.diagnostics !== undefined) droppedDiagnostics();
  return state;
}

function isDiagnostic(v: unknown): v is Diagnostic {
  if (!isObj(v) || !isStr(v.severity) || !SEVERITIES.has(v.severity) || !isStr(v.message) || !isStr(v.code))
    return false;
  if (!Array.isArray(v.path) || !v.path.every((p) => isStr(p) || isNum(p))) return false;
  const pos = (p: unknown) => isObj(p) && isNum(p.line) && isNum(p.character);
  return isObj(v.range) && pos(v.range.start) && pos(v.range.end) && (v.fixes === undefined || Array.isArray(v.fixes));
}
