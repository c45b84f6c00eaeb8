import { spawn } from 'node:child_process';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { Ctx } from '../ctx.js';
import { type ExportFormat, engineEnv, exportArgs } from '../runs/engine-process.js';
import { allows } from '../runs/run-state.js';
import { runDirsOf } from './run-actions.js';
import { requireTrust } from './trust.js';

/**
 * Export Model: `finetune export <run-dir> --format onnx|safetensors --out <dir>` for a completed
 * run. Unlike training it is short, so it is an ordinary (attached) child process with a
 * cancellable progress notification; its output goes to the Fine-tune output channel.
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

  const code = await vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: `Exporting ${run.id} as ${format.label}`,
      cancellable: true,
    },
    (_progress, token) =>
      new Promise<number | string>((resolve) => {
        const child = spawn(process.execPath, exportArgs(ctx.cliPath, dir, format.format, out), {
          cwd: folder?.uri.fsPath ?? dir,
          env: engineEnv(),
          stdio: ['ignore', 'pipe', 'pipe'],
          windowsHide: true,
        });
        const log = (chunk: Buffer) => ctx.log.info(`[export ${run.id}] ${chunk.toString('utf8').trimEnd()}`);
        child.stdout.on('data', log);
        child.stderr.on('data', log);
        child.on('error', (err) => resolve(err.message));
        child.on('exit', (c, signal) => resolve(c ?? `signal ${signal}`));
        token.onCancellationRequested(() => child.kill('SIGTERM'));
      }),
  );
  if (code === 0) {
    const choice = await vscode.window.showInformationMessage(`Exported ${run.id} to ${out}.`, 'Reveal in Explorer');
    const outUri = vscode.Uri.file(out);
    // The Explorer can show it only inside the workspace; elsewhere the OS file manager does.
    const inWorkspace = vscode.workspace.getWorkspaceFolder(outUri) !== undefined;
    if (choice) await vscode.commands.executeCommand(inWorkspace ? 'revealInExplorer' : 'revealFileInOS', outUri);
  } else {
    const choice = await vscode.window.showErrorMessage(
      `Exporting ${run.id} failed (${typeof code === 'number' ? `exit code ${code}` : code}).`,
      'Show Log',
    );
    if (choice) ctx.log.show(true);
  }
}
