import { existsSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { Ctx } from '../ctx.js';
import { EXAMPLE_CONFIG, EXAMPLE_FOLDER } from '../ids.js';
import { localFolders } from '../settings.js';

/**
 * Open Example Project (the walkthrough's first step): copies the bundled example (a tiny BERT,
 * its tokenizer, a sentiment dataset and its config; examples/sentiment, shipped in the package)
 * into the workspace as `sentiment-example/`, then opens its config. A copy already there is
 * opened as it is: the user's edits are never overwritten.
 */
export async function openExample(ctx: Ctx): Promise<vscode.Uri | undefined> {
  const folder = localFolders()[0];
  if (!folder)
    throw new Error('Open a folder first: the example is copied into the workspace, where its runs are written.');
  const target = join(folder.uri.fsPath, EXAMPLE_FOLDER);
  if (!existsSync(target)) {
    const source = ctx.extensionContext.asAbsolutePath(join('examples', 'sentiment'));
    if (!existsSync(join(source, EXAMPLE_CONFIG)))
      throw new Error(`The bundled example is missing from this installation (${source}).`);
    // Runs of the example made inside the extension's folder stay behind.
    await cp(source, target, { recursive: true, filter: (src) => !src.startsWith(join(source, '.finetune')) });
  }
  const config = vscode.Uri.file(join(target, EXAMPLE_CONFIG));
  await vscode.window.showTextDocument(config);
  return config;
}
