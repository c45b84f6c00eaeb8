import * as vscode from 'vscode';
import { CONFIG_FILE_RE } from '../ids.js';

/** A config Uri from a command argument: a Uri (editor title, CodeLens, explorer) or nothing. */
export function configArg(arg: unknown): vscode.Uri | undefined {
  return arg instanceof vscode.Uri && CONFIG_FILE_RE.test(arg.path) ? arg : undefined;
}
