import * as vscode from 'vscode';
import { CONFIG_GLOB, CONTEXT_KEYS } from './ids.js';
import { Disposable } from './lifecycle.js';
import { registerRunPanelSerializer } from './panel/run-panel.js';
import { ChangedOnly, runContext, runningCount } from './run-context.js';
import { serveArgs, spawnAttached } from './runs/engine-process.js';
import { RunManager } from './runs/run-manager.js';
import { RunOutputs } from './runs/run-output.js';
import { ModelServer } from './serve/model-server.js';
import { readSettings } from './settings.js';
import { ConfigDiagnostics } from './validation/config-diagnostics.js';
import { registerConfigProviders } from './validation/config-providers.js';
import { ConfigValidator, startConfigWorker } from './validation/worker-client.js';
import { type NotificationActions, RunNotifications } from './views/run-notifications.js';
import { createRunsView, type RunsNode, RunsTreeProvider } from './views/runs-tree.js';
import { RunsStatusBar } from './views/status-bar.js';

/**
 * The extension's one long-lived object, as in rust-analyzer's editors/code: it owns every
 * service and everything registered with VS Code, and disposing it (on deactivate) releases them
 * all. Engines are separate, detached processes and keep running; their per-process scopes live
 * in the run manager (RunSession).
 */
export class Ctx extends Disposable {
  readonly log: vscode.LogOutputChannel;
  readonly runs: RunManager;
  readonly outputs: RunOutputs;
  /** The config validation worker thread, shared by the diagnostics and the run panels. */
  readonly validator: ConfigValidator;
  readonly diagnostics: ConfigDiagnostics;
  readonly tree: RunsTreeProvider;
  readonly view: vscode.TreeView<RunsNode>;
  readonly notifications: RunNotifications;
  /** Predict on Selection's `finetune serve` child: started on first use, kept for the next selection. */
  readonly modelServer: ModelServer;
  private readonly runContextKeys = new ChangedOnly<boolean>(
    (key, value) => void vscode.commands.executeCommand('setContext', key, value),
  );
  private readonly badge = new ChangedOnly<number>((_, running) => {
    this.view.badge = running > 0 ? { value: running, tooltip: `${running} run(s) training` } : undefined;
  });

  constructor(
    readonly extensionContext: vscode.ExtensionContext,
    actions: NotificationActions,
  ) {
    super();
    this.log = this._register(vscode.window.createOutputChannel('Fine-tune', { log: true }));
    this.runs = this._register(
      new RunManager(extensionContext.asAbsolutePath('dist/cli.js'), extensionContext.workspaceState, this.log),
    );
    this.outputs = this._register(new RunOutputs(this.runs));
    const workerFile = extensionContext.asAbsolutePath('dist/config-worker.js');
    this.validator = this._register(
      new ConfigValidator({ start: () => startConfigWorker(workerFile), log: (line) => this.log.warn(line) }),
    );
    this.diagnostics = this._register(new ConfigDiagnostics(this.validator, this.log));
    for (const d of registerConfigProviders(this.diagnostics)) this._register(d);
    this.tree = this._register(new RunsTreeProvider(this.runs));
    this.view = this._register(createRunsView(this.tree));
    this._register(new RunsStatusBar(this.runs));
    this.notifications = this._register(new RunNotifications(this.runs, actions));
    this.modelServer = this._register(
      new ModelServer({
        start: (modelDir) => {
          const s = readSettings();
          const args = serveArgs(this.cliPath, modelDir, { device: s.device, threads: s.engineThreads }, 0, true);
          return spawnAttached(args, vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? modelDir);
        },
        log: (line) => this.log.info(line),
      }),
    );
    // Run panels open before a window reload come back (activation event onWebviewPanel).
    this._register(registerRunPanelSerializer(extensionContext, this.log, this.validator));
    this._register(this.runs.onDidChangeRun(() => this.updateRunContext()));
    this.watchConfigFiles();
  }

  /** Absolute path of the engine CLI bundle. */
  get cliPath(): string {
    return this.extensionContext.asAbsolutePath('dist/cli.js');
  }

  /** Reads the runs folders; the views fill in as runs are read. */
  async initialize(): Promise<void> {
    this.updateRunContext();
    await this.runs.initialize();
    this.updateRunContext();
  }

  /** Context keys for `when` clauses, and the view's badge; only changes are sent to VS Code. */
  private updateRunContext(): void {
    const states = this.runs.list().map((r) => r.state);
    for (const [key, value] of Object.entries(runContext(states))) this.runContextKeys.set(key, value);
    this.badge.set('running', runningCount(states));
  }

  /**
   * Config files on disk: whether any exist (the welcome view), and re-validation of those not
   * open in an editor when they change. VS Code's watcher suits these: they are workspace files.
   */
  private watchConfigFiles(): void {
    const watcher = this._register(vscode.workspace.createFileSystemWatcher(CONFIG_GLOB));
    const recount = async () => {
      const found = await vscode.workspace.findFiles(CONFIG_GLOB, '**/node_modules/**', 1);
      void vscode.commands.executeCommand('setContext', CONTEXT_KEYS.hasConfigs, found.length > 0);
    };
    this._register(
      watcher.onDidCreate((uri) => {
        void recount();
        this.diagnostics.revalidate(uri);
      }),
    );
    this._register(watcher.onDidChange((uri) => this.diagnostics.revalidate(uri)));
    this._register(watcher.onDidDelete(() => void recount()));
    void (async () => {
      // Fill the Problems panel for configs that are not open too, like a compiler would.
      const all = await vscode.workspace.findFiles(CONFIG_GLOB, '**/node_modules/**', 200);
      void vscode.commands.executeCommand('setContext', CONTEXT_KEYS.hasConfigs, all.length > 0);
      for (const uri of all) this.diagnostics.revalidate(uri);
    })();
  }
}
