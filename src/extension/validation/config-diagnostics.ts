import { existsSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { type FSWatcher, watch } from 'chokidar';
import * as vscode from 'vscode';
import { type Diagnostic, type Fix, formatOf, type Range } from '../../shared/config-validate.js';
import { isConfigFile } from '../configs/discovery.js';
import { CONTEXT_KEYS } from '../ids.js';
import { Disposable } from '../lifecycle.js';
import { readConfigFile } from './config-fs.js';
import type { ConfigValidator } from './worker-client.js';

/**
 * Inline validation of config files: the shared validator (src/shared/config-validate.ts, the
 * same code as `finetune validate`) run on open, on edit (debounced), and when a file the config
 * refers to changes on disk (the model folder, the data files: chokidar, since they may lie
 * outside the workspace where VS Code's own watcher does not look). It runs in the validation
 * worker (worker-client.ts), off the extension host's thread. Pure reading: it also runs in
 * untrusted workspaces.
 */
const EDIT_DELAY_MS = 300;
export const DIAGNOSTIC_SOURCE = 'finetune';

const SEVERITY: Readonly<Record<Diagnostic['severity'], vscode.DiagnosticSeverity>> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
  hint: vscode.DiagnosticSeverity.Hint,
};

export function toRange(r: Range): vscode.Range {
  return new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character);
}

export class ConfigDiagnostics extends Disposable {
  private readonly collection = this._register(vscode.languages.createDiagnosticCollection(DIAGNOSTIC_SOURCE));
  private readonly results = new Map<string, Diagnostic[]>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Config (uri string) -> absolute paths its file checks read. */
  private readonly dependencies = new Map<string, Set<string>>();
  private readonly watchedDirs = new Set<string>();
  private watcher: FSWatcher | undefined;
  /** Bumped per validation, so a slow file check never overwrites a newer result. */
  private readonly generation = new Map<string, number>();

  constructor(
    private readonly validator: ConfigValidator,
    private readonly log: vscode.LogOutputChannel,
  ) {
    super();
    const ws = vscode.workspace;
    this._register(ws.onDidOpenTextDocument((doc) => this.schedule(doc.uri, 0)));
    this._register(ws.onDidChangeTextDocument((e) => this.schedule(e.document.uri, EDIT_DELAY_MS)));
    // Back to what is on disk: the unsaved text the diagnostics described is gone.
    this._register(ws.onDidCloseTextDocument((doc) => this.schedule(doc.uri, 0)));
    this._register(
      ws.onDidDeleteFiles((e) => {
        for (const uri of e.files) this.forget(uri);
      }),
    );
    this._register(
      ws.onDidRenameFiles((e) => {
        for (const { oldUri, newUri } of e.files) {
          this.forget(oldUri);
          this.schedule(newUri, 0);
        }
      }),
    );
    this._register({
      dispose: () => {
        for (const timer of this.timers.values()) clearTimeout(timer);
        void this.watcher?.close();
      },
    });
    for (const doc of ws.textDocuments) this.schedule(doc.uri, 0);
    this._register(vscode.window.onDidChangeActiveTextEditor(() => this.updateValidContext()));
  }

  /**
   * `finetune.activeConfigValid`: the active editor's config was validated with no error (the
   * walkthrough's Validate step completes on it). False until its first validation has answered.
   */
  private updateValidContext(): void {
    const active = vscode.window.activeTextEditor?.document.uri.toString();
    const results = active === undefined ? undefined : this.results.get(active);
    const valid = results !== undefined && !results.some((d) => d.severity === 'error');
    void vscode.commands.executeCommand('setContext', CONTEXT_KEYS.activeConfigValid, valid);
  }

