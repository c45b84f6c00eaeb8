/**
 * The protocol of `finetune chat --model <dir>`: a long-lived engine process that the extension
 * talks to with JSON lines, one object per line, requests on its stdin and replies on its stdout
 * (diagnostics go to stderr). The process loads the model once, answers `ready`, then serves one
 * generation at a time; closing its stdin ends it with exit code 0.
 *
 * Requests:  {type:'generate', id, messages:[{role, content}], options?}   {type:'stop', id}
 * Replies:   {type:'ready', model, architecture, chat}   {type:'token', id, text}
 *            {type:'done', id, stoppedBy, tokens}        {type:'error', id?, message}
 *
 * `token` texts are deltas: their concatenation is the reply (never including a stop string). `chat` false means the model has no
 * chat template and a reply continues the text of the last user message (completion mode). A
 * `stop` whose id is not the running generation (it just ended) is ignored: the race is normal.
 * Both ends check what they read here, so neither has to trust the other's version.
 */

export type ChatRole = 'system' | 'user' | 'assistant';
export const CHAT_ROLES: readonly ChatRole[] = ['system', 'user', 'assistant'];

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

/** Generation settings as the protocol spells them (Hugging Face's generate() names). */
export interface ChatOptions {
  max_new_tokens?: number;
  /** 0 or absent: greedy decoding; above 0: sampling at this temperature (with top_k / top_p). */
  temperature?: number;
  top_p?: number;
  top_k?: number;
  seed?: number;
  /** transformers' repetition_penalty, greedy or sampled: 1 or absent is off, > 1 discourages repeats. */
  repetition_penalty?: number;
  /** OpenAI's `stop`: a string or a list of them; the reply ends before the first one generated. */
  stop?: string | string[];
}

/** Why a generation ended: `stop_string` when the text reached one of the request's stop strings. */
export type ChatStopReason = 'eos' | 'stop_string' | 'max_new_tokens' | 'context' | 'stopped';
export const CHAT_STOP_REASONS: readonly ChatStopReason[] = [
  'eos',
  'stop_string',
  'max_new_tokens',
  'context',
  'stopped',
];

/**
 * OpenAI's `finish_reason`: `stop` for an end-of-sequence token or a stop string, `length` for the
 * token limit (max_new_tokens, or the model's context); `abort` (vLLM's name; OpenAI has none) for
 * a generation cancelled before it finished.
 */
export type FinishReason = 'stop' | 'length' | 'abort';

export function finishReasonOf(stoppedBy: ChatStopReason): FinishReason {
  switch (stoppedBy) {
    case 'eos':
    case 'stop_string':
      return 'stop';
    case 'max_new_tokens':
    case 'context':
      return 'length';
    case 'stopped':
      return 'abort';
  }
}

export type ChatRequest =
  | { type: 'generate'; id: number; messages: ChatMessage[]; options: ChatOptions }
  | { type: 'stop'; id: number };

export type ChatReply =
  | { type: 'ready'; model: string; architecture: string; chat: boolean }
  | { type: 'token'; id: number; text: string }
  | { type: 'done'; id: number; stoppedBy: ChatStopReason; tokens: number }
  | { type: 'error'; id?: number; message: string };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const STOP_REASONS: ReadonlySet<string> = new Set(CHAT_STOP_REASONS);

/** Numeric option name -> whether the value is acceptable, and what it should be. */
const OPTION_RULES: Record<Exclude<keyof ChatOptions, 'stop'>, [(v: number) => boolean, string]> = {
  max_new_tokens: [(v) => Number.isInteger(v) && v >= 1, 'an integer >= 1'],
  temperature: [(v) => v >= 0, 'a number >= 0'],
  top_p: [(v) => v > 0 && v <= 1, 'a number in (0, 1]'],
  top_k: [(v) => Number.isInteger(v) && v >= 0, 'an integer >= 0'],
  seed: [(v) => Number.isInteger(v) && v >= 0, 'an integer >= 0'],
  repetition_penalty: [(v) => v > 0, 'a number > 0 (1: off)'],
};

export type Parsed<T> = { ok: true; value: T } | { ok: false; id?: number; problem: string };

