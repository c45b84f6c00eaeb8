import { type ChatOptions, type ChatReply, parseChatRequest } from '../../shared/chat-protocol.js';
import { generationStopIds } from '../chat/generation-config.js';
import type { GenerationOptions, LoadedCausalLm } from './causal-lm-model.js';
import { conversationPrompt } from './chat-prompt.js';

/**
 * The request loop of `finetune chat` (src/shared/chat-protocol.ts), over a loaded model: one
 * generation at a time, text deltas streamed (stop strings held back), `stop` honoured between tokens. Pure of
 * stdio: the command feeds it lines and writes what it replies, so tests drive it directly.
 */
export type ChatModel = Pick<LoadedCausalLm, 'folder' | 'tokenizer' | 'generate' | 'eosTokenId'>;

/** The protocol's options as generate() takes them: temperature > 0 samples, otherwise greedy. */
export function generationOf(o: ChatOptions): GenerationOptions {
  const sample = o.temperature !== undefined && o.temperature > 0;
  return {
    maxNewTokens: o.max_new_tokens ?? 256,
    doSample: sample,
    ...(sample ? { temperature: o.temperature } : {}),
    ...(sample && o.top_k !== undefined ? { topK: o.top_k } : {}),
    ...(sample && o.top_p !== undefined ? { topP: o.top_p } : {}),
    ...(o.seed === undefined ? {} : { seed: o.seed }),
    ...(o.repetition_penalty === undefined ? {} : { repetitionPenalty: o.repetition_penalty }),
    ...(o.stop === undefined ? {} : { stopStrings: typeof o.stop === 'string' ? [o.stop] : o.stop }),
  };
}

export class ChatServer {
  private running: { id: number; abort: AbortController; done: Promise<void> } | undefined;
  /** Every id a reply ends on: a chat model's end of turn is often not its tokenizer's EOS. */
  private readonly stopIds: number[];

  constructor(
    private readonly model: ChatModel,
    private readonly reply: (r: ChatReply) => void,
  ) {
    this.stopIds = generationStopIds(model.folder, [model.eosTokenId]);
  }

  handleLine(line: string): void {
    if (line.trim() === '') return;
    const parsed = parseChatRequest(line);
    if (!parsed.ok) {
      this.reply(
        parsed.id === undefined
          ? { type: 'error', message: parsed.problem }
          : { type: 'error', id: parsed.id, message: parsed.problem },
      );
      return;
    }
    const request = parsed.value;
    if (request.type === 'stop') {
      if (this.running?.id === request.id) this.running.abort.abort();
      return;
    }
    if (this.running) {
      this.reply({
        type: 'error',
        id: request.id,
        message: `busy: generation ${this.running.id} is still running (one at a time; stop it first)`,
      });
      return;
    }
    const abort = new AbortController();
    const running = { id: request.id, abort, done: Promise.resolve() };
    this.running = running;
    running.done = this.generate(request.id, request.messages, request.options, abort.signal).finally(() => {
      if (this.running === running) this.running = undefined;
    });
  }

  /** Stops the running generation, if any, and waits for it to end. */
  async close(): Promise<void> {
    const running = this.running;
    if (!running) return;
    running.abort.abort();
    await running.done;
  }

  private async generate(
    id: number,
    messages: Parameters<typeof conversationPrompt>[1],
    options: ChatOptions,
    signal: AbortSignal,
  ): Promise<void> {
    try {
      const prompt = conversationPrompt(this.model, messages);
      const result = await this.model.generate(prompt, {
        ...generationOf(options),
        stopTokenIds: this.stopIds,
        signal,
        onText: (text) => this.reply({ type: 'token', id, text }),
      });
      this.reply({ type: 'done', id, stoppedBy: result.stoppedBy, tokens: result.ids.length });
    } catch (err) {
      this.reply({ type: 'error', id, message: err instanceof Error ? err.message : String(err) });
    }
  }
}
