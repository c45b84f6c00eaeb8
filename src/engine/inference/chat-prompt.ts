import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ChatMessage } from '../../shared/chat-protocol.js';
import { MAX_MODEL_JSON_BYTES } from '../../shared/limits.js';
import { readJsonBounded } from '../util/bounded-read.js';

/**
 * How a conversation becomes the prompt the model continues: the ONE place `finetune chat` turns
 * messages into text. A model folder with a chat template (tokenizer_config.json's
 * `chat_template`, or transformers' separate chat_template.jinja / chat_template.json) is meant to
 * be prompted through it; one without (GPT-2) runs in completion mode: the reply continues the
 * text of the conversation's last user message, and the system prompt and earlier turns are not
 * seen (the panel says so).
 */

/** Whether the folder's tokenizer carries a chat template. */
export function hasChatTemplate(folder: string): boolean {
  if (existsSync(join(folder, 'chat_template.jinja')) || existsSync(join(folder, 'chat_template.json'))) return true;
  const configPath = join(folder, 'tokenizer_config.json');
  if (!existsSync(configPath)) return false;
  const config = readJsonBounded(configPath, MAX_MODEL_JSON_BYTES, 'tokenizer_config.json') as {
    chat_template?: unknown;
  } | null;
  const template = config?.chat_template;
  return (typeof template === 'string' && template.length > 0) || (Array.isArray(template) && template.length > 0);
}

/** The prompt for the conversation; throws, saying why, when the model cannot be prompted with it. */
export function conversationPrompt(model: { folder: string }, messages: readonly ChatMessage[]): string {
  if (hasChatTemplate(model.folder)) {
    throw new Error(
      `${model.folder} has a chat template, and chat templates are not supported by this engine yet: refusing to prompt the model without it`,
    );
  }
  const lastUser = [...messages].reverse().find((m) => m.role === 'user');
  if (!lastUser) throw new Error('the conversation has no user message to continue');
  return lastUser.content;
}
