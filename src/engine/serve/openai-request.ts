import type { ChatMessage } from '../../shared/chat-protocol.js';
import { invalidRequest } from './api-error.js';

/**
 * The request bodies of POST /v1/chat/completions and /v1/completions, checked against OpenAI's
 * API reference: every field the server honours, with OpenAI's defaults (temperature 1, top_p 1,
 * completions' max_tokens 16, chat's unbounded, i.e. up to the context), and a 400 naming the
 * field for a wrong type or range, a field OpenAI does not have, or one this server cannot honour
 * (n > 1, logprobs, tools, penalties) rather than silently ignoring it.
 */
export interface SamplingRequest {
  /** max_tokens / max_completion_tokens; undefined: up to the context. */
  maxTokens: number | undefined;
  /** 0: greedy (argmax). */
  temperature: number;
  topP: number;
  stop: string[];
  seed: number | undefined;
  stream: boolean;
  /** stream_options.include_usage: a last chunk with `usage` and no choices. */
  includeUsage: boolean;
}

export interface ChatRequest extends SamplingRequest {
  messages: ChatMessage[];
}

export interface CompletionRequest extends SamplingRequest {
  /** Text, or token ids (OpenAI accepts both). */
  prompt: string | number[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const describe = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);

/** Fields accepted when they ask for nothing beyond the defaults (null, false, 0, 1 or an unused id). */
const NEUTRAL: Record<string, (v: unknown) => boolean> = {
  user: (v) => typeof v === 'string',
  frequency_penalty: (v) => v === 0,
  presence_penalty: (v) => v === 0,
  logprobs: (v) => v === false,
  logit_bias: (v) => isObj(v) && Object.keys(v).length === 0,
  best_of: (v) => v === 1,
  echo: (v) => v === false,
  suffix: (v) => v === '',
  parallel_tool_calls: () => true,
  store: (v) => v === false,
  metadata: () => true,
  service_tier: (v) => v === 'auto' || v === 'default',
};

const SAMPLING_FIELDS = [
  'model',
  'max_tokens',
  'temperature',
  'top_p',
  'stop',
  'seed',
  'n',
  'stream',
  'stream_options',
];

function checkFields(body: Obj, own: readonly string[]): void {
  for (const [key, value] of Object.entries(body)) {
    if (value === null || value === undefined) continue; // null means "the default" in OpenAI's API
    if (SAMPLING_FIELDS.includes(key) || own.includes(key)) continue;
    const neutral = NEUTRAL[key];
    if (neutral === undefined) throw invalidRequest(`Unrecognized request argument supplied: ${key}`, key);
    if (!neutral(value))
      throw invalidRequest(`${key}=${JSON.stringify(value)} is not supported by this server`, key, 'unsupported_value');
  }
}

function number(body: Obj, key: string, ok: (n: number) => boolean, what: string): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v))
    throw invalidRequest(`${key} must be ${what}, got ${JSON.stringify(v)}`, key);
  return v;
}

const isCount = (n: number) => Number.isSafeInteger(n) && n >= 1;

