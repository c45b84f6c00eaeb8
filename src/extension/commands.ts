import * as vscode from 'vscode';
import { newConfig, startRun, validateConfig } from './actions/config-actions.js';
import { showDataReportOf } from './actions/data-report.js';
import { exportModel } from './actions/export-model.js';
import { fineTuneFromRun } from './actions/fine-tune-from-run.js';
import { openExample } from './actions/open-example.js';
import { compareRuns, deleteRun, openRun, resumeRun, showEngineLog, stopRun } from './actions/run-actions.js';
import { openSweep } from './actions/sweep-actions.js';
import { trainTokenizer } from './actions/train-tokenizer.js';
import { predictOnSelection, serveModel } from './actions/try-model.js';
import type { Ctx } from './ctx.js';
import { COMMAND_IDS, type CommandId } from './ids.js';
import type { IDisposable } from './lifecycle.js';

/**
 * Every command, as ONE table of id -> factory(ctx), as in rust-analyzer's editors/code. The
 * table's type is keyed by CommandId, so a command contributed in package.json (ids.ts lists
 * them; a test checks the two agree) cannot be left without an implementation.
 */
type Command = (...args: unknown[]) => unknown;
type CommandFactory = (ctx: Ctx) => Command;

export const COMMANDS: Readonly<Record<CommandId, CommandFactory>> = {
  'finetune.startRun': (ctx) => (arg) => startRun(ctx, arg),
  'finetune.newConfig': () => () => newConfig(),
  'finetune.validateConfig': (ctx) => (arg) => validateConfig(ctx, arg),
  'finetune.stopRun':
    (ctx) =>
    (...args) =>
      stopRun(ctx, ...args),
  'finetune.resumeRun':
    (ctx) =>
    (...args) =>
      resumeRun(ctx, ...args),
  'finetune.openRun':
    (ctx) =>
    (...args) =>
      openRun(ctx, ...args),
  'finetune.openSweep':
    (ctx) =>
    (...args) =>
      openSweep(ctx, ...args),
  'finetune.compareRuns':
    (ctx) =>
    (...args) =>
      compareRuns(ctx, ...args),
  'finetune.deleteRun':
    (ctx) =>
    (...args) =>
      deleteRun(ctx, ...args),
  'finetune.exportModel':
    (ctx) =>
    (...args) =>
      exportModel(ctx, ...args),
  'finetune.trainTokenizer': (ctx) => () => trainTokenizer(ctx),
  'finetune.showEngineLog':
    (ctx) =>
    (...args) =>
      showEngineLog(ctx, ...args),
  'finetune.refreshRuns': (ctx) => () => ctx.runs.refresh().then(() => ctx.tree.refresh()),
  'finetune.predictOnSelection': (ctx) => () => predictOnSelection(ctx),
  'finetune.serveModel':
    (ctx) =>
    (...args) =>
      serveModel(ctx, ...args),
  'finetune.fineTuneFromRun':
    (ctx) =>
    (...args) =>
      fineTuneFromRun(ctx, ...args),
  'finetune.openExample': (ctx) => () => openExample(ctx),
  'finetune.showDataReport': (ctx) => (arg) => showDataReportOf(ctx, arg),
};

/** Registers the table; a command that throws shows its message instead of failing silently. */
export function registerCommands(ctx: Ctx): IDisposable[] {
  return COMMAND_IDS.map((id) => {
    const run = COMMANDS[id](ctx);
    return vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await run(...args);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        ctx.log.error(`${id}: ${err instanceof Error ? (err.stack ?? message) : message}`);
        void vscode.window.showErrorMessage(`Fine-tune: ${message}`);
        return undefined;
      }
    });
  });
}
