import { spawn } from 'node:child_process';
import * as vscode from 'vscode';
import type { Ctx } from '../ctx.js';
import { engineEnv } from '../runs/engine-process.js';

/**
 * Runs a short engine command (export, tokenizer training) as an attached child process under a
 * cancellable progress notification; its output goes to the Fine-tune output channel, each line
 * tagged. Resolves to the exit code, or a message when it could not start or was signalled.
 */
export function runEngineCommand(
  ctx: Ctx,
  options: { args: string[]; cwd: string; title: string; tag: string },
): Thenable<number | string> {
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: options.title, cancellable: true },
    (_progress, token) =>
      new Promise<number | string>((resolve) => {
        const child = spawn(process.execPath, options.args, {
          cwd: options.cwd,
          env: engineEnv(),
          stdio: ['ignore', 'pipe', 'pipe'],
          windowsHide: true,
        });
        const log = (chunk: Buffer) => ctx.log.info(`[${options.tag}] ${chunk.toString('utf8').trimEnd()}`);
        child.stdout.on('data', log);
        child.stderr.on('data', log);
        child.on('error', (err) => resolve(err.message));
        child.on('exit', (c, signal) => resolve(c ?? `signal ${signal}`));
        token.onCancellationRequested(() => child.kill('SIGTERM'));
      }),
  );
}

/** After an engine command: the folder it wrote, revealed on request, or the failure with its log. */
export async function reportEngineCommand(ctx: Ctx, code: number | string, done: string, failed: string, out: string) {
  if (code === 0) {
    const choice = await vscode.window.showInformationMessage(done, 'Reveal in Explorer');
    const outUri = vscode.Uri.file(out);
    // The Explorer can show it only inside the workspace; elsewhere the OS file manager does.
    const inWorkspace = vscode.workspace.getWorkspaceFolder(outUri) !== undefined;
    if (choice) await vscode.commands.executeCommand(inWorkspace ? 'revealInExplorer' : 'revealFileInOS', outUri);
  } else {
    const choice = await vscode.window.showErrorMessage(
      `${failed} (${typeof code === 'number' ? `exit code ${code}` : code}).`,
      'Show Log',
    );
    if (choice) ctx.log.show(true);
  }
}
