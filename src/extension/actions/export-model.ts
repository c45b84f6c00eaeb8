import { join } from 'node:path';
import * as vscode from 'vscode';
import type { Ctx } from '../ctx.js';
import { type ExportFormat, exportArgs } from '../runs/engine-process.js';
import { allows } from '../runs/run-state.js';
import { reportEngineCommand, runEngineCommand } from './engine-command.js';
import { runDirsOf } from './run-actions.js';
import { requireTrust } from './trust.js';

/**
 * Export Model: `finetune export <run-dir> --format onnx|safetensors --out <dir>` for a completed
 * run. Unlike training it is short, so it is an ordinary (attached) child process with a
 * cancellable progress notification (runEngineCommand).
 */
export async function exportModel(ctx: Ctx, ...args: unknown[]): Promise<void> {
  if (!(await requireTrust('export a model'))) return;
  let dir = runDirsOf(args)[0];
  if (dir === undefined) {
    const done = ctx.runs.list().filter((r) => allows(r.state, 'export'));
    if (done.length === 0) {
      void vscode.window.showInformationMessage('Fine-tune: no completed run to export yet.');
      return;
    }
    const picked = await vscode.window.showQuickPick(
      done.map((r) => ({
        label: r.id,
        description: r.status?.best ? `best ${r.status.best.metric} ${r.status.best.value}` : '',
        dir: r.dir,
      })),
      { title: 'Fine-tune: select the run to export' },
    );
    dir = picked?.dir;
  }
  if (dir === undefined) return;
  const run = ctx.runs.get(dir);
  if (!run) throw new Error(`No run at ${dir}.`);
  if (!allows(run.state, 'export'))
    throw new Error(`Run ${run.id} is ${run.state}: only completed runs can be exported.`);

  const format = await vscode.window.showQuickPick(
    [
      {
        label: 'onnx',
        detail: 'model.onnx for inference with ONNX Runtime (any language, CPU or GPU)',
        format: 'onnx' as ExportFormat,
      },
      {
        label: 'safetensors',
        detail: 'A Hugging Face folder (config.json, model.safetensors, tokenizer) for transformers and the Hub',
        format: 'safetensors' as ExportFormat,
      },
    ],
    { title: `Export ${run.id}`, placeHolder: 'Format' },
  );
  if (!format) return;
  const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(dir));
  const parent = await vscode.window.showOpenDialog({
    title: `Export ${run.id}: choose the folder to export into`,
    canSelectFiles: false,
    canSelectFolders: true,
    canSelectMany: false,
    openLabel: 'Export Here',
    defaultUri: folder?.uri,
  });
  const target = parent?.[0];
  if (!target) return;
  const out = join(target.fsPath, `${run.id}-${format.format}`);

  const code = await runEngineCommand(ctx, {
    args: exportArgs(ctx.cliPath, dir, format.format, out),
    cwd: folder?.uri.fsPath ?? dir,
    title: `Exporting ${run.id} as ${format.label}`,
    tag: `export ${run.id}`,
  });
  await reportEngineCommand(ctx, code, `Exported ${run.id} to ${out}.`, `Exporting ${run.id} failed`, out);
}
