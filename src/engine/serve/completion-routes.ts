import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { generationStopIds } from '../chat/generation-config.js';
import type { Generation, GenerationOptions } from '../inference/causal-lm-model.js';
import { conversationPrompt } from '../inference/chat-prompt.js';
import type { ContinuousBatchOptions } from '../inference/continuous-batcher.js';
import type { Tokenizer } from '../tokenize/index.js';
import { invalidRequest } from './api-error.js';
import { EventStream, sendJson } from './http-io.js';
import type { ServeMetrics } from './metrics.js';
import { parseChatRequest, parseCompletionRequest, type SamplingRequest } from './openai-request.js';

/**
 * POST /v1/chat/completions and /v1/completions over a causal LM, in OpenAI's response shapes
 * (non-streaming objects, or `chat.completion.chunk` / `text_completion` chunks as server-sent
 * events ending with `data: [DONE]`). Generations decode together (continuous batching: the
 * model's decoder, at most --max-batch rows per step, more wait); a request whose client
 * disconnects is aborted (while waiting, or between two tokens).
 */
export interface ServedLm {
  folder: string;
  tokenizer: Tokenizer;
  eosTokenId: number | null;
  /** Positions the model has: a prompt must leave room for one new token. */
  contextLength: number;
  /** The server's generator: one per server, its options from the server's (continuous-batcher.ts). */
  decoder(o: ContinuousBatchOptions): TextGenerator;
}

/** What runs the generations of the completion routes (a ContinuousBatcher over the model). */
export interface TextGenerator {
  generate(prompt: readonly number[], o: GenerationOptions): Promise<Generation>;
}

