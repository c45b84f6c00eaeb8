import { type ChatTemplate, ChatTemplateError } from '../../chat/template.js';
import { DataError, formatSource, type Source } from '../../data/errors.js';
import type { ChatExample, CompletionExample } from '../../data/records.js';
import type { Tokenizer } from '../../tokenize/index.js';
import type { LmExample } from './recipe.js';

/**
 * Supervised fine-tuning rows as TRL's SFTTrainer tokenizes them, with the mask of the tokens the
 * loss covers (`LmExample.lossMask`, 1 on a token the model must learn to predict):
 *
 * - prompt-completion: ids = tokenize(prompt + completion) with the post-processor's special tokens,
 *   EOS appended unless already last; with completion_only_loss the loss covers the positions from
 *   len(tokenize(prompt)) on (the completion and the EOS), else every token;
 * - messages: ids = tokenize(render(messages)) without special tokens (the template writes them);
 *   with assistant_only_loss the loss covers, for each assistant message i, the tokens that
 *   render(messages[:i+1]) adds beyond render(messages[:i], add_generation_prompt=true): the reply
 *   and its end-of-turn token. That needs each such rendering to tokenize to a prefix of the whole
 *   conversation's tokens; a template for which it fails is an error naming the row.
 *
 * A conversation the template refuses (raise_exception) or cannot mask is a row-level DataError:
 * the recipe hands it to the run's BadRows, so `data.on_bad_rows: skip` drops and lists it.
 *
 * A row longer than max_length is cut from the right (`truncate`) or left out (`skip`), counted in
 * LongRows; a row left with no token to learn is left out and counted as well.
 */
export interface SftOptions {
  maxLength: number;
  eos: number | null;
  onLongRows: 'truncate' | 'skip';
  completionOnlyLoss: boolean;
  assistantOnlyLoss: boolean;
  /** The model's chat template (messages rows need one). */
  template: () => ChatTemplate | undefined;
}

/** Rows cut or left out by encoding, with the first few places. */
export class LongRows {
  truncated = 0;
  skipped = 0;
  /** Rows whose loss mask is empty after truncation (or was from the start). */
  noTargets = 0;
  readonly first: string[] = [];

  note(kind: 'truncated' | 'skipped' | 'noTargets', source: Source, detail: string): void {
    this[kind]++;
    if (this.first.length < 5) this.first.push(`${formatSource(source)}: ${detail}`);
  }

  /** Report lines, none when nothing was cut or left out. */
  lines(maxLength: number): string[] {
    if (this.truncated + this.skipped + this.noTargets === 0) return [];
    const parts = [
      this.truncated ? `${this.truncated} truncated to ${maxLength} tokens` : '',
      this.skipped ? `${this.skipped} left out as longer than ${maxLength} tokens (data.on_long_rows: skip)` : '',
      this.noTargets ? `${this.noTargets} left out with no token to learn within ${maxLength} tokens` : '',
    ].filter(Boolean);
    return [`long rows: ${parts.join(', ')}`, ...this.first.map((f) => `  ${f}`)];
  }
}

const isPrefix = (prefix: readonly number[], of: readonly number[]): boolean =>
  prefix.length <= of.length && prefix.every((id, i) => of[i] === id);

/** Applies max_length to ids and mask: the example, or undefined when it is left out (counted). */
function fit(ids: number[], mask: number[], source: Source, o: SftOptions, long: LongRows): LmExample | undefined {
  let inputIds = ids;
  let lossMask = mask;
  if (ids.length > o.maxLength) {
    if (o.onLongRows === 'skip') {
      long.note('skipped', source, `${ids.length} tokens`);
      return undefined;
    }
    inputIds = ids.slice(0, o.maxLength);
    lossMask = mask.slice(0, o.maxLength);
  }
  // Position 0 is never predicted: a mask set only there teaches nothing.
  if (!lossMask.some((m, t) => m === 1 && t > 0)) {
    long.note('noTargets', source, `${ids.length} tokens`);
    return undefined;
  }
  if (inputIds !== ids) long.note('truncated', source, `${ids.length} tokens`);
  return { inputIds, lossMask, line: source.line };
}

export function encodeCompletion(
  tokenizer: Tokenizer,
  e: CompletionExample,
  o: SftOptions,
  long: LongRows,
): LmExample | undefined {
  const ids = tokenizer.encode(e.prompt + e.completion, null).ids;
  if (o.eos !== null && ids[ids.length - 1] !== o.eos) ids.push(o.eos);
  const promptLength = o.completionOnlyLoss ? tokenizer.encode(e.prompt, null).ids.length : 0;
  const mask = ids.map((_, t) => (t >= promptLength ? 1 : 0));
  return fit(ids, mask, e.source, o, long);
}

export function encodeChat(tokenizer: Tokenizer, e: ChatExample, o: SftOptions, long: LongRows): LmExample | undefined {
  const template = o.template();
  if (!template) {
    throw new DataError(
      'config',
      'messages rows need a chat template, and the model has none (tokenizer_config.json chat_template or chat_template.jinja)',
      e.source,
      'a chat model, or prompt-completion / text rows',
    );
  }
  const render = (n: number, addGenerationPrompt: boolean): string => {
    try {
      return template.render(e.messages.slice(0, n), { addGenerationPrompt });
    } catch (err) {
      if (!(err instanceof ChatTemplateError)) throw err;
      const roles = e.messages.map((m) => m.role).join(', ');
      throw new DataError(
        'inconsistent',
        `the chat template refused the conversation (${roles}): ${err.message}`,
        e.source,
        'a conversation the model’s chat template accepts',
      );
    }
  };
  const tokens = (text: string) => tokenizer.encode(text, null, { addSpecialTokens: false }).ids;
  const ids = tokens(render(e.messages.length, false));
  const mask = new Array<number>(ids.length).fill(o.assistantOnlyLoss ? 0 : 1);
  if (o.assistantOnlyLoss) {
    e.messages.forEach((m, i) => {
      if (m.role !== 'assistant') return;
      const before = tokens(render(i, true));
      const through = tokens(render(i + 1, false));
      if (!isPrefix(before, through) || !isPrefix(through, ids)) {
        const which = isPrefix(before, through) ? `messages[:${i + 1}]` : `messages[:${i}] with the generation prompt`;
        throw new DataError(
          'inconsistent',
          `the chat template's rendering of ${which} does not tokenize to a prefix of the whole conversation, so the tokens of assistant message ${i} cannot be told apart`,
          e.source,
          'a template whose renderings of the first messages are prefixes of the whole (else set training.assistant_only_loss: false)',
        );
      }
      for (let t = before.length; t < through.length; t++) mask[t] = 1;
    });
  }
  return fit(ids, mask, e.source, o, long);
}
