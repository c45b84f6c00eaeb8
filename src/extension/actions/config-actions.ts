import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { parseConfigText, toValue } from '../../shared/config-tree.js';
import { orderConfigs } from '../configs/discovery.js';
import { CONFIG_TEMPLATES, type ConfigTemplate, writeTemplateFiles } from '../configs/templates.js';
import type { Ctx } from '../ctx.js';
import { CONFIG_FILE_RE, CONFIG_GLOB, type CommandId } from '../ids.js';
import { showRunPanelOnStart } from '../panel/run-panel.js';
import { outputDirOf } from '../runs/runs-root.js';
import { launcherTypeOf } from '../runs/slurm-jobs.js';
import { configFolderOf, localFolders, readSettings } from '../settings.js';
import { askConfigName, guidedConfig } from './guided-config.js';
import { requireTrust } from './trust.js';

/** Start Fine-tune, New Fine-tune Config and Validate Config. */

/** A config Uri from a command argument: a Uri (editor title, CodeLens, explorer) or nothing. */
export function configArg(arg: unknown): vscode.Uri | undefined {
  return arg instanceof vscode.Uri && CONFIG_FILE_RE.test(arg.path) ? arg : undefined;
}

/** The workspace's config files, the active editor's first; undefined when the user cancels. */
export async function pickConfig(placeHolder: string): Promise<vscode.Uri | undefined> {
  const found = await vscode.workspace.findFiles(CONFIG_GLOB, '**/node_modules/**', 500);
  const active = vscode.window.activeTextEditor?.document.uri;
  const open = vscode.window.tabGroups.all.flatMap((g) =>
    g.tabs.flatMap((t) => (t.input instanceof vscode.TabInputText ? [t.input.uri.fsPath] : [])),
  );
  const byPath = new Map(found.map((u) => [u.fsPath, u]));
  const ordered = orderConfigs([...byPath.keys()], { active: active?.fsPath, open });
  type Item = vscode.QuickPickItem & { uri?: vscode.Uri };
  const items: Item[] = ordered.map((p, i) => ({
    label: `$(file) ${basename(p)}`,
    description: vscode.workspace.asRelativePath(p, true),
    detail: i === 0 && p === active?.fsPath ? 'active editor' : undefined,
    uri: byPath.get(p),
  }));
  items.push({ label: '$(add) New Fine-tune Config…', alwaysShow: true });
  const picked = await vscode.window.showQuickPick(items, {
    title: 'Fine-tune',
    placeHolder: ordered.length > 0 ? placeHolder : 'No *.finetune.yaml / *.finetune.json in this workspace yet',
    matchOnDescription: true,
  });
  if (!picked) return undefined;
  return picked.uri ?? (await newConfig());
}

/** Returns the new run's folder (for the run panel and tests), or undefined when nothing started. */
export async function startRun(ctx: Ctx, arg?: unknown): Promise<string | undefined> {
  if (!(await requireTrust('start a fine-tune run'))) return;
  const uri = configArg(arg) ?? (await pickConfig('Select the config to fine-tune with'));
  if (!uri) return;
  const doc = await vscode.workspace.openTextDocument(uri);
  // The engine reads the file from disk: what the user sees is what must run.
  if (doc.isDirty && !(await doc.save()))
    throw new Error(`Could not save ${uri.fsPath}; the run would use the version on disk.`);
  const diagnostics = await ctx.diagnostics.validate(uri);
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    const first = errors[0];
    const where = first ? ` First, line ${first.range.start.line + 1}: ${first.message}` : '';
    const choice = await vscode.window.showErrorMessage(
      `${basename(uri.fsPath)} has ${errors.length} error${errors.length === 1 ? '' : 's'}; fix ${errors.length === 1 ? 'it' : 'them'} before starting a run (see the Problems panel).${where}`,
      'Show Problems',
    );
    if (choice) await vscode.commands.executeCommand('workbench.actions.view.problems');
    return;
  }
  const folder = configFolderOf(uri);
  if (!folder) throw new Error(`${uri.fsPath} is not in a workspace folder on disk: open its folder to keep its runs.`);
  // The run manager turns this into the runs folder with runsRootOf, as the run panel does.
  const outputDir = outputDirOf(doc.getText(), uri.path);
  const request = outputDir ? { configPath: uri.fsPath, folder, outputDir } : { configPath: uri.fsPath, folder };
  const where = await askWhere(doc.getText(), uri);
  if (!where) return;
  if (where === 'slurm') {
    try {
      return await ctx.runs.submit(request);
    } catch (err) {
      // sbatch's own words and the launcher line that caused them, as the CLI prints them.
      void vscode.window.showErrorMessage(`Fine-tune: Slurm refused the job. ${(err as Error).message}`, {
        modal: true,
      });
      return;
    }
  }
  const runDir = await ctx.runs.start(request);
  ctx.outputs.open(runDir, false);
  ctx.notifications.track(runDir);
  // The live curves in view without another click (finetune.openPanelOnStart turns it off).
  if (readSettings(uri).openPanelOnStart) showRunPanelOnStart(ctx.extensionContext, uri, runDir);
  return runDir;
}

