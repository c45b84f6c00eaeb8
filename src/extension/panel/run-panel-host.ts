import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { formatOf } from '../../shared/config-validate.js';
import {
  type ChatSendRequest,
  type ConfigPath,
  type ConfigState,
  EVENT_BATCH_MS,
  type HostMessage,
  type JsonValue,
  type RunCommand,
  type RunSnapshot,
  type SweepInfo,
  type WebviewRequest,
} from '../../shared/messages.js';
import type { RunEvent } from '../../shared/run-directory.js';
import { configName, latestRunOf } from '../../shared/run-id.js';
import { chatModelPath, chatModelsOf } from '../chat/chat-models.js';
import type { ChatSession } from '../chat/chat-session.js';
import { Disposable, toDisposable } from '../lifecycle.js';
import { configRunsRoot } from '../settings.js';
import type { ConfigValidator } from '../validation/worker-client.js';
import { configEdit } from './config-edit.js';
import { buildPanelHtml, makeNonce } from './csp.js';
import { openDataRow, type PanelDataDeps, panelDataReport } from './data-report-host.js';
import { EventBatcher } from './event-batcher.js';
import { panelChat, panelPlayground, taskOf } from './panel-engines.js';
import { receiveWebviewMessage } from './panel-requests.js';
import type { PlaygroundHost } from './playground-host.js';
import { RunFollower, RunsFolderWatcher } from './run-follower.js';
import { applyBestToConfig } from './sweep-commands.js';
import { SweepFollower } from './sweep-follower.js';

/**
 * One run panel's host side: the webview panel of a config file (or of a set of runs compared, or
 * a sweep), fed from the run directories and the config document, and the handler of what its
 * page asks. run-panel.ts keeps the open panels and creates them. See src/shared/messages.ts for
 * the protocol and src/webview/ for the page.
 */
export interface RunPanelTarget {
  runDirs: string[];
  configUri?: vscode.Uri;
  /** A sweep folder: the panel shows its Sweep view, and its trials as runs. */
  sweepDir?: string;
}

/** What every panel shares, owned by run-panel.ts: the open panels by key, the log, the validator. */
export interface PanelRegistry {
  panels: Map<string, RunPanel>;
  log(): vscode.LogOutputChannel | undefined;
  validator(): ConfigValidator | undefined;
}

const COMMAND_IDS: Readonly<Record<RunCommand, string>> = {
  start: 'finetune.startRun',
  stop: 'finetune.stopRun',
  resume: 'finetune.resumeRun',
};
/** Typing in the editor sends the form at most this often. */
const CONFIG_DELAY_MS = 150;

/** One panel per config file, per sweep, or per set of runs (in any order). */
export function keyOf(target: RunPanelTarget): string {
  if (target.sweepDir) return `sweep:${target.sweepDir}`;
  return target.configUri ? target.configUri.toString() : [...target.runDirs].sort().join('\n');
}