/** A request line as the engine reads it; the problem names what is wrong (and the id when it has one). */
export function parseChatRequest(line: string): Parsed<ChatRequest> {
  let data: unknown;
  try {
    data = JSON.parse(line);
  } catch (err) {
    return { ok: false, problem: `not JSON: ${(err as Error).message}` };
  }
  if (!isObj(data)) return { ok: false, problem: 'a request must be a JSON object' };
  const fail = (problem: string): Parsed<ChatRequest> =>
    isId(data.id) ? { ok: false, id: data.id, problem } : { ok: false, problem };
  if (data.type !== 'generate' && data.type !== 'stop')
    return fail(`unknown request type ${JSON.stringify(data.type) ?? 'undefined'} (expected "generate" or "stop")`);
  if (!isId(data.id)) return fail(`${data.type}: "id" must be a non-negative integer`);
  if (data.type === 'stop') return { ok: true, value: { type: 'stop', id: data.id } };
  if (!Array.isArray(data.messages) || data.messages.length === 0)
    return fail('generate: "messages" must be a non-empty array of {role, content}');
  const messages: ChatMessage[] = [];
  for (const [i, m] of data.messages.entries()) {
    if (!isObj(m) || !CHAT_ROLES.includes(m.role as ChatRole))
      return fail(`generate: messages[${i}].role must be one of ${CHAT_ROLES.join(', ')}`);
    if (typeof m.content !== 'string') return fail(`generate: messages[${i}].content must be a string`);
    messages.push({ role: m.role as ChatRole, content: m.content });
  }
  const raw = data.options ?? {};
  const problem = checkChatOptions(raw);
  if (problem) return fail(`generate: ${problem}`);
  return { ok: true, value: { type: 'generate', id: data.id, messages, options: { ...(raw as ChatOptions) } } };
}

/** What is wrong with generation options, or undefined when they are well-formed. */
export function checkChatOptions(raw: unknown): string | undefined {
  if (!isObj(raw)) return '"options" must be an object';
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'stop') {
      const problem = stopProblem(value, 'options.stop');
      if (problem) return problem;
      continue;
    }
    const rule = OPTION_RULES[key as keyof typeof OPTION_RULES];
    if (!rule) return `unknown option "${key}" (known: ${[...Object.keys(OPTION_RULES), 'stop'].join(', ')})`;
    if (typeof value !== 'number' || !Number.isFinite(value) || !rule[0](value))
      return `options.${key} must be ${rule[1]}, got ${JSON.stringify(value)}`;
  }
  return undefined;
}

/** Why a `stop` value (a string or a list of strings, none empty) is not one, or undefined; `name` starts the message. */
export function stopProblem(value: unknown, name = 'stop'): string | undefined {
  if (value === '') return `${name} is empty (a stop string needs text)`;
  if (typeof value === 'string') return undefined;
  if (!Array.isArray(value)) return `${name} must be a string or a list of strings, got ${JSON.stringify(value)}`;
  for (const [i, s] of value.entries()) {
    if (typeof s !== 'string') return `${name}[${i}] must be a string, got ${JSON.stringify(s)}`;
    if (s === '') return `${name}[${i}] is empty (a stop string needs text)`;
  }
  return undefined;
}

/** A reply line as the extension reads it; anything else is a protocol problem. */
export function parseChatReply(line: string): Parsed<ChatReply> {
  let d: unknown;
  try {
    d = JSON.parse(line);
  } catch {
    return { ok: false, problem: `not a JSON line: ${line.slice(0, 200)}` };
  }
  const bad = { ok: false, problem: `not a reply of the chat protocol: ${line.slice(0, 200)}` } as const;
  if (!isObj(d)) return bad;
  switch (d.type) {
    case 'ready':
      return typeof d.model === 'string' && typeof d.architecture === 'string' && typeof d.chat === 'boolean'
        ? { ok: true, value: { type: 'ready', model: d.model, architecture: d.architecture, chat: d.chat } }
        : bad;
    case 'token':
      return isId(d.id) && typeof d.text === 'string'
        ? { ok: true, value: { type: 'token', id: d.id, text: d.text } }
        : bad;
    case 'done':
      return isId(d.id) && typeof d.stoppedBy === 'string' && STOP_REASONS.has(d.stoppedBy) && isId(d.tokens)
        ? {
            ok: true,
            value: { type: 'done', id: d.id, stoppedBy: d.stoppedBy as ChatStopReason, tokens: d.tokens },
          }
        : bad;
    case 'error':
      if (typeof d.message !== 'string' || !(d.id === undefined || isId(d.id))) return bad;
      return {
        ok: true,
        value: isId(d.id) ? { type: 'error', id: d.id, message: d.message } : { type: 'error', message: d.message },
      };
    default:
      return bad;
  }
}
