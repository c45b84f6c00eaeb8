import type { ChatMessage } from '../chat/messages.js';
import { ChatTemplate } from '../chat/template.js';
import type { Tokenizer } from '../tokenize/index.js';

/**
 * How a conversation becomes the prompt the model continues: the ONE place `finetune chat` turns
 * messages into text. A model folder with a chat template (tokenizer_config.json's
 * `chat_template`, or transformers' separate chat_template.jinja) is prompted
 * through it; one without (GPT-2) runs in completion mode: the reply continues the
 * text of the conversation's last user message, and the system prompt and earlier turns are not
 * seen (the panel says so).
 */

/** Whether the folder's tokenizer carries a chat template (one that parses). */
export function hasChatTemplate(folder: string): boolean {
  return ChatTemplate.fromFolder(folder) !== undefined;
}

/**
 * The prompt for the conversation; throws, saying why, when the model cannot be prompted with it.
 * With a chat template: the conversation rendered with add_generation_prompt, as token ids
 * tokenized without special tokens (the template writes them itself, as transformers'
 * apply_chat_template(tokenize=True) does). Without one: the last user message's text.
 */
export function conversationPrompt(
  model: { folder: string; tokenizer: Pick<Tokenizer, 'encode'> },
  messages: readonly ChatMessage[],
): string | number[] {
  const template = ChatTemplate.fromFolder(model.folder);
  if (template) {
    const text = template.render(messages, { addGenerationPrompt: true });
    return model.tokenizer.encode(text, null, { addSpecialTokens: false }).ids;
  }
  const lastUser = [...messages].reverse().find((m) => m.role === 'user');
  if (!lastUser) throw new Error('the conversation has no user message to continue');
  return lastUser.content;
}
