import { diag } from './config-schema-check.js';
import { type Diagnostic, entryAt, nodeAt, type ParsedConfig } from './config-tree.js';

/**
 * The rules of data.augment: the tasks it augments, and for token classification only the
 * operations that keep every tag right (synonyms of O tokens, mention replacement).
 */
export const AUGMENT_TASKS: readonly string[] = ['text-classification', 'token-classification'];

/** EDA's operations that move or add words, so a word's tag would no longer be its own. */
export const TAG_BREAKING_EDA: readonly string[] = ['alpha_ri', 'alpha_rs', 'p_rd'];

export function checkAugmentRules(parsed: ParsedConfig, task: string | undefined): Diagnostic[] {
  const out: Diagnostic[] = [];
  const augment = entryAt(parsed.root, ['data', 'augment']);
  if (!augment || task === undefined) return out;
  if (!AUGMENT_TASKS.includes(task)) {
    const msg = `data.augment augments ${AUGMENT_TASKS.join(' and ')} data, not ${task}.`;
    out.push(diag(parsed, 'error', msg, 'augment-task', ['data', 'augment'], augment.keySpan));
    return out;
  }
  if (task === 'token-classification') {
    for (const key of TAG_BREAKING_EDA) {
      const e = entryAt(parsed.root, ['data', 'augment', 'eda', key]);
      if (!e) continue;
      const msg = `data.augment.eda.${key} is not available for token-classification: it moves or adds words, so their tags would be wrong. Token classification takes alpha_sr (synonyms of O tokens) and data.augment.mention_replacement.`;
      out.push(diag(parsed, 'error', msg, 'augment-tags', ['data', 'augment', 'eda', key], e.keySpan));
    }
    const bt = entryAt(parsed.root, ['data', 'augment', 'back_translation']);
    if (bt) {
      const msg =
        'data.augment.back_translation is for text-classification: a translated sentence has no word-by-word tags.';
      out.push(diag(parsed, 'error', msg, 'augment-tags', ['data', 'augment', 'back_translation'], bt.keySpan));
    }
  } else {
    const e = entryAt(parsed.root, ['data', 'augment', 'mention_replacement']);
    if (e) {
      const msg = `data.augment.mention_replacement is for token-classification (entity mentions), not ${task}.`;
      out.push(diag(parsed, 'error', msg, 'augment-task', ['data', 'augment', 'mention_replacement'], e.keySpan));
    }
  }
  const eda = nodeAt(parsed.root, ['data', 'augment', 'eda']);
  if (eda?.kind === 'object' && task === 'text-classification') {
    const rates = ['alpha_sr', ...TAG_BREAKING_EDA].map((k) => nodeAt(parsed.root, ['data', 'augment', 'eda', k]));
    if (rates.every((n) => n?.kind === 'scalar' && n.value === 0)) {
      const e = entryAt(parsed.root, ['data', 'augment', 'eda']);
      if (e) {
        const msg = 'data.augment.eda has every rate at 0: it would make no copies.';
        out.push(diag(parsed, 'warning', msg, 'augment-off', ['data', 'augment', 'eda'], e.keySpan));
      }
    }
  }
  return out;
}