  /** Validates a config now (open text, else the file on disk) and returns the diagnostics. */
  async validate(uri: vscode.Uri): Promise<Diagnostic[]> {
    const key = uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    const gen = (this.generation.get(key) ?? 0) + 1;
    this.generation.set(key, gen);
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === key);
    // A file on disk is read only when it is within the config size limit.
    const read = open ? { text: open.getText() } : uri.scheme === 'file' ? await readConfigFile(uri.fsPath) : undefined;
    if (!read) {
      this.forget(uri);
      return [];
    }
    let diagnostics: Diagnostic[];
    let touched: readonly string[] = [];
    if ('tooLarge' in read) diagnostics = [read.tooLarge];
    else {
      const configDir = uri.scheme === 'file' ? dirname(uri.fsPath) : undefined;
      const job = { key, version: gen, text: read.text, format: formatOf(uri.path) };
      const outcome = await this.validator.validate(configDir === undefined ? job : { ...job, configDir });
      ({ diagnostics, touched } = outcome);
    }
    // A newer validation of this config has started (and its answer may be this one): it sets the results.
    if (this.generation.get(key) !== gen) return diagnostics;
    this.results.set(key, diagnostics);
    this.collection.set(uri, diagnostics.map(toVscodeDiagnostic));
    this.setDependencies(key, new Set(touched));
    this.updateValidContext();
    return diagnostics;
  }

  /** The quick fixes of the diagnostic at this range with this code, from the last validation. */
  fixesFor(uri: vscode.Uri, diagnostic: vscode.Diagnostic): Fix[] {
    const code = typeof diagnostic.code === 'object' ? diagnostic.code.value : diagnostic.code;
    const found = this.results
      .get(uri.toString())
      ?.find((d) => d.code === code && d.message === diagnostic.message && toRange(d.range).isEqual(diagnostic.range));
    return found?.fixes ?? [];
  }

  /** Validates a config soon: `delay` coalesces bursts (typing, a data file being written). */
  revalidate(uri: vscode.Uri, delay = 0): void {
    this.schedule(uri, delay);
  }

  private schedule(uri: vscode.Uri, delay: number): void {
    // Only files on disk: not the git: or diff copies of a config that editors also open.
    if (uri.scheme !== 'file' || !isConfigFile(uri.path)) return;
    const key = uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        this.validate(uri).catch((err: unknown) => {
          if (!this.isDisposed) this.log.error(`Validating ${uri.fsPath}: ${String(err)}`);
        });
      }, delay),
    );
  }

  private forget(uri: vscode.Uri): void {
    const key = uri.toString();
    this.collection.delete(uri);
    this.results.delete(key);
    this.updateValidContext();
    this.setDependencies(key, new Set());
  }

  /** Watches the folders holding the paths a config refers to; only those paths trigger re-validation. */
  private setDependencies(key: string, paths: ReadonlySet<string>): void {
    if (paths.size === 0) this.dependencies.delete(key);
    else this.dependencies.set(key, new Set(paths));
    const dirs = new Set<string>();
    for (const set of this.dependencies.values())
      for (const p of set) {
        // A folder that does not exist yet cannot be watched: its nearest existing parent can.
        let dir = dirname(p);
        while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
        dirs.add(dir);
      }
    const added = [...dirs].filter((d) => !this.watchedDirs.has(d));
    const removed = [...this.watchedDirs].filter((d) => !dirs.has(d));
    if (added.length === 0 && removed.length === 0) return;
    if (!this.watcher) {
      this.watcher = watch([], { ignoreInitial: true, depth: 0 });
      this.watcher.on('all', (_event, path) => this.onFileEvent(resolve(path)));
      this.watcher.on('error', (err) => this.log.warn(`Watching files referenced by configs: ${String(err)}`));
    }
    if (removed.length > 0) this.watcher.unwatch(removed);
    if (added.length > 0) this.watcher.add(added);
    for (const d of removed) this.watchedDirs.delete(d);
    for (const d of added) this.watchedDirs.add(d);
  }

  private onFileEvent(path: string): void {
    for (const [key, paths] of this.dependencies) {
      const hit = paths.has(path) || [...paths].some((p) => p.startsWith(path + sep));
      if (hit) this.schedule(vscode.Uri.parse(key), EDIT_DELAY_MS);
    }
  }
}

function toVscodeDiagnostic(d: Diagnostic): vscode.Diagnostic {
  const diagnostic = new vscode.Diagnostic(toRange(d.range), d.message, SEVERITY[d.severity]);
  diagnostic.source = DIAGNOSTIC_SOURCE;
  diagnostic.code = d.code;
  // A key that has no effect (e.g. lora settings with method full) is drawn faded, as unused code is.
  if (d.code === 'unused-key') diagnostic.tags = [vscode.DiagnosticTag.Unnecessary];
  return diagnostic;
}
