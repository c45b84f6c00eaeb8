import { type ChatStopReason, finishReasonOf } from '../../shared/chat-protocol.js';
import type { Tokenizer } from '../tokenize/index.js';
import { rng } from '../util/random.js';
import type { Generation, GenerationOptions } from './causal-lm-model.js';
import { checkDecoding, nextToken } from './next-token.js';
import { TextStream } from './text-stream.js';

/**
 * One sequence being generated, whatever runs its forward passes: the prompt as fed, the tokens
 * chosen so far, and every per-token rule of `generate` — the choice from the last position's
 * logits (greedy or sampled, the repetition penalty's seen set, the row's own seeded sampler), EOS
 * and stop ids, stop strings and streamed text deltas, max_new_tokens, the context's end and the
 * abort signal. `LoadedCausalLm.generate` steps one row alone; the continuous batcher
 * (continuous-batcher.ts) steps many rows at different positions in one forward.
 */
export class GenerationRow {
  /** The prompt as fed to the model (never empty, cut to leave room for one new token). */
  readonly prompt: number[];
  readonly generated: number[] = [];
  stoppedBy: ChatStopReason = 'max_new_tokens';
  /** True once the row has its result: no more forward passes for it. */
  done = false;
  private readonly seen: Set<number>;
  private readonly rand: () => number;
  private readonly stream: TextStream | undefined;
  private readonly eos: number | null;
  private readonly maxNew: number;

  constructor(
    prompt: string | readonly number[],
    private readonly g: GenerationOptions,
    private readonly lm: {
      tokenizer: Tokenizer;
      eosTokenId: number | null;
      bosTokenId: number | null;
      context: number;
    },
  ) {
    checkDecoding(g);
    const stopStrings = g.stopStrings ?? [];
    for (const stop of stopStrings)
      if (typeof stop !== 'string' || stop === '')
        throw new Error(`generation: stop strings must be non-empty, got ${JSON.stringify(stop)}`);
    this.eos = g.eosTokenId === undefined ? lm.eosTokenId : g.eosTokenId;
    this.maxNew = g.maxNewTokens ?? 50;
    let ids = typeof prompt === 'string' ? lm.tokenizer.encode(prompt, null).ids : [...prompt];
    // An empty prompt starts from BOS (GPT-2's is <|endoftext|>), as transformers' generate does.
    if (ids.length === 0) ids = [lm.bosTokenId ?? this.eos ?? 0];
    // Room for at least one new token inside the context: keep the end of a too-long prompt.
    if (ids.length >= lm.context) ids = ids.slice(ids.length - lm.context + 1);
    this.prompt = ids;
    this.seen = new Set(ids); // the sequence's distinct ids, for the repetition penalty
    this.rand = rng(g.seed ?? 0);
    this.stream = g.onText || stopStrings.length > 0 ? new TextStream(this.decode, stopStrings) : undefined;
    if (this.maxNew <= 0) this.done = true;
  }

  private readonly decode = (ids: readonly number[]) => this.lm.tokenizer.decode(ids, true);

  /** Tokens in the sequence so far (prompt and generated). */
  get length(): number {
    return this.prompt.length + this.generated.length;
  }

  /** Ends the row before its next forward pass when its signal aborted; true when it did. */
  abortIfAsked(): boolean {
    if (!this.done && this.g.signal?.aborted) {
      this.stoppedBy = 'stopped';
      this.done = true;
    }
    return this.done;
  }

  /** Takes the next token from the logits of the row's last position; sets `done` when the row ends. */
  accept(logits: ArrayLike<number>): void {
    const next = nextToken(logits, this.g, this.rand, this.seen);
    if ((this.eos !== null && next === this.eos) || this.g.stopTokenIds?.includes(next)) {
      this.stoppedBy = 'eos';
      this.done = true;
      return;
    }
    this.generated.push(next);
    this.seen.add(next);
    this.g.onToken?.(next);
    if (this.stream) {
      const delta = this.stream.push(next);
      if (this.stream.stopAt >= 0) {
        this.stoppedBy = 'stop_string';
        this.done = true;
        return;
      }
      if (delta) this.g.onText?.(delta);
    }
    if (this.generated.length >= this.maxNew) {
      this.done = true;
      return;
    }
    // The sequence fills the context: another token would need a position the model has not (or
    // one past its sliding attention window, where the full-prefix attention here would differ).
    if (this.length >= this.lm.context) {
      this.stoppedBy = 'context';
      this.done = true;
    }
  }

  /** The result (the rest of the streamed text is sent first). */
  finish(): Generation {
    const full = this.decode(this.generated);
    const text = this.stream && this.stream.stopAt >= 0 ? full.slice(0, this.stream.stopAt) : full;
    const rest = this.stream?.finish(text);
    if (rest) this.g.onText?.(rest);
    return { ids: this.generated, text, stoppedBy: this.stoppedBy, finishReason: finishReasonOf(this.stoppedBy) };
  }
}
