import { CONFIG_DEFAULTS } from './config-defaults.js';
import { diag, removeEdit } from './config-schema-check.js';
import { type Diagnostic, entryAt, nodeAt, type ParsedConfig } from './config-tree.js';

const entryIn = (parsed: ParsedConfig, path: string[]) => entryAt(parsed.root, path);

/**
 * The rules of translation and summarization configs: the rows name their two texts either by
 * columns (source_column + target_column) or by languages of a `translation` object (source_lang
 * + target_lang), never half of a pair and never both; the seq2seq keys mean nothing to the other
 * tasks.
 */
export const SEQ2SEQ_TASKS: readonly string[] = ['translation', 'summarization'];

/** data keys only the seq2seq tasks read (their columns are in config-tasks.ts). */
const SEQ2SEQ_DATA_KEYS = ['source_lang', 'target_lang', 'source_prefix', 'max_source_length', 'max_target_length'];
/** eval keys of the generating evaluation. */
const SEQ2SEQ_EVAL_KEYS = ['generate', 'num_beams', 'max_new_tokens'];
/** Metrics computed on generated text: they need eval.generate. */
const GENERATED_METRICS = new Set(['bleu', 'chrf', 'rouge1', 'rouge2', 'rougeL', 'rougeLsum']);

export function checkSeq2SeqRules(parsed: ParsedConfig, task: string | undefined): Diagnostic[] {
  const out: Diagnostic[] = [];
  if (nodeAt(parsed.root, ['data'])?.kind !== 'object' || task === undefined) return out;
  const entry = (path: string[]) => entryAt(parsed.root, path);
  if (!SEQ2SEQ_TASKS.includes(task)) {
    for (const [section, key] of [
      ...SEQ2SEQ_DATA_KEYS.map((k) => ['data', k] as const),
      ['training', 'label_smoothing'] as const,
      ...SEQ2SEQ_EVAL_KEYS.map((k) => ['eval', k] as const),
    ]) {
      const e = entry([section, key]);
      // A default value changes nothing (a config with every default written out stays quiet).
      const dflt = (CONFIG_DEFAULTS[section] as Readonly<Record<string, unknown>>)[key];
      if (!e || (e.value.kind === 'scalar' && dflt !== undefined && e.value.value === dflt)) continue;
      const remove = { title: `Remove '${key}'`, edits: [removeEdit(parsed, e.removeSpan)] };
      const msg = `${key} is only used by translation and summarization, not by ${task}.`;
      out.push(diag(parsed, 'warning', msg, 'unused-key', [section, key], e.keySpan, [remove]));
    }
    return out;
  }
  const pairs = [
    ['source_column', 'target_column'],
    ['source_lang', 'target_lang'],
  ] as const;
  const given = pairs.map((pair) => pair.map((k) => entry(['data', k])));
  for (const [i, pair] of pairs.entries()) {
    const [a, b] = given[i] as [ReturnType<typeof entry>, ReturnType<typeof entry>];
    const half = a
      ? b
        ? undefined
        : { has: pair[0], lacks: pair[1], at: a }
      : b && { has: pair[1], lacks: pair[0], at: b };
    if (half) {
      const msg = `data.${half.has} needs data.${half.lacks} as well: ${task} reads a source and a target.`;
      out.push(diag(parsed, 'error', msg, 'seq2seq-pair', ['data', half.has], half.at.keySpan));
    }
  }
  const columns = given[0]?.some(Boolean);
  const langs = given[1]?.some(Boolean);
  if (columns && langs) {
    for (const key of ['source_lang', 'target_lang']) {
      const e = entry(['data', key]);
      if (!e) continue;
      const msg = `Set either source_column/target_column or source_lang/target_lang, not both.`;
      out.push(diag(parsed, 'error', msg, 'exclusive', ['data', key], e.keySpan));
    }
  }
  out.push(...checkGenerateRules(parsed));
  const data = entry(['data']);
  if (!columns && !langs && data) {
    const msg = `${task} needs data.source_column and data.target_column, or data.source_lang and data.target_lang for rows of {"translation": {<source_lang>: …, <target_lang>: …}}.`;
    out.push(diag(parsed, 'error', msg, 'seq2seq-columns', ['data'], data.keySpan));
  }
  return out;
}

/** eval.metrics of generated text need eval.generate; the generation keys mean nothing without it. */
function checkGenerateRules(parsed: ParsedConfig): Diagnostic[] {
  const out: Diagnostic[] = [];
  const generate = entryIn(parsed, ['eval', 'generate']);
  if (generate?.value.kind === 'scalar' && generate.value.value === true) return out;
  const metrics = nodeAt(parsed.root, ['eval', 'metrics']);
  if (metrics?.kind === 'array')
    metrics.items.forEach((m, i) => {
      if (m.kind !== 'scalar' || typeof m.value !== 'string' || !GENERATED_METRICS.has(m.value)) return;
      const msg = `${m.value} scores generated text: set eval.generate: true to compute it.`;
      out.push(diag(parsed, 'error', msg, 'needs-generate', ['eval', 'metrics', i], m.span));
    });
  for (const key of ['num_beams', 'max_new_tokens']) {
    const e = entryIn(parsed, ['eval', key]);
    if (!e) continue;
    const msg = `eval.${key} is only used with eval.generate: true.`;
    out.push(diag(parsed, 'warning', msg, 'unused-key', ['eval', key], e.keySpan));
  }
  return out;
}
