// A model's chat template (tokenizer_config.json's `chat_template`, or chat_template.jinja beside
// it), rendered with @huggingface/jinja as transformers' apply_chat_template renders it.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from '@huggingface/jinja';
import { MAX_MODEL_JSON_BYTES } from '../../shared/limits.js';
import { readJsonBounded, readTextBounded } from '../util/bounded-read.js';
import type { ChatMessage } from './messages.js';

/** The template refused a conversation (its raise_exception) or failed while rendering it. */
export class ChatTemplateError extends Error {
  override readonly name = 'ChatTemplateError';
}

/** The special tokens transformers passes to the template (its special_tokens_map), as text. */
const TEMPLATE_TOKENS = ['bos_token', 'eos_token', 'unk_token', 'pad_token', 'sep_token', 'cls_token', 'mask_token'];

/** A special token as tokenizer_config writes it: a string or an AddedToken object. */
function tokenText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  return undefined;
}

/**
 * The template text of a `chat_template` value: a string, or the list of named templates
 * `[{name, template}]` some tokenizers save (transformers uses the one named "default" when no
 * name is asked for). Undefined when there is none.
 */
export function templateSource(value: unknown, file: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    const named = value.filter(
      (t): t is { name: string; template: string } =>
        typeof t === 'object' && t !== null && typeof t.name === 'string' && typeof t.template === 'string',
    );
    const chosen = named.find((t) => t.name === 'default');
    if (!chosen) {
      throw new Error(
        `${file}: chat_template lists templates named ${named.map((t) => `'${t.name}'`).join(', ') || '(none)'} but none named 'default'`,
      );
    }
    return chosen.template;
  }
  throw new Error(`${file}: chat_template is neither a string nor a list of {name, template}`);
}

export class ChatTemplate {
  private readonly template: Template;

  constructor(
    readonly source: string,
    /** bos_token, eos_token, ... as the template sees them. */
    private readonly tokens: Readonly<Record<string, string>>,
    /** Where the template came from, for messages. */
    readonly origin: string,
  ) {
    try {
      this.template = new Template(source);
    } catch (err) {
      throw new Error(`${origin}: the chat template does not parse: ${(err as Error).message}`);
    }
  }

  /**
   * The model folder's template, or undefined when it has none. chat_template.jinja (what
   * transformers ≥ 4.50 saves) wins over tokenizer_config.json's chat_template, as when loading.
   */
  static fromFolder(dir: string): ChatTemplate | undefined {
    const read = (name: string): Record<string, unknown> => {
      const path = join(dir, name);
      return existsSync(path)
        ? (readJsonBounded(path, MAX_MODEL_JSON_BYTES, `a ${name}`) as Record<string, unknown>)
        : {};
    };
    const config = read('tokenizer_config.json');
    // tokenizer_config wins over special_tokens_map, as in transformers.
    const settings = { ...read('special_tokens_map.json'), ...config };
    const tokens: Record<string, string> = {};
    for (const key of TEMPLATE_TOKENS) {
      const text = tokenText(settings[key]);
      if (text !== undefined) tokens[key] = text;
    }
    const jinja = join(dir, 'chat_template.jinja');
    if (existsSync(jinja)) {
      return new ChatTemplate(readTextBounded(jinja, MAX_MODEL_JSON_BYTES, 'a chat_template.jinja'), tokens, jinja);
    }
    const file = join(dir, 'tokenizer_config.json');
    const source = templateSource(config.chat_template, file);
    return source === undefined ? undefined : new ChatTemplate(source, tokens, file);
  }

  /**
   * The conversation as text. A refusal (the template's raise_exception) or any other failure of
   * the template is a ChatTemplateError carrying the template's own message.
   */
  render(messages: readonly ChatMessage[], o: { addGenerationPrompt?: boolean } = {}): string {
    try {
      return this.template.render({
        ...this.tokens,
        messages: messages.map((m) => ({ role: m.role, content: m.content })),
        add_generation_prompt: o.addGenerationPrompt ?? false,
      });
    } catch (err) {
      throw new ChatTemplateError((err as Error).message);
    }
  }
}
