import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import { parseConfigText, toValue } from '../../shared/config-tree.js';
import type { PlaygroundInput } from '../../shared/playground.js';
import { isPlaygroundTask } from '../../shared/playground.js';
import { RUN_FILES } from '../../shared/run-directory.js';
import type { Ctx } from '../ctx.js';
import { CONFIG_FILE_RE, CONFIG_GLOB } from '../ids.js';
import { latestCompletedRun } from '../runs/config-runs.js';
import { serveArgs } from '../runs/engine-process.js';
import type { RunSnapshot } from '../runs/run-reader.js';
import { configFolderOf, configRunsRoot, readSettings } from '../settings.js';
import { showPredictionPeek } from '../views/prediction-peek.js';
import { pickConfig } from './config-actions.js';
import { pickRun } from './run-actions.js';
import { requireTrust } from './trust.js';

/** Predict on Selection and Serve Model: a trained model tried from the editor, or served. */

/** How long Serve Model's notification waits for the clipboard write. */
const CLIPBOARD_WAIT_MS = 2000;

/** The config in view (the active editor's, else a visible one's), the workspace's only one, or one picked. */
async function activeConfig(): Promise<vscode.Uri | undefined> {
  const active = vscode.window.activeTextEditor?.document.uri;
  if (active && CONFIG_FILE_RE.test(active.path)) return active;
  const visible = vscode.window.visibleTextEditors.map((e) => e.document.uri).find((u) => CONFIG_FILE_RE.test(u.path));
  if (visible) return visible;
  const found = await vscode.workspace.findFiles(CONFIG_GLOB, '**/node_modules/**', 2);
  if (found.length === 1) return found[0];
  if (found.length === 0)
    throw new Error('No *.finetune.yaml / *.finetune.json in this workspace: there is no model to try.');
  return pickConfig('Select the config whose latest completed run should predict');
}

/** The config's newest completed run; the error names the config when it has none. */
async function completedRunOf(ctx: Ctx, config: vscode.Uri): Promise<RunSnapshot> {
  const doc = await vscode.workspace.openTextDocument(config);
  const root = configRunsRoot(config, doc.getText());
  const run = root && latestCompletedRun(ctx.runs.list(), config.fsPath, root);
  if (!run)
    throw new Error(
      `${basename(config.fsPath)} has no completed run yet: start one with "Fine-tune: Start Fine-tune" and try again once it completes.`,
    );
  return run;
}

/** The task of a run as it ran (its config.yaml). */
function runTask(runDir: string): PlaygroundInput['task'] {
  const path = join(runDir, RUN_FILES.config);
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const value = toValue(parseConfigText(text, 'yaml').root) as { task?: unknown } | undefined;
  if (!isPlaygroundTask(value?.task))
    throw new Error(`Run ${basename(runDir)} has no task a model server runs (${path}).`);
  return value.task;
}

export async function predictOnSelection(ctx: Ctx): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.selection.isEmpty) throw new Error('Select the text to predict on in an editor first.');
  if (!(await requireTrust('run a model'))) return;
  const { start, end } = editor.selection;
  // A selection of whole lines ends at the start of the next one: the hint goes after the text.
  const last = end.character === 0 && end.line > start.line ? editor.document.lineAt(end.line - 1).range.end : end;
  const range = new vscode.Range(start, last);
  const selected = editor.document.getText(range);
  const config = await activeConfig();
  if (!config) return;
  const run = await completedRunOf(ctx, config);
  const task = runTask(run.dir);
  let input: PlaygroundInput;
  if (task === 'question-answering') {
    const question = await vscode.window.showInputBox({
      title: `Fine-tune: ask ${run.id}`,
      prompt: 'The question; the selection is its context',
      validateInput: (v) => (v.trim() ? undefined : 'Type a question.'),
    });
    if (!question) return;
    input = { task, question, context: selected };
  } else if (task === 'causal-lm') input = { task, prompt: selected, maxTokens: 64, temperature: 0 };
  // A translation or summary as long as the model's generation_config.json allows.
  else input = { task, text: selected };
  const modelDir = join(run.dir, RUN_FILES.final);
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Window, title: `Fine-tune: predicting with ${run.id}…` },
    () => ctx.modelServer.predict(modelDir, input),
  );
  await showPredictionPeek(editor, range, result, `${run.id}/final`);
}

/**
 * `finetune serve` on a completed run's final model as a task in the terminal, on the port of
 * `finetune.serve.port` (the task's output is not readable here, so the port is chosen, not
 * discovered), its URL copied to the clipboard.
 */
export async function serveModel(ctx: Ctx, ...args: unknown[]): Promise<void> {
  if (!(await requireTrust('serve a model'))) return;
  const run = await pickRun(ctx, args, 'serve');
  if (!run) return;
  const settings = readSettings(vscode.Uri.file(run.dir));
  const port = settings.servePort;
  const modelDir = join(run.dir, RUN_FILES.final);
  const [cli, ...rest] = serveArgs(
    ctx.cliPath,
    modelDir,
    { device: settings.device, threads: settings.engineThreads },
    port,
    false,
  );
  const execution = new vscode.ShellExecution(process.execPath, [cli as string, ...rest], {
    env: { ELECTRON_RUN_AS_NODE: '1' },
  });
  const folder = configFolderOf(vscode.Uri.file(run.dir)) ?? vscode.TaskScope.Workspace;
  const task = new vscode.Task(
    { type: 'finetune-serve', model: modelDir, port },
    folder,
    `serve ${run.id}`,
    'Fine-tune',
    execution,
  );
  task.isBackground = true;
  task.presentationOptions = { reveal: vscode.TaskRevealKind.Always, panel: vscode.TaskPanelKind.Dedicated };
  await vscode.tasks.executeTask(task);
  const url = `http://127.0.0.1:${port}`;
  // A browser-hosted window may refuse the clipboard, or hold the write until the page has focus:
  // the notification does not wait long for it, and offers the copy again (a click may copy).
  const write = vscode.env.clipboard.writeText(url).then(
    () => true,
    (err: Error) => {
      ctx.log.warn(`Serve Model: could not copy ${url} to the clipboard: ${err.message}`);
      return false;
    },
  );
  const copied = await Promise.race([write, new Promise<false>((r) => setTimeout(() => r(false), CLIPBOARD_WAIT_MS))]);
  const choice = await vscode.window.showInformationMessage(
    `Fine-tune: serving ${run.id} at ${url}${copied ? ' (copied to the clipboard)' : ''}. Its log is in the terminal; stop it there.`,
    'Copy URL',
  );
  if (choice) await vscode.env.clipboard.writeText(url);
}