/** With a launcher: block, "here or on Slurm"; without one, here. Undefined when the user cancels. */
async function askWhere(text: string, uri: vscode.Uri): Promise<'here' | 'slurm' | undefined> {
  if (launcherTypeOf(text, uri.path) !== 'slurm') return 'here';
  const picked = await vscode.window.showQuickPick(
    [
      { label: '$(play) Here', detail: 'Train on this machine, in the background.', where: 'here' as const },
      {
        label: '$(server-environment) On Slurm',
        detail: "Submit a job with the config's launcher: block (sbatch); the run is followed like any other.",
        where: 'slurm' as const,
      },
    ],
    { title: `Start Fine-tune: ${basename(uri.fsPath)}`, placeHolder: 'Where should the run train?' },
  );
  return picked?.where;
}

/** Creates a config from a task template in a workspace folder and opens it. */
const TRAIN_TOKENIZER_COMMAND: CommandId = 'finetune.trainTokenizer';

export async function newConfig(): Promise<vscode.Uri | undefined> {
  type Choice = vscode.QuickPickItem & { template?: ConfigTemplate; guided?: true };
  const choice = await vscode.window.showQuickPick<Choice>(
    [
      {
        label: '$(sparkle) From a model and your data',
        detail: 'Pick a model and a JSONL/CSV/TSV file; the task and columns are detected from its rows',
        guided: true,
      },
      { label: 'Templates', kind: vscode.QuickPickItemKind.Separator },
      ...CONFIG_TEMPLATES.map((t) => ({ label: t.label, detail: t.detail, template: t })),
      // Not a config: a vocabulary for a model trained from scratch, made by its own command.
      {
        label: 'Train a tokenizer',
        detail: 'A vocabulary of your own from a text corpus, for a model trained from scratch (no config file)',
      },
    ],
    { title: 'New Fine-tune Config', placeHolder: 'What should the model learn?' },
  );
  if (!choice) return undefined;
  if (!choice.template && !choice.guided) {
    await vscode.commands.executeCommand(TRAIN_TOKENIZER_COMMAND);
    return undefined;
  }
  const folders = localFolders();
  const folder =
    folders.length <= 1
      ? folders[0]
      : await vscode.window.showWorkspaceFolderPick({ placeHolder: 'Where should the config go?' });
  if (!folder) {
    if (folders.length === 0) void vscode.window.showErrorMessage('Open a folder first: configs and runs live in it.');
    return undefined;
  }
  const chosen = choice.template;
  if (!chosen)
    return guidedConfig(
      folder,
      folders.map((f) => f.uri.fsPath),
    );
  const name = await askConfigName(folder.name, chosen.fileName, (n) => existsSync(join(folder.uri.fsPath, n)));
  if (!name) return undefined;
  const path = join(folder.uri.fsPath, name);
  const text = name.endsWith('.json') ? yamlTemplateAsJson(chosen.yaml) : chosen.yaml;
  await writeFile(path, text, { flag: 'wx' });
  await writeTemplateFiles(chosen, dirname(path));
  const uri = vscode.Uri.file(path);
  await vscode.window.showTextDocument(uri);
  return uri;
}

/** The same template as JSON (the comments are lost: JSON has none). */
function yamlTemplateAsJson(yamlText: string): string {
  return `${JSON.stringify(toValue(parseConfigText(yamlText, 'yaml').root), null, 2)}\n`;
}

export async function validateConfig(ctx: Ctx, arg?: unknown): Promise<void> {
  const uri =
    configArg(arg) ??
    configArg(vscode.window.activeTextEditor?.document.uri) ??
    (await pickConfig('Select the config to validate'));
  if (!uri) return;
  const diagnostics = await ctx.diagnostics.validate(uri);
  const count = (s: string) => diagnostics.filter((d) => d.severity === s).length;
  const name = basename(uri.fsPath);
  if (diagnostics.length === 0) {
    void vscode.window.showInformationMessage(`${name}: no problems found.`);
    return;
  }
  const summary = `${name}: ${count('error')} error(s), ${count('warning')} warning(s), ${count('info') + count('hint')} suggestion(s).`;
  const show = count('error') > 0 ? vscode.window.showErrorMessage : vscode.window.showWarningMessage;
  if (await show(summary, 'Show Problems')) await vscode.commands.executeCommand('workbench.actions.view.problems');
}