export class RunPanel extends Disposable {
  private readonly followers = new Map<string, RunFollower>();
  /** Every event of every run so far: a page shown again after being hidden gets them in `init`. */
  private readonly events = new Map<string, RunEvent[]>();
  private readonly batcher: EventBatcher;
  private readonly key: string;
  private configTimer: ReturnType<typeof setTimeout> | undefined;
  private runsWatcher: RunsFolderWatcher | undefined;
  private ready = false;
  /** Settles when the runs named at creation are read: `init` waits for it. */
  private readonly loaded: Promise<void>;
  /** The sweep's sweep.json, when the panel shows a sweep. */
  private sweep: SweepFollower | undefined;
  /** The Chat tab's engine process, started on its first message and killed with the panel. */
  private readonly chat: ChatSession;
  /** The Playground tab's model server, started on its first input and killed with the panel. */
  private readonly playground: PlaygroundHost;
  /** What the Data tab reads: the runs' folders, the config, the engine for a config's report. */
  private readonly data: PanelDataDeps;
  /** Show Data Report asked for the Data tab: told to the page once it is ready. */
  private showDataPending = false;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly panel: vscode.WebviewPanel,
    private readonly target: RunPanelTarget,
    private readonly registry: PanelRegistry,
  ) {
    super();
    this.key = keyOf(target);
    registry.panels.set(this.key, this);
    this.batcher = this._register(
      new EventBatcher((batch) => {
        for (const { runId, events } of batch) this.events.get(runId)?.push(...events);
        this.post({ type: 'events', runs: batch });
      }, EVENT_BATCH_MS),
    );
    this._register(toDisposable(() => registry.panels.delete(this.key)));
    this._register(toDisposable(() => clearTimeout(this.configTimer)));
    this._register(toDisposable(() => this.runsWatcher?.dispose()));
    this._register(toDisposable(() => this.sweep?.dispose()));
    this._register(
      toDisposable(() => {
        for (const f of this.followers.values()) f.dispose();
      }),
    );
    const children = { context, configUri: target.configUri, log: (line: string) => registry.log()?.info(line) };
    this.chat = this._register(panelChat(children));
    this.playground = this._register(
      panelPlayground(children, {
        runOf: (runId) => {
          const follower = this.followerOf(runId);
          return { dir: follower.dir, task: taskOf(follower.info.config) };
        },
        post: (message) => this.post(message),
      }),
    );
    this.data = {
      cliPath: context.asAbsolutePath('dist/cli.js'),
      configUri: target.configUri,
      runDir: (runId) => this.followerOf(runId).dir,
    };
    this._register(panel.onDidDispose(() => this.dispose()));
    this._register(panel.webview.onDidReceiveMessage((m: unknown) => this.receive(m)));
    this._register(
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (target.configUri && e.document.uri.toString() === target.configUri.toString()) this.configChanged();
      }),
    );
    if (target.configUri) {
      // Changes on disk to a file no editor holds open raise no document event: watch the file too.
      const folder = vscode.Uri.joinPath(target.configUri, '..');
      const watcher = this._register(
        vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, basename(target.configUri.path))),
      );
      this._register(watcher.onDidChange(() => this.configChanged()));
      this._register(watcher.onDidCreate(() => this.configChanged()));
    }
    this._register(vscode.workspace.onDidGrantWorkspaceTrust(() => void this.loaded.then(() => this.sendInit())));
    panel.webview.html = this.html();
    this.loaded = this.start().catch(() => undefined);
  }

  reveal(): void {
    this.panel.reveal();
  }

  /** The Data tab on the config's report: now if the page is up, else after its `init`. */
  showData(): void {
    this.showDataPending = true;
    if (this.ready && this.panel.visible) this.postShowData();
  }

  private postShowData(): void {
    if (!this.showDataPending) return;
    this.showDataPending = false;
    this.post({ type: 'showData' });
  }

  addRuns(dirs: string[]): void {
    for (const dir of dirs) if (!this.followers.has(basename(dir))) void this.follow(dir, true);
  }

  private html(): string {
    const webview = this.panel.webview;
    const asset = (...parts: string[]) =>
      webview.asWebviewUri(vscode.Uri.joinPath(this.context.extensionUri, ...parts)).toString();
    return buildPanelHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      scriptUri: asset('dist', 'webview.js'),
      styleUris: [asset('dist', 'webview.css'), asset('media', 'panel.css')],
      title: this.panel.title,
    });
  }

  private async start(): Promise<void> {
    const dirs = [...this.target.runDirs];
    const uri = this.target.configUri;
    if (uri?.scheme === 'file') {
      const folder = await this.runsFolder(uri);
      if (folder) {
        const name = configName(uri.path);
        this.runsWatcher = new RunsFolderWatcher(folder, name, (dir) => void this.follow(dir, true));
        // A config's panel opened with no runs named shows its latest run, if it has one.
        if (dirs.length === 0) {
          const latest = latestRunOf(name, await readdir(folder).catch(() => [] as string[]));
          if (latest) dirs.push(join(folder, latest));
        }
      }
    }
    if (this.target.sweepDir) dirs.push(...(await this.followSweep(this.target.sweepDir)));
    await Promise.all(dirs.map((d) => this.follow(d, false)));
  }

  /** Follows sweep.json, and each trial as a run (the Charts tab compares them); the trial dirs so far. */
  private async followSweep(dir: string): Promise<string[]> {
    const trialDirs = (info: SweepInfo) => (info.record?.trials ?? []).map((t) => join(dir, t.dir));
    this.sweep = new SweepFollower(dir, (info) => {
      this.post({ type: 'sweep', sweep: info });
      for (const trial of trialDirs(info)) if (existsSync(trial)) this.addRuns([trial]);
    });
    const info = await this.sweep.load();
    this.sweep.start();
    return trialDirs(info).filter((d) => existsSync(d));
  }

  /** Where this config's runs go: the folder the run manager starts them in (settings.ts). */
  private async runsFolder(uri: vscode.Uri): Promise<string | undefined> {
    const doc = await vscode.workspace.openTextDocument(uri);
    return configRunsRoot(uri, doc.getText());
  }

  private async follow(dir: string, announce: boolean): Promise<void> {
    const id = basename(dir);
    if (this.followers.has(id) || this.isDisposed) return;
    const follower = new RunFollower(dir, {
      events: (runId, events, reset) => {
        if (!reset) {
          this.batcher.push(runId, events);
          return;
        }
        // events.jsonl was rewritten: what the panel has is replaced, not appended to.
        this.batcher.discard(runId);
        this.events.set(runId, events);
        this.post({ type: 'run', run: follower.info, events });
      },
      info: (info) => {
        this.batcher.flush();
        this.post({ type: 'run', run: info });
      },
    });
    this.followers.set(id, follower);
    const { info, events } = await follower.load();
    this.events.set(id, events);
    follower.start();
    if (announce) this.post({ type: 'run', run: info, events });
  }

  private configChanged(): void {
    clearTimeout(this.configTimer);
    this.configTimer = setTimeout(() => {
      void this.configState().then((config) => config && this.post({ type: 'config', config }));
    }, CONFIG_DELAY_MS);
  }

  /** The config's text with the editor's diagnostics (the same validator, files checked too). */
  private async configState(): Promise<ConfigState | undefined> {
    const uri = this.target.configUri;
    const validator = this.registry.validator();
    if (!uri || !validator) return undefined;
    const doc = await vscode.workspace.openTextDocument(uri);
    const format = formatOf(uri.path);
    // Its own key: the diagnostics' validations of this file must not replace the panel's.
    const job = { key: `panel:${uri.toString()}`, version: doc.version, text: doc.getText(), format };
    const { job: validated, diagnostics } = await validator.validate(
      uri.scheme === 'file' ? { ...job, configDir: dirname(uri.fsPath) } : job,
    );
    // The text and the diagnostics of one version, which may be newer than the one asked for.
    const { text, version } = validated;
    return { uri: uri.toString(), fileName: basename(uri.path), format, text, version, diagnostics };
  }

  private async sendInit(): Promise<void> {
    // Whatever is waiting in the batcher is already in `events`: init carries it.
    this.batcher.flush();
    const runs: RunSnapshot[] = [...this.followers.values()].map((f) => ({
      ...f.info,
      events: this.events.get(f.id) ?? [],
    }));
    const config = await this.configState().catch(() => undefined);
    this.post({
      type: 'init',
      ...(config ? { config } : {}),
      runs,
      trusted: vscode.workspace.isTrusted,
      target: {
        runDirs: this.target.sweepDir ? [] : [...this.followers.values()].map((f) => f.dir),
        configUri: this.target.configUri?.toString(),
        ...(this.target.sweepDir ? { sweepDir: this.target.sweepDir } : {}),
      },
      ...(this.sweep ? { sweep: this.sweep.info } : {}),
    });
    this.postShowData();
  }

  private post(message: HostMessage): void {
    // A hidden page is gone (no retainContextWhenHidden); it gets everything in `init` when shown.
    if (!this.ready || this.isDisposed) return;
    void this.panel.webview.postMessage(message);
  }

  private receive(message: unknown): void {
    receiveWebviewMessage(message, {
      onReady: () => {
        this.ready = true;
        void this.loaded.then(() => this.sendInit());
      },
      handle: (request) => this.handle(request),
      reply: (reply) => this.post(reply),
      onInvalid: (description) => this.registry.log()?.warn(description),
    });
  }

  private async handle(request: WebviewRequest): Promise<void> {
    switch (request.type) {
      case 'editConfig':
        return this.editConfig(request.path, request.value);
      case 'command':
        return this.command(request.command, request.runId);
      case 'exportPng':
        return this.exportPng(request.fileName, request.dataUrl);
      case 'chatModels': {
        const follower = this.followerOf(request.runId);
        const task = taskOf(follower.info.config);
        this.post({ type: 'chatModels', runId: request.runId, ...(await chatModelsOf(follower.dir, task)) });
        return;
      }
      case 'chatSend':
        return this.chatSend(request);
      case 'chatStop':
        this.chat.stop();
        return;
      case 'applyBest':
        return applyBestToConfig(this.sweep?.info, request.trial);
      case 'dataReport': {
        const report = await panelDataReport(this.data, request);
        this.post({ type: 'dataReport', ...(request.runId === undefined ? {} : { runId: request.runId }), report });
        return;
      }
      case 'openDataRow':
        return openDataRow(this.data, request);
      case 'playgroundModels':
      case 'playgroundRun':
      case 'playgroundStop':
        return this.playground.handle(request);
    }
  }

  private followerOf(runId: string): RunFollower {
    const follower = this.followers.get(runId);
    if (!follower) throw new Error(`Unknown run ${runId}.`);
    return follower;
  }

  /** One reply of the Chat tab, streamed to the page as the engine generates it. */
  private async chatSend(request: ChatSendRequest): Promise<void> {
    if (!vscode.workspace.isTrusted)
      throw new Error('Chat runs the engine, which an untrusted workspace does not allow: trust the workspace first.');
    const modelDir = chatModelPath(this.followerOf(request.runId).dir, request.model);
    const { chatId } = request;
    const system = request.system.trim() ? [{ role: 'system' as const, content: request.system }] : [];
    await this.chat.send(modelDir, [...system, ...request.messages], request.options, {
      ready: (chat) => this.post({ type: 'chatReady', chatId, chat }),
      token: (text) => this.post({ type: 'chatToken', chatId, text }),
      done: (stoppedBy, tokens) => this.post({ type: 'chatDone', chatId, stoppedBy, tokens }),
    });
  }

  /** One form edit as a WorkspaceEdit on the document: undoable, and dirty until saved like any edit. */
  private async editConfig(path: ConfigPath, value: JsonValue | undefined): Promise<void> {
    const uri = this.target.configUri;
    if (!uri) throw new Error('This panel has no config file to edit.');
    const doc = await vscode.workspace.openTextDocument(uri);
    const edits = configEdit(doc.getText(), formatOf(uri.path), path, value);
    if (edits.length === 0) return;
    const edit = new vscode.WorkspaceEdit();
    for (const e of edits) {
      const r = e.range;
      edit.replace(uri, new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character), e.newText);
    }
    if (!(await vscode.workspace.applyEdit(edit)))
      throw new Error(`VS Code did not apply the edit to ${basename(uri.path)}.`);
  }

  private async command(command: RunCommand, runId: string | undefined): Promise<void> {
    if (command === 'start') {
      if (!this.target.configUri) throw new Error('This panel has no config file to start a run from.');
      await vscode.commands.executeCommand(COMMAND_IDS.start, this.target.configUri);
      return;
    }
    const follower = this.followerOf(runId ?? '');
    await vscode.commands.executeCommand(COMMAND_IDS[command], follower.dir);
  }

  private async exportPng(fileName: string, dataUrl: string): Promise<void> {
    const base = vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(this.context.extensionPath);
    const target = await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.joinPath(base, basename(fileName)),
      filters: { 'PNG image': ['png'] },
      title: 'Export chart',
    });
    if (!target) throw new Error('Export cancelled.');
    const bytes = Buffer.from(dataUrl.slice(dataUrl.indexOf(',') + 1), 'base64');
    await vscode.workspace.fs.writeFile(target, bytes);
  }
}