type FinishReason = 'stop' | 'length';
interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export class CompletionRoutes {
  /** Every id a reply ends on (generation_config.json's eos_token_id list, else the model's EOS). */
  private readonly stopIds: number[];

  constructor(
    private readonly lm: ServedLm,
    private readonly modelId: string,
    private readonly generator: TextGenerator,
    private readonly metrics: ServeMetrics,
  ) {
    this.stopIds = generationStopIds(lm.folder, [lm.eosTokenId]);
  }

  async chat(body: unknown, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const request = parseChatRequest(body);
    let prompt: string | number[];
    try {
      prompt = conversationPrompt(this.lm, request.messages);
    } catch (err) {
      // The template refused the conversation (raise_exception), or there is no user turn to continue.
      throw invalidRequest(`messages: ${(err as Error).message}`, 'messages');
    }
    const id = `chatcmpl-${randomUUID().replaceAll('-', '')}`;
    const created = Math.floor(Date.now() / 1000);
    const head = { id, object: 'chat.completion.chunk', created, model: this.modelId };
    const choice = (delta: object, finish: FinishReason | null) => ({
      index: 0,
      delta,
      logprobs: null,
      finish_reason: finish,
    });
    await this.respond(this.promptIds(prompt, 'messages'), request, res, signal, {
      first: () => ({ ...head, choices: [choice({ role: 'assistant', content: '' }, null)] }),
      delta: (text) => ({ ...head, choices: [choice({ content: text }, null)] }),
      last: (finish) => ({ ...head, choices: [choice({}, finish)] }),
      usage: (usage) => ({ ...head, choices: [], usage }),
      whole: (text, finish, usage) => ({
        id,
        object: 'chat.completion',
        created,
        model: this.modelId,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: text, refusal: null },
            logprobs: null,
            finish_reason: finish,
          },
        ],
        usage,
      }),
    });
  }

  async completion(body: unknown, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const request = parseCompletionRequest(body);
    const id = `cmpl-${randomUUID().replaceAll('-', '')}`;
    const created = Math.floor(Date.now() / 1000);
    const head = { id, object: 'text_completion', created, model: this.modelId };
    const choice = (text: string, finish: FinishReason | null) => ({
      text,
      index: 0,
      logprobs: null,
      finish_reason: finish,
    });
    await this.respond(this.promptIds(request.prompt, 'prompt'), request, res, signal, {
      first: () => undefined,
      delta: (text) => ({ ...head, choices: [choice(text, null)] }),
      last: (finish) => ({ ...head, choices: [choice('', finish)] }),
      usage: (usage) => ({ ...head, choices: [], usage }),
      whole: (text, finish, usage) => ({ ...head, choices: [choice(text, finish)], usage }),
    });
  }

  /** The prompt as token ids (as generate() would tokenize it), refused when it fills the context. */
  private promptIds(prompt: string | readonly number[], param: string): number[] {
    const ids = typeof prompt === 'string' ? this.lm.tokenizer.encode(prompt, null).ids : [...prompt];
    const context = this.lm.contextLength;
    if (ids.length >= context)
      throw invalidRequest(
        `This model's maximum context length is ${context} tokens. However, your ${param} resulted in ${ids.length} tokens (at least one position must be left for the completion).`,
        param,
        'context_length_exceeded',
      );
    return ids;
  }

  private async respond(
    ids: number[],
    request: SamplingRequest,
    res: ServerResponse,
    signal: AbortSignal,
    shape: {
      first: () => object | undefined;
      delta: (text: string) => object;
      last: (finish: FinishReason) => object;
      usage: (usage: Usage) => object;
      whole: (text: string, finish: FinishReason, usage: Usage) => object;
    },
  ): Promise<void> {
    const events = request.stream ? new EventStream(res) : undefined;
    const firstChunk = shape.first();
    if (events && firstChunk) events.send(firstChunk);
    let text = '';
    const { generation, finish } = await this.generate(ids, request, signal, (delta) => {
      if (events) events.send(shape.delta(delta));
      else text += delta;
    });
    if (finish === 'cancelled') return; // the client is gone: nothing to write
    // generate() feeds at least one token: an empty prompt starts from BOS.
    const promptTokens = Math.max(ids.length, 1);
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: generation.ids.length,
      total_tokens: promptTokens + generation.ids.length,
    };
    if (!events) {
      sendJson(res, 200, shape.whole(text, finish, usage));
      return;
    }
    events.send(request.includeUsage ? { ...shape.last(finish), usage: null } : shape.last(finish));
    if (request.includeUsage) events.send(shape.usage(usage));
    events.done();
  }

  /**
   * One generation, its text passed on as it is decoded. Stop strings are the
   * generator's (`stopStrings`): the text is cut before them and a possible start of one is held
   * back from the stream, so a client never receives part of a stop string.
   */
  private async generate(
    ids: number[],
    request: SamplingRequest,
    signal: AbortSignal,
    onText: (delta: string) => void,
  ): Promise<{ generation: Generation; finish: FinishReason | 'cancelled' }> {
    const sample = request.temperature > 0;
    const options: GenerationOptions = {
      maxNewTokens: request.maxTokens ?? this.lm.contextLength,
      doSample: sample,
      ...(sample ? { temperature: request.temperature, topP: request.topP } : {}),
      // OpenAI samples differently on each request unless a seed is given.
      seed: request.seed ?? Math.floor(Math.random() * 2 ** 32),
      stopTokenIds: this.stopIds,
      stopStrings: request.stop,
      signal,
      onToken: () => this.metrics.tokens.inc(),
      onText,
    };
    try {
      const generation = await this.generator.generate(ids, options);
      if (signal.aborted) {
        this.metrics.generations.inc({ finish: 'cancelled' });
        return { generation, finish: 'cancelled' };
      }
      const finish: FinishReason = generation.finishReason === 'length' ? 'length' : 'stop';
      this.metrics.generations.inc({ finish });
      return { generation, finish };
    } catch (err) {
      if (signal.aborted) {
        this.metrics.generations.inc({ finish: 'cancelled' });
        return { generation: { ids: [], text: '', stoppedBy: 'stopped', finishReason: 'abort' }, finish: 'cancelled' };
      }
      this.metrics.generations.inc({ finish: 'error' });
      throw err;
    }
  }
}