function sampling(body: Obj, maxKey: 'max_tokens' | 'max_completion_tokens', defaultMax: number | undefined) {
  if (body.model !== undefined && body.model !== null && typeof body.model !== 'string')
    throw invalidRequest(`model must be a string, got ${describe(body.model)}`, 'model');
  const n = number(body, 'n', isCount, 'an integer >= 1');
  if (n !== undefined && n !== 1) throw invalidRequest('n must be 1: this server returns one choice', 'n');
  const stopValue = body.stop;
  let stop: string[] = [];
  if (typeof stopValue === 'string') stop = [stopValue];
  else if (Array.isArray(stopValue)) {
    if (stopValue.length > 4 || stopValue.some((s) => typeof s !== 'string'))
      throw invalidRequest('stop must be a string or a list of at most 4 strings', 'stop');
    stop = stopValue as string[];
  } else if (stopValue !== undefined && stopValue !== null)
    throw invalidRequest(`stop must be a string or a list of strings, got ${describe(stopValue)}`, 'stop');
  const stream = body.stream ?? false;
  if (typeof stream !== 'boolean') throw invalidRequest(`stream must be a boolean, got ${describe(stream)}`, 'stream');
  const options = body.stream_options;
  if (options !== undefined && options !== null) {
    if (!stream) throw invalidRequest('stream_options is only allowed when stream is true', 'stream_options');
    if (!isObj(options) || Object.keys(options).some((k) => k !== 'include_usage'))
      throw invalidRequest('stream_options must be an object with only include_usage', 'stream_options');
    if (options.include_usage !== undefined && typeof options.include_usage !== 'boolean')
      throw invalidRequest('stream_options.include_usage must be a boolean', 'stream_options.include_usage');
  }
  const seed = number(body, 'seed', Number.isSafeInteger, 'an integer');
  return {
    maxTokens: number(body, maxKey, isCount, 'an integer >= 1') ?? defaultMax,
    temperature: number(body, 'temperature', (t) => t >= 0 && t <= 2, 'a number in [0, 2]') ?? 1,
    topP: number(body, 'top_p', (p) => p > 0 && p <= 1, 'a number in (0, 1]') ?? 1,
    stop,
    // generate() seeds an unsigned 32-bit generator: negative seeds wrap rather than fail.
    seed: seed === undefined ? undefined : seed >>> 0,
    stream,
    includeUsage: isObj(options) && options.include_usage === true,
  };
}

function object(body: unknown): Obj {
  if (!isObj(body)) throw invalidRequest(`the request body must be a JSON object, got ${describe(body)}`);
  return body;
}

/** A message's content: a string, or OpenAI's list of content parts of which only text parts are understood. */
function messageText(content: unknown, where: string): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part, j) => {
        if (!isObj(part) || part.type !== 'text' || typeof part.text !== 'string')
          throw invalidRequest(`${where}.content[${j}] must be a text part ({"type": "text", "text": ...})`, where);
        return part.text;
      })
      .join('');
  }
  throw invalidRequest(`${where}.content must be a string or a list of text parts, got ${describe(content)}`, where);
}

export function parseChatRequest(raw: unknown): ChatRequest {
  const body = object(raw);
  checkFields(body, ['messages', 'max_completion_tokens']);
  if (!Array.isArray(body.messages) || body.messages.length === 0)
    throw invalidRequest('messages must be a non-empty list of {role, content}', 'messages');
  const messages = body.messages.map((m, i): ChatMessage => {
    const where = `messages[${i}]`;
    if (!isObj(m)) throw invalidRequest(`${where} must be an object with role and content`, where);
    // OpenAI's "developer" role is the system prompt of its newer models.
    const role = m.role === 'developer' ? 'system' : m.role;
    if (role !== 'system' && role !== 'user' && role !== 'assistant')
      throw invalidRequest(
        `${where}.role must be system, developer, user or assistant, got ${JSON.stringify(m.role)}`,
        where,
      );
    return { role, content: messageText(m.content, where) };
  });
  // max_completion_tokens replaces the deprecated max_tokens; either is honoured, the new one first.
  const newer = body.max_completion_tokens !== undefined && body.max_completion_tokens !== null;
  const maxKey = newer ? 'max_completion_tokens' : 'max_tokens';
  return { messages, ...sampling(body, maxKey, undefined) };
}

export function parseCompletionRequest(raw: unknown): CompletionRequest {
  const body = object(raw);
  checkFields(body, ['prompt']);
  let prompt = body.prompt;
  // A list holding one prompt is one prompt; several would be several choices (n > 1).
  if (Array.isArray(prompt) && prompt.length === 1 && (typeof prompt[0] === 'string' || Array.isArray(prompt[0])))
    prompt = prompt[0];
  const isIds =
    Array.isArray(prompt) && prompt.length > 0 && prompt.every((t) => Number.isSafeInteger(t) && (t as number) >= 0);
  if (typeof prompt !== 'string' && !isIds)
    throw invalidRequest('prompt must be a string or a list of token ids (one prompt per request)', 'prompt');
  return { prompt: prompt as string | number[], ...sampling(body, 'max_tokens', 16) };
}
