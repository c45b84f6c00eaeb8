import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { RUN_FILES } from '../../shared/run-directory.js';
import { configFromRun, pretrainingTaskOf } from '../configs/from-run.js';
import type { Ctx } from '../ctx.js';
import { describeRun } from '../runs/progress.js';
import { readRunConfig } from '../runs/run-reader.js';
import { runDirsOf } from './run-actions.js';

/**
 * Fine-tune from This Run: on a completed pre-training run (Runs view item, or picked among them),
 * writes a config beside the one the run came from (else in the run's workspace folder) whose
 * `model:` is the run's final/, and opens it for the user to fill in the data placeholders.
 * Returns the new config (for tests), or undefined when nothing was written.
 */
export async function fineTuneFromRun(ctx: Ctx, ...args: unknown[]): Promise<vscode.Uri | undefined> {
  const named = runDirsOf(args)[0];
  let dir = named;
  if (dir === undefined) {
    const candidates = ctx.runs.list().filter((r) => r.state === 'completed' && r.pretraining);
    if (candidates.length === 0) {
      void vscode.window.showInformationMessage(
        'Fine-tune: no completed pre-training run (task masked-lm, or causal-lm on plain text) to fine-tune from.',
      );
      return undefined;
    }
    const picked =
      candidates.length === 1
        ? candidates[0]
        : (
            await vscode.window.showQuickPick(
              candidates.map((run) => ({ label: run.id, description: describeRun(run), run })),
              { title: 'Fine-tune: select the pre-training run to fine-tune from', matchOnDescription: true },
            )
          )?.run;
    dir = picked?.dir;
  }
  if (dir === undefined) return undefined;
  const run = ctx.runs.get(dir);
  if (!run) throw new Error(`No run at ${dir} (it was deleted, or it is outside the runs folders).`);
  if (run.state !== 'completed')
    throw new Error(`Run ${run.id} is ${run.state}: only a completed run has a final model to fine-tune from.`);
  const config = await readRunConfig(run.dir);
  if (!config) throw new Error(`Run ${run.id} has no readable ${RUN_FILES.config}.`);
  if (!pretrainingTaskOf(config))
    throw new Error(
      `Run ${run.id} is a ${String(config.task)} run, not pre-training (task masked-lm, or causal-lm on plain text).`,
    );
  if (!existsSync(join(run.dir, RUN_FILES.final))) throw new Error(`Run ${run.id} has no ${RUN_FILES.final}/ folder.`);

  const source = ctx.runs.sourceConfig(run.dir);
  const known = source !== undefined && existsSync(source) ? source : undefined;
  const folder = known ? dirname(known) : vscode.workspace.getWorkspaceFolder(vscode.Uri.file(run.dir))?.uri.fsPath;
  if (!folder) throw new Error(`Run ${run.id} is outside the workspace folders: open its folder first.`);
  const { path, text } = configFromRun(run.dir, run.id, config, folder, known);
  await writeFile(path, text, { flag: 'wx' });
  const uri = vscode.Uri.file(path);
  await vscode.window.showTextDocument(uri);
  return uri;
}
