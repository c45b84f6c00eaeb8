import { diag, replaceEdit } from './config-schema-check.js';
import { SEQ2SEQ_TASKS } from './config-seq2seq-rules.js';
import { closest, type Diagnostic, entryAt, nodeAt, type ParsedConfig, type Span } from './config-tree.js';

/**
 * What a translation or summarization config asks of its data file and its model, checked on disk
 * (config-files.ts calls these): rows of the Hugging Face translation shape hold a `translation`
 * object with both languages, and a T5 model is given the task prefix it was trained with, as
 * run_translation.py and run_summarization.py warn ("You're running a t5 model but didn't provide a
 * source prefix").
 */

/** The translation rows' checks for one data file (its first rows), on data.<key> or on the language key. */
export function checkTranslationRows(
  parsed: ParsedConfig,
  rows: readonly Record<string, unknown>[],
  file: { rel: string; key: string; span: Span },
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const task = nodeAt(parsed.root, ['task']);
  if (task?.kind !== 'scalar' || !SEQ2SEQ_TASKS.includes(String(task.value)) || rows.length === 0) return out;
  const langs = (['source_lang', 'target_lang'] as const).flatMap((key) => {
    const n = nodeAt(parsed.root, ['data', key]);
    return n?.kind === 'scalar' && typeof n.value === 'string' && n.value !== ''
      ? [{ key, lang: n.value, span: n.span }]
      : [];
  });
  if (langs.length === 0) return out;
  const objects = rows.map((r) => r.translation);
  const bad = objects.findIndex((t) => t === null || typeof t !== 'object' || Array.isArray(t));
  if (bad >= 0) {
    const msg = `data.source_lang/target_lang read rows of {"translation": {<lang>: …}}; row ${bad + 1} of '${file.rel}' has no "translation" object (its fields: ${Object.keys(rows[bad] ?? {}).join(', ') || 'none'}). Use source_column/target_column for other rows.`;
    out.push(diag(parsed, 'error', msg, 'translation-rows', ['data', file.key], file.span));
    return out;
  }
  const keys = [...new Set(objects.flatMap((t) => Object.keys(t as object)))];
  for (const { key, lang, span } of langs) {
    const row = objects.findIndex((t) => !(lang in (t as object)));
    if (row < 0) continue;
    const guess = closest(lang, keys);
    const fixes = guess ? [{ title: `Change to '${guess}'`, edits: [replaceEdit(parsed, span, guess)] }] : [];
    const msg = `Language '${lang}' not found in the "translation" object of row ${row + 1} of '${file.rel}'; its languages are: ${keys.join(', ')}.`;
    out.push(diag(parsed, 'error', msg, 'translation-lang', ['data', key], span, fixes));
  }
  return out;
}

/** A T5 model (model_type t5: t5-*, flan-T5) without data.source_prefix: a warning on `data` (or `task`). */
export function checkT5Prefix(parsed: ParsedConfig, modelType: string, taskName: string): Diagnostic[] {
  if (modelType !== 't5' || !SEQ2SEQ_TASKS.includes(taskName)) return [];
  if (entryAt(parsed.root, ['data', 'source_prefix'])) return [];
  const example = taskName === 'summarization' ? 'summarize: ' : 'translate English to German: ';
  const msg = `T5 was trained with a task prefix: set data.source_prefix (e.g. '${example}'), as run_${taskName}.py warns when a t5 model has none.`;
  const data = entryAt(parsed.root, ['data']);
  const task = entryAt(parsed.root, ['task']);
  const at = data ?? task;
  if (!at) return [];
  return [diag(parsed, 'warning', msg, 't5-source-prefix', data ? ['data'] : ['task'], at.keySpan)];
}
