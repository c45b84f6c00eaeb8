import type { ConfigFs } from './config-files.js';
import { MAX_MODEL_JSON_BYTES, utf8Length } from './limits.js';

/**
 * The file checks particular to causal-lm's supervised fine-tuning formats (`data.format`): which
 * columns a row of each format needs, and whether the model can render `messages` rows, which
 * needs a chat template. The engine stops on both at run time (src/engine/data/records.ts,
 * tasks/causal-lm/sft.ts); these say so in the editor first. Browser-safe, like config-files.ts.
 */
export type SftFormat = 'text' | 'prompt-completion' | 'messages';

/** TRL's fixed column names, as the engine's SFT_FIELDS (src/shared can't import the engine). */
const MESSAGES = ['messages', 'conversations'] as const;
const PROMPT_COMPLETION = ['prompt', 'completion'] as const;

/**
 * The format of rows with these fields, as TRL (and the engine's detectSftLayout) tells them apart:
 * `messages` (or ShareGPT `conversations`), else `prompt` with `completion`, else plain text.
 */
export function detectSftFormat(fields: readonly string[]): SftFormat {
  if (MESSAGES.some((f) => fields.includes(f))) return 'messages';
  if (PROMPT_COMPLETION.every((f) => fields.includes(f))) return 'prompt-completion';
  return 'text';
}

/**
 * What rows of a non-text format lack, as a sentence ending before its full stop, given the
 * columns seen in the file; undefined when they have it (text rows are checked by text_column).
 */
export function missingSftColumns(format: SftFormat, columns: readonly string[]): string | undefined {
  if (format === 'messages' && !MESSAGES.some((f) => columns.includes(f)))
    return "data.format messages reads a 'messages' column (or ShareGPT 'conversations')";
  if (format === 'prompt-completion') {
    const missing = PROMPT_COMPLETION.filter((f) => !columns.includes(f));
    if (missing.length > 0)
      return `data.format prompt-completion reads 'prompt' and 'completion' columns; ${missing.map((m) => `'${m}'`).join(' and ')} not found`;
  }
  return undefined;
}

/**
 * Why the model folder `dir` can't render conversations (`name`: the config's model value; `shown`:
 * the folder as messages name it, which for a Hub id is its snapshot in the cache), or undefined
 * when it has a chat template: chat_template.jinja (what transformers ≥ 4.50 saves), or a
 * `chat_template` in tokenizer_config.json (a string, or a list of named templates with one named
 * 'default', which is the one transformers uses). As the engine's ChatTemplate.load reads them.
 */
export async function chatTemplateProblem(
  fs: ConfigFs,
  dir: string,
  name: string,
  shown: string,
): Promise<string | undefined> {
  if (await fs.exists(`${dir}/chat_template.jinja`)) return undefined;
  const path = `${dir}/tokenizer_config.json`;
  const text = fs.readHead ? await fs.readHead(path, MAX_MODEL_JSON_BYTES + 4) : await fs.readText(path);
  const none = `'${name}' has no chat template (no chat_template in ${shown}/tokenizer_config.json and no ${shown}/chat_template.jinja), which data.format messages needs to render the conversations`;
  if (text === undefined) return `${none}: it has no tokenizer_config.json at all.`;
  // Too large to judge here: loading it says so.
  if (utf8Length(text, MAX_MODEL_JSON_BYTES) > MAX_MODEL_JSON_BYTES) return undefined;
  let settings: unknown;
  try {
    settings = JSON.parse(text);
  } catch {
    return `${shown}/tokenizer_config.json is not valid JSON, so its chat template can't be read.`;
  }
  const template = (settings as { chat_template?: unknown } | null)?.chat_template;
  if (typeof template === 'string' && template.trim() !== '') return undefined;
  if (Array.isArray(template)) {
    const names = template.flatMap((t: unknown) =>
      t !== null && typeof t === 'object' && typeof (t as { name?: unknown }).name === 'string'
        ? [(t as { name: string }).name]
        : [],
    );
    if (names.includes('default')) return undefined;
    return `${shown}/tokenizer_config.json lists chat templates named ${names.map((n) => `'${n}'`).join(', ') || '(none)'} but none named 'default', the one used for data.format messages.`;
  }
  return `${none}. Use an instruct or chat model, or add a chat template to the folder.`;
}
