import { type ChatMessage, conversationProblem, toMessages } from '../chat/messages.js';
import type { GenerationOptions, LoadedCausalLm } from './causal-lm-model.js';
import { conversationPrompt, hasChatTemplate } from './chat-prompt.js';

/**
 * One line of `finetune predict` on a causal LM, by the row's layout (as TRL tells its formats
 * apart, data/records.ts detectSftLayout):
 *   {"messages": [...]} (OpenAI) or {"conversations": [...]} (ShareGPT), or {"prompt": [...]}
 *   (TRL's conversational prompt-completion): the chat template rendered with
 *   add_generation_prompt -> {"message": {"role": "assistant", "content"}, "finish_reason"};
 *   {"prompt": "..."}: the completion -> {"completion", "finish_reason"};
 *   otherwise the text column is the prompt -> {"text", "finish_reason"}.
 * A conversation that ends with the assistant's turn (an SFT row) is prompted with the turns
 * before it: the reply is generated anew.
 */

export type LmPredictModel = Pick<LoadedCausalLm, 'folder' | 'tokenizer' | 'generate'>;

type Row = Record<string, unknown>;

/** The conversation of a row (messages, conversations, or a list-valued prompt), or undefined. */
function rowConversation(row: Row, where: string): ChatMessage[] | undefined {
  const [name, sharegpt] =
    row.messages !== undefined
      ? ['messages', false]
      : row.conversations !== undefined
        ? ['conversations', true]
        : Array.isArray(row.prompt)
          ? ['prompt', false]
          : [undefined, false];
  if (name === undefined) return undefined;
  const [roleKey, contentKey] = sharegpt ? ['from', 'value'] : ['role', 'content'];
  const problem = conversationProblem(row[name], name, roleKey, contentKey);
  if (problem) throw new Error(`${where}: ${problem} (expected a list of {"${roleKey}", "${contentKey}"})`);
  const messages = toMessages(row[name] as Row[], sharegpt);
  while (messages.length > 0 && messages[messages.length - 1]?.role === 'assistant') messages.pop();
  if (messages.length === 0) throw new Error(`${where}: '${name}' has no turn before the assistant's reply`);
  return messages;
}

export async function predictLmRow(
  model: LmPredictModel,
  row: unknown,
  o: { textColumn: string; where: string; generation: GenerationOptions },
): Promise<Record<string, unknown>> {
  const { where } = o;
  if (row === null || typeof row !== 'object' || Array.isArray(row))
    throw new Error(`${where}: expected a JSON object`);
  const fields = row as Row;
  const conversation = rowConversation(fields, where);
  if (conversation) {
    if (!hasChatTemplate(model.folder)) {
      throw new Error(
        `${where}: a conversation row needs a chat template, and the model ${model.folder} has none (tokenizer_config.json chat_template or chat_template.jinja); give a "prompt" or "${o.textColumn}" string instead`,
      );
    }
    let prompt: string | number[];
    try {
      prompt = conversationPrompt(model, conversation);
    } catch (err) {
      throw new Error(`${where}: ${(err as Error).message}`);
    }
    const g = await model.generate(prompt, o.generation);
    return { message: { role: 'assistant', content: g.text }, finish_reason: g.finishReason };
  }
  if (typeof fields.prompt === 'string') {
    const g = await model.generate(fields.prompt, o.generation);
    return { completion: g.text, finish_reason: g.finishReason };
  }
  const text = fields[o.textColumn];
  if (typeof text !== 'string')
    throw new Error(`${where}: expected "messages", "conversations", a "prompt" or a string in "${o.textColumn}"`);
  const g = await model.generate(text, o.generation);
  return { text: g.text, finish_reason: g.finishReason };
}
