import type { ParameterValue } from '../../shared/config-sweep.js';
import { applyTextEdits, type ConfigFormat, LineIndex, type TextEdit } from '../../shared/config-tree.js';
import { configEdit, minimalEdit } from './config-edit.js';

/**
 * "Apply best to config": the best trial's values written into the sweep's source config, each at
 * its dotted key (`training.learning_rate` → training: learning_rate:), through the form's own
 * edit (config-edit.ts), so every other byte, comments included, stays as written. The edits of
 * the keys are applied one after the other and returned as one edit of the region that changed,
 * which the host applies as one undoable WorkspaceEdit. No 'vscode' import: tested in Node.
 */
export function applyBestEdit(
  text: string,
  format: ConfigFormat,
  params: Readonly<Record<string, ParameterValue>>,
): TextEdit | undefined {
  let next = text;
  for (const [key, value] of Object.entries(params))
    next = applyTextEdits(next, configEdit(next, format, key.split('.'), value));
  const [change] = minimalEdit(text, next);
  if (!change) return undefined;
  const [start, end, newText] = change;
  const lines = new LineIndex(text);
  return { range: { start: lines.positionAt(start), end: lines.positionAt(end) }, newText };
}
