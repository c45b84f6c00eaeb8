import { freemem } from 'node:os';
import { basename, dirname } from 'node:path';
import * as vscode from 'vscode';
import type { ConfigFormat } from '../../shared/config-tree.js';
import { costWarnings } from '../../shared/cost-estimate.js';
import { type ConfigCost, configCost } from '../../shared/node/config-cost.js';
import type { Ctx } from '../ctx.js';
import { estimateArgs } from '../runs/engine-process.js';
import { readSettings } from '../settings.js';
import { refreshCostLenses } from '../validation/cost-lens.js';
import { configArg } from './config-arg.js';
import { runEngineCommand } from './engine-command.js';
import { requireTrust } from './trust.js';

/**
 * Measure Step Time and Memory (the cost CodeLens's command): `finetune estimate` on the config,
 * which records one timed training step in the cache the CodeLens reads; and the Start
 * confirmation's check of the same figures.
 */

const formatOf = (uri: vscode.Uri): ConfigFormat => (uri.path.toLowerCase().endsWith('.json') ? 'json' : 'yaml');

/** The cost of a config as the engine would run it with the current settings. */
export function costOf(uri: vscode.Uri, text: string): Promise<ConfigCost | undefined> {
  const s = readSettings(uri);
  return configCost(text, formatOf(uri), uri.fsPath, { threads: s.engineThreads, device: s.device });
}

export async function measureCost(ctx: Ctx, arg?: unknown): Promise<void> {
  if (!(await requireTrust('measure a training step'))) return;
  const uri = configArg(arg) ?? configArg(vscode.window.activeTextEditor?.document.uri);
  if (!uri) {
    void vscode.window.showErrorMessage(
      'Open a *.finetune.yaml or *.finetune.json config to measure its training step.',
    );
    return;
  }
  const doc = await vscode.workspace.openTextDocument(uri);
  if (doc.isDirty && !(await doc.save()))
    throw new Error(`Could not save ${uri.fsPath}; the measurement would use the version on disk.`);
  const s = readSettings(uri);
  const code = await runEngineCommand(ctx, {
    args: estimateArgs(ctx.cliPath, uri.fsPath, { device: s.device, threads: s.engineThreads }),
    cwd: dirname(uri.fsPath),
    title: `Measuring one training step of ${basename(uri.fsPath)}`,
    tag: 'estimate',
  });
  refreshCostLenses();
  if (code === 0) return;
  const choice = await vscode.window.showErrorMessage(
    `Measuring ${basename(uri.fsPath)} failed (${typeof code === 'number' ? `exit code ${code}` : code}).`,
    'Show Log',
  );
  if (choice) ctx.log.show(true);
}

/**
 * Before a run starts: a modal warning when it needs more memory than is free or takes over an
 * hour. True to go on (no warning, or Start Anyway).
 */
export async function confirmCost(uri: vscode.Uri, text: string): Promise<boolean> {
  const cost = await costOf(uri, text).catch(() => undefined);
  const reasons = cost ? costWarnings(cost.summary, freemem()) : [];
  if (reasons.length === 0) return true;
  const measured = cost?.record ? 'measured' : 'estimated';
  const choice = await vscode.window.showWarningMessage(
    `${basename(uri.fsPath)}: ${reasons.join('; ')} (${measured}).`,
    {
      modal: true,
      detail:
        'Lower training.batch_size or data.max_length, use training.method: lora, or train fewer epochs; or start anyway.',
    },
    'Start Anyway',
  );
  return choice === 'Start Anyway';
}
