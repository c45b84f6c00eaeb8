import { existsSync } from 'node:fs';
import { extname, isAbsolute, join } from 'node:path';
import * as vscode from 'vscode';
import { TOKENIZER_TYPE_DETAILS, TOKENIZER_TYPES } from '../../shared/tokenizer-types.js';
import type { Ctx } from '../ctx.js';
import { tokenizerTrainArgs } from '../runs/engine-process.js';
import { localFolders } from '../settings.js';
import { reportEngineCommand, runEngineCommand } from './engine-command.js';
import { requireTrust } from './trust.js';

const TITLE = 'Fine-tune: Train Tokenizer';
const JSON_LINES = new Set(['.jsonl', '.json', '.ndjson']);

/** A whole number of at least `min`, or the message saying what is wrong. */
function checkSize(value: string, min: number): string | undefined {
  const n = Number(value);
  return value.trim() !== '' && Number.isInteger(n) && n >= min ? undefined : `A whole number of at least ${min}.`;
}

/**
 * Train Tokenizer: asks for the corpus files, the type, the vocabulary size (and the text column
 * of JSON lines, and lowercasing), then runs `finetune tokenizer train` into a folder of the
 * workspace, which a model folder's tokenizer can then be copied from.
 */
export async function trainTokenizer(ctx: Ctx): Promise<void> {
  if (!(await requireTrust('train a tokenizer'))) return;
  const folder = localFolders()[0];
  if (!folder) {
    void vscode.window.showErrorMessage('Open a folder first: the tokenizer is written into it.');
    return;
  }
  const inputs = await vscode.window.showOpenDialog({
    title: `${TITLE}: the corpus (JSON lines or text files)`,
    canSelectFiles: true,
    canSelectFolders: false,
    canSelectMany: true,
    openLabel: 'Train on These',
    defaultUri: folder.uri,
    filters: { 'Text corpus': ['jsonl', 'json', 'ndjson', 'txt', 'text'], 'All files': ['*'] },
  });
  if (!inputs || inputs.length === 0) return;
  const type = await vscode.window.showQuickPick(
    TOKENIZER_TYPES.map((t) => ({ label: t, detail: TOKENIZER_TYPE_DETAILS[t], type: t })),
    { title: TITLE, placeHolder: 'Tokenizer type' },
  );
  if (!type) return;
  const size = await vscode.window.showInputBox({
    title: TITLE,
    prompt: 'Vocabulary size, special tokens included',
    value: '8000',
    validateInput: (v) => checkSize(v, 10),
  });
  if (!size) return;
  const files = inputs.map((u) => u.fsPath);
  let textColumn: string | undefined;
  if (files.some((f) => JSON_LINES.has(extname(f).toLowerCase()))) {
    textColumn = await vscode.window.showInputBox({
      title: TITLE,
      prompt: 'The text column of the JSON lines',
      value: 'text',
      validateInput: (v) => (v.trim() === '' ? 'A column name.' : undefined),
    });
    if (!textColumn) return;
  }
  const casing = await vscode.window.showQuickPick(
    [
      { label: 'Keep case', detail: 'For cased models and text where case matters', lowercase: false },
      { label: 'Lowercase', detail: 'An uncased vocabulary (as bert-base-uncased)', lowercase: true },
    ],
    { title: TITLE, placeHolder: 'Case' },
  );
  if (!casing) return;
  const name = await vscode.window.showInputBox({
    title: TITLE,
    prompt: `Output folder, relative to ${folder.name}`,
    value: `tokenizer-${type.type}`,
    validateInput: (v) => {
      if (v.trim() === '') return 'A folder name.';
      return existsSync(isAbsolute(v) ? v : join(folder.uri.fsPath, v)) ? `${v} already exists.` : undefined;
    },
  });
  if (!name) return;
  const out = isAbsolute(name) ? name : join(folder.uri.fsPath, name);
  const code = await runEngineCommand(ctx, {
    args: tokenizerTrainArgs(ctx.cliPath, {
      type: type.type,
      vocabSize: Number(size),
      inputs: files,
      textColumn,
      lowercase: casing.lowercase,
      out,
    }),
    cwd: folder.uri.fsPath,
    title: `Training a ${type.type} tokenizer`,
    tag: 'tokenizer',
  });
  await reportEngineCommand(
    ctx,
    code,
    `Trained a ${type.type} tokenizer into ${out}.`,
    'Training the tokenizer failed',
    out,
  );
}
