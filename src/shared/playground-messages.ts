import type { ChatModelChoice } from './messages.js';
import { checkPlaygroundInput, isPlaygroundResult, type PlaygroundInput, type PlaygroundResult } from './playground.js';

/**
 * The Playground tab's part of the panel protocol (src/shared/messages.ts). `playgroundModels`
 * asks for a run's models and its task, which the host posts as a `playgroundModels` message
 * before its reply. `playgroundRun` runs one input under a `playId` the page chooses: a causal
 * LM's continuation comes as `playgroundToken` deltas, and every task's result as one
 * `playgroundResult` before the request's reply (`ok: false` with the reason when it failed).
 * `playgroundStop` ends the generation under way. The host runs the model in a `finetune serve`
 * child process of the panel (src/extension/serve/model-server.ts).
 */
export interface PlaygroundModelsMessage {
  type: 'playgroundModels';
  runId: string;
  /** The run's config task; absent before its config.yaml is written. */
  task?: string;
  models: ChatModelChoice[];
  /** Why there is nothing to try (no checkpoint yet, a task the server does not serve). */
  unavailable?: string;
}

export interface PlaygroundTokenMessage {
  type: 'playgroundToken';
  playId: number;
  text: string;
}

export interface PlaygroundResultMessage {
  type: 'playgroundResult';
  playId: number;
  result: PlaygroundResult;
}

export type PlaygroundHostMessage = PlaygroundModelsMessage | PlaygroundTokenMessage | PlaygroundResultMessage;

export interface PlaygroundModelsRequest {
  type: 'playgroundModels';
  id: number;
  runId: string;
}

export interface PlaygroundRunRequest {
  type: 'playgroundRun';
  id: number;
  playId: number;
  runId: string;
  /** A model key of the run (final or step-<N>). */
  model: string;
  input: PlaygroundInput;
}

export interface PlaygroundStopRequest {
  type: 'playgroundStop';
  id: number;
  playId: number;
}

export type PlaygroundRequest = PlaygroundModelsRequest | PlaygroundRunRequest | PlaygroundStopRequest;

export const PLAYGROUND_HOST_TYPES = ['playgroundModels', 'playgroundToken', 'playgroundResult'] as const;
export const PLAYGROUND_REQUEST_TYPES = ['playgroundModels', 'playgroundRun', 'playgroundStop'] as const;

type Obj = Record<string, unknown>;
const isStr = (v: unknown): v is string => typeof v === 'string';
const isId = (v: unknown): v is number => Number.isSafeInteger(v);

/** The host's check of a Playground request (its `type` and `id` already checked). */
export function isPlaygroundRequest(data: Obj): boolean {
  switch (data.type) {
    case 'playgroundModels':
      return isStr(data.runId);
    case 'playgroundRun':
      return (
        isId(data.playId) && isStr(data.runId) && isStr(data.model) && checkPlaygroundInput(data.input) === undefined
      );
    case 'playgroundStop':
      return isId(data.playId);
    default:
      return false;
  }
}

/** The webview's full check of a Playground host message: the message, or what is wrong with it. */
export function checkPlaygroundMessage(
  data: Obj,
  keepModels: (items: unknown[]) => ChatModelChoice[],
): { message: PlaygroundHostMessage } | { problem: string } {
  switch (data.type) {
    case 'playgroundModels': {
      if (!isStr(data.runId) || !Array.isArray(data.models))
        return { problem: 'playgroundModels: runId or models missing' };
      if (
        !(data.unavailable === undefined || isStr(data.unavailable)) ||
        !(data.task === undefined || isStr(data.task))
      )
        return { problem: 'playgroundModels: task or unavailable is not a string' };
      const message: PlaygroundModelsMessage = {
        type: 'playgroundModels',
        runId: data.runId,
        models: keepModels(data.models),
      };
      if (isStr(data.task)) message.task = data.task;
      if (isStr(data.unavailable)) message.unavailable = data.unavailable;
      return { message };
    }
    case 'playgroundToken':
      return isId(data.playId) && isStr(data.text)
        ? { message: { type: 'playgroundToken', playId: data.playId, text: data.text } }
        : { problem: 'playgroundToken: playId or text missing' };
    default:
      return isId(data.playId) && isPlaygroundResult(data.result)
        ? { message: { type: 'playgroundResult', playId: data.playId, result: data.result } }
        : { problem: 'playgroundResult: playId missing or not a result' };
  }
}
