import { basename } from 'node:path';
import * as vscode from 'vscode';
import { formatOf } from '../../shared/config-tree.js';
import type { SweepInfo } from '../../shared/messages.js';
import { applyBestEdit } from './apply-best.js';

/**
 * "Apply best to config" on the host: the best trial's values written into the sweep's source
 * config as one WorkspaceEdit (undoable; comments and layout kept, apply-best.ts), then saved and
 * shown, so the file on disk is what the next run starts from.
 */
export async function applyBestToConfig(info: SweepInfo | undefined, trial: number): Promise<void> {
  const record = info?.record;
  if (!info || !record) throw new Error('This panel shows no readable sweep.');
  const best = record.best;
  if (!best) throw new Error(`${info.id} has no completed trial yet.`);
  if (best.trial !== trial)
    throw new Error(`The best trial is now trial ${best.trial}, not ${trial}: look again and apply that one.`);
  if (!info.sourceFile)
    throw new Error(
      `The config file ${info.id} was started from is not recorded in its sweep.json or no longer exists.`,
    );
  const uri = vscode.Uri.file(info.sourceFile);
  const doc = await vscode.workspace.openTextDocument(uri);
  const change = applyBestEdit(doc.getText(), formatOf(uri.path), best.params);
  if (change) {
    const { start, end } = change.range;
    const edit = new vscode.WorkspaceEdit();
    edit.replace(uri, new vscode.Range(start.line, start.character, end.line, end.character), change.newText);
    if (!(await vscode.workspace.applyEdit(edit)))
      throw new Error(`VS Code did not apply the edit to ${basename(uri.path)}.`);
    await doc.save();
  }
  await vscode.window.showTextDocument(doc, { preview: false, preserveFocus: true });
}
