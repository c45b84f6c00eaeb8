import { basename, dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { DATA_REPORT_FILE, type DataReport } from '../../shared/data-report.js';
import { parseDataReport } from '../../shared/data-report-check.js';
import type { DataReportRequest, OpenDataRowRequest } from '../../shared/messages.js';
import { readRunFile } from '../runs/run-reader.js';
import { runCli } from '../runs/slurm-jobs.js';
import { resolveDataRow } from './data-rows.js';

/**
 * The run panel's Data tab, host side (src/shared/messages.ts, "Data"): a run's data-report.json
 * read and checked, a config's report computed by `finetune data stats <config> --format json`
 * (before any run), and rows opened in the editor at their line.
 */
export interface PanelDataDeps {
  cliPath: string;
  configUri: vscode.Uri | undefined;
  /** The folder of a run the panel shows; throws for an unknown run. */
  runDir(runId: string): string;
}

/** A run's data report, or an error saying why there is none to show. */
export async function runDataReport(runDir: string): Promise<DataReport> {
  const file = join(runDir, DATA_REPORT_FILE);
  let text: string;
  try {
    text = await readRunFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new Error(
        `Run ${basename(runDir)} has no ${DATA_REPORT_FILE} yet: the engine writes it once the data is prepared.`,
      );
    throw new Error(`Could not read ${file}: ${(err as Error).message}.`);
  }
  const report = parseDataReport(text, file);
  if (typeof report === 'string') throw new Error(report);
  return report;
}

/** The config's report as training would prepare the data now, from the engine. */
export async function configDataReport(cliPath: string, configUri: vscode.Uri): Promise<DataReport> {
  if (configUri.scheme !== 'file')
    throw new Error(`The engine reads files on disk; ${configUri.toString()} is not one.`);
  if (!vscode.workspace.isTrusted)
    throw new Error(
      'The data report runs the engine, which an untrusted workspace does not allow: trust the workspace first.',
    );
  const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === configUri.toString());
  // The engine reads the file from disk: the report must be of what the user sees.
  if (doc?.isDirty && !(await doc.save()))
    throw new Error(`Could not save ${configUri.fsPath}; the report would be of the version on disk.`);
  const config = configUri.fsPath;
  const r = await runCli([cliPath], ['data', 'stats', config, '--format', 'json'], dirname(config));
  if (r.code !== 0) {
    const why = r.stderr.trim().split('\n').at(-1) ?? '';
    throw new Error(why.replace(/^finetune data: /, '') || `finetune data stats exited with ${r.code ?? 'a signal'}.`);
  }
  const report = parseDataReport(r.stdout, `the report of finetune data stats ${basename(config)}`);
  if (typeof report === 'string') throw new Error(report);
  return report;
}

export async function panelDataReport(deps: PanelDataDeps, request: DataReportRequest): Promise<DataReport> {
  if (request.runId !== undefined) return runDataReport(deps.runDir(request.runId));
  if (!deps.configUri) throw new Error('This panel has no config file to compute a data report from.');
  return configDataReport(deps.cliPath, deps.configUri);
}

/** Opens the row's file beside the panel, its line selected and in view. */
export async function openDataRow(deps: PanelDataDeps, request: OpenDataRowRequest): Promise<void> {
  const runDir = request.runId === undefined ? undefined : deps.runDir(request.runId);
  const configDir = deps.configUri?.scheme === 'file' ? dirname(deps.configUri.fsPath) : undefined;
  const base = runDir ?? configDir;
  if (base === undefined) throw new Error('This panel has neither a run nor a config file to open data rows of.');
  const workspace = (vscode.workspace.workspaceFolders ?? [])
    .filter((f) => f.uri.scheme === 'file')
    .map((f) => f.uri.fsPath);
  const place = await resolveDataRow(request.file, request.line, { base, workspace, ...(runDir ? { runDir } : {}) });
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(place.path));
  const line = Math.min(place.line, doc.lineCount) - 1;
  const at = new vscode.Range(line, 0, line, doc.lineAt(line).text.length);
  await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, selection: at, preview: true });
}
