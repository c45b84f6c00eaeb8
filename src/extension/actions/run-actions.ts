import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { RUN_FILES } from '../../shared/run-directory.js';
import type { Ctx } from '../ctx.js';
import { showRunPanel } from '../panel/run-panel.js';
import { describeRun } from '../runs/progress.js';
import type { RunSnapshot } from '../runs/run-reader.js';
import { allows, type RunAction } from '../runs/run-state.js';
import { requireTrust } from './trust.js';

/**
 * Commands on runs: stop, resume, delete, show log, open, compare, open config. Each takes the
 * run from its arguments (a Runs view item, a run folder path or Uri) or asks with a quick pick
 * of the runs the action applies to.
 */

/** Run folders named by command arguments; the view passes (clicked item, selected items). */
export function runDirsOf(args: readonly unknown[]): string[] {
  const dirs: string[] = [];
  const visit = (a: unknown) => {
    if (Array.isArray(a)) a.forEach(visit);
    else if (a instanceof vscode.Uri) dirs.push(a.fsPath);
    else if (typeof a === 'string') dirs.push(a);
    else if (
      a !== null &&
      typeof a === 'object' &&
      'kind' in a &&
      (a as { kind: unknown }).kind === 'run' &&
      'dir' in a
    )
      dirs.push(String((a as { dir: unknown }).dir));
  };
  args.forEach(visit);
  return [...new Set(dirs)];
}

const VERBS: Readonly<Record<RunAction, string>> = {
  stop: 'stopped',
  resume: 'resumed',
  delete: 'deleted',
  export: 'exported',
  serve: 'served',
  open: 'opened',
  log: 'shown',
  compare: 'compared',
};

/** The run an action applies to: from the arguments, or picked among the runs that allow it. */
export async function pickRun(ctx: Ctx, args: readonly unknown[], action: RunAction): Promise<RunSnapshot | undefined> {
  const named = runDirsOf(args)[0];
  if (named !== undefined) {
    const run = ctx.runs.get(named);
    if (!run) throw new Error(`No run at ${named} (it was deleted, or it is outside the runs folders).`);
    return run;
  }
  const candidates = ctx.runs.list().filter((r) => allows(r.state, action));
  if (candidates.length === 0) {
    void vscode.window.showInformationMessage(`Fine-tune: no run can be ${VERBS[action]} now.`);
    return undefined;
  }
  // One candidate is an obvious choice, except for deletion, which asks anyway (modal below).
  if (candidates.length === 1 && action !== 'delete') return candidates[0];
  const picked = await vscode.window.showQuickPick(
    candidates.map((run) => ({ label: run.id, description: describeRun(run), run })),
    { title: `Fine-tune: select the run to be ${VERBS[action]}`, matchOnDescription: true },
  );
  return picked?.run;
}

export async function stopRun(ctx: Ctx, ...args: unknown[]): Promise<void> {
  const run = await pickRun(ctx, args, 'stop');
  if (!run) return;
  if (!allows(run.state, 'stop')) throw new Error(`Run ${run.id} is ${run.state}: there is nothing to stop.`);
  await ctx.runs.stop(run.dir);
  vscode.window.setStatusBarMessage(`$(debug-stop) Fine-tune: stopping ${run.id} at the next step…`, 5000);
}

export async function resumeRun(ctx: Ctx, ...args: unknown[]): Promise<void> {
  if (!(await requireTrust('resume a run'))) return;
  const run = await pickRun(ctx, args, 'resume');
  if (!run) return;
  await ctx.runs.resume(run.dir);
  ctx.outputs.open(run.dir, false);
  ctx.notifications.track(run.dir);
}

export async function deleteRun(ctx: Ctx, ...args: unknown[]): Promise<void> {
  const named = runDirsOf(args);
  const runs = named.length > 1 ? named.flatMap((d) => ctx.runs.get(d) ?? []) : [await pickRun(ctx, args, 'delete')];
  const targets = runs.filter((r): r is RunSnapshot => r !== undefined);
  if (targets.length === 0) return;
  const busy = targets.find((r) => !allows(r.state, 'delete'));
  if (busy) throw new Error(`Run ${busy.id} is ${busy.state}: stop it before deleting it.`);
  const what = targets.length === 1 ? `run ${targets[0]?.id}` : `${targets.length} runs`;
  const choice = await vscode.window.showWarningMessage(
    `Delete ${what}?`,
    {
      modal: true,
      detail: 'Its folder is deleted with its checkpoints, logs and exported model. This cannot be undone.',
    },
    'Delete',
  );
  if (choice !== 'Delete') return;
  for (const run of targets) await ctx.runs.delete(run.dir);
}

export async function showEngineLog(ctx: Ctx, ...args: unknown[]): Promise<void> {
  const run = await pickRun(ctx, args, 'log');
  if (run) ctx.outputs.open(run.dir, true);
}

/** The run panel (src/extension/panel): charts, logs and metrics of one run, or several side by side. */
function showRuns(ctx: Ctx, dirs: string[]): void {
  showRunPanel(ctx.extensionContext, { runDirs: dirs });
}

export async function openRun(ctx: Ctx, ...args: unknown[]): Promise<void> {
  const run = await pickRun(ctx, args, 'open');
  if (run) showRuns(ctx, [run.dir]);
}

export async function compareRuns(ctx: Ctx, ...args: unknown[]): Promise<void> {
  let dirs = runDirsOf(args);
  if (dirs.length < 2) {
    const candidates = ctx.runs.list().filter((r) => allows(r.state, 'compare'));
    if (candidates.length < 2) {
      void vscode.window.showInformationMessage('Fine-tune: comparing needs at least two runs that have started.');
      return;
    }
    const picked = await vscode.window.showQuickPick(
      candidates.map((run) => ({ label: run.id, description: describeRun(run), picked: dirs.includes(run.dir), run })),
      { title: 'Fine-tune: select the runs to compare', canPickMany: true, matchOnDescription: true },
    );
    if (!picked) return;
    if (picked.length < 2) {
      void vscode.window.showInformationMessage('Fine-tune: select at least two runs to compare.');
      return;
    }
    dirs = picked.map((p) => p.run.dir);
  }
  showRuns(ctx, dirs);
}

/** The config file a run came from, or, when unknown or gone, the resolved copy in the run folder. */
export async function openRunConfig(ctx: Ctx, dir: string): Promise<void> {
  const source = ctx.runs.sourceConfig(dir);
  const path = source && existsSync(source) ? source : join(dir, RUN_FILES.config);
  if (!existsSync(path))
    throw new Error(`Run ${dir} has no ${RUN_FILES.config}, and the config it came from is unknown.`);
  await vscode.window.showTextDocument(vscode.Uri.file(path));
}
