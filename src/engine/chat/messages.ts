// A conversation as chat templates take it: OpenAI's list of {role, content}. ShareGPT rows
// ({from, value} under `conversations`) are converted with TRL's mapping.

export interface ChatMessage {
  role: string;
  content: string;
}

/** ShareGPT speaker names as TRL's `maybe_convert_to_chatml` maps them to chat roles. */
export const SHAREGPT_ROLES: Readonly<Record<string, string>> = {
  human: 'user',
  user: 'user',
  gpt: 'assistant',
  assistant: 'assistant',
  system: 'system',
};

/**
 * Why a value is not a conversation (undefined when it is one): a non-empty list of objects whose
 * `roleKey` and `contentKey` are strings. `where` names the list in the message.
 */
export function conversationProblem(
  value: unknown,
  where: string,
  roleKey: string,
  contentKey: string,
): string | undefined {
  if (!Array.isArray(value)) return `'${where}' is not a list of messages`;
  if (value.length === 0) return `'${where}' is empty`;
  for (const [i, m] of value.entries()) {
    if (typeof m !== 'object' || m === null || Array.isArray(m)) return `'${where}'[${i}] is not an object`;
    const r = (m as Record<string, unknown>)[roleKey];
    const c = (m as Record<string, unknown>)[contentKey];
    if (typeof r !== 'string') return `'${where}'[${i}].${roleKey} is not a string`;
    if (typeof c !== 'string') return `'${where}'[${i}].${contentKey} is not a string`;
  }
  return undefined;
}

/** OpenAI messages from a checked list (see conversationProblem), ShareGPT speakers renamed. */
export function toMessages(value: readonly Record<string, unknown>[], sharegpt: boolean): ChatMessage[] {
  return value.map((m) => {
    if (!sharegpt) return { role: m.role as string, content: m.content as string };
    const from = m.from as string;
    return { role: SHAREGPT_ROLES[from] ?? from, content: m.value as string };
  });
}
