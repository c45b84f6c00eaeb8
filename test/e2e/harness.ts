// End-to-end harness: a real VS Code (code-server, Node 24 from .e2e/) with the packaged .vsix
// installed, driven through Debian's chromium by playwright-core. scripts/e2e.mjs prepares
// .e2e/ (scripts/e2e-setup.mjs), packages the .vsix, installs it into .e2e/run/extensions and then
// runs test/e2e/*.e2e.ts with node's test runner, one file at a time (named *.e2e.ts, not
// *.test.ts, so that `npm test` leaves them out).
//
// Each scenario gets its own code-server (fresh --user-data-dir, shared --extensions-dir), its own
// browser and a workspace copied from examples/sentiment into a temp folder. Screenshots go to
// test-artifacts/e2e/; on failure the code-server logs (extension host, the extension's output
// channels) are copied next to them.

import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { type Browser, chromium, type FrameLocator, type Locator, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../chromium.js';

export const root = path.resolve(__dirname, '..', '..');
const e2eDir = path.join(root, '.e2e');
const nodeBin = path.join(e2eDir, 'node', 'bin', 'node');
const codeServerEntry = path.join(e2eDir, 'code-server', 'node_modules', 'code-server', 'out', 'node', 'entry.js');
export const extensionsDir = path.join(e2eDir, 'run', 'extensions');
export const artifactsDir = path.join(root, 'test-artifacts', 'e2e');
const chromiumPath = process.env.FINETUNE_E2E_CHROMIUM || CHROMIUM;

/** How long UI waits may take (a 2-core machine shared with other work is slow). */
export const UI_TIMEOUT = 60_000;

export interface CodeServer {
  url: string;
  userDataDir: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Starts code-server on 127.0.0.1 with a throwaway user-data-dir and the shared extensions dir. */
export async function startCodeServer(name: string, opts: { trust: boolean }): Promise<CodeServer> {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), `finetune-e2e-${name}-`));
  const settings = {
    // Trusted scenarios turn Workspace Trust off (everything trusted); the untrusted one turns it
    // on and never prompts, so an unknown folder opens in Restricted Mode.
    'security.workspace.trust.enabled': !opts.trust,
    'security.workspace.trust.startupPrompt': 'never',
    'security.workspace.trust.banner': 'never',
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'workbench.welcomePage.walkthroughs.openOnInstall': false,
    'telemetry.telemetryLevel': 'off',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'extensions.ignoreRecommendations': true,
    'update.mode': 'none',
    'git.enabled': false,
    'chat.disableAIFeatures': true,
    'editor.codeLens': true,
    'files.autoSave': 'off',
    // One engine thread: the browser, code-server and the engine share a 2-core machine.
    'finetune.engineThreads': 1,
    // The scenarios written before Start opened the run panel open it themselves when they need
    // it; 07-playground turns the default back on in its workspace settings.
    'finetune.openPanelOnStart': false,
    'editor.stickyScroll.enabled': false,
    'editor.minimap.enabled': false,
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
  };
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.writeFileSync(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
  const port = await freePort();
  const args = [
    codeServerEntry,
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--auth',
    'none',
    '--user-data-dir',
    userDataDir,
    '--extensions-dir',
    extensionsDir,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    '--ignore-last-opened',
  ];
  if (opts.trust) args.push('--disable-workspace-trust');
  const proc: ChildProcess = spawn(nodeBin, args, {
    // XDG_CONFIG_HOME: code-server writes a default config.yaml there on first start, not in ~.
    env: { ...process.env, XDG_CONFIG_HOME: path.join(e2eDir, 'run', 'config') },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const logFile = fs.createWriteStream(path.join(userDataDir, 'code-server.out.log'));
  proc.stdout?.pipe(logFile);
  proc.stderr?.pipe(logFile);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`code-server exited with ${proc.exitCode} (see ${userDataDir})`);
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) break;
    } catch {}
    if (Date.now() > deadline) throw new Error('code-server did not start within 60 s');
    await sleep(250);
  }
  return {
    url,
    userDataDir,
    async stop() {
      if (proc.exitCode !== null) return;
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      // The whole process group: code-server, its extension hosts, and engines they started.
      try {
        if (proc.pid) process.kill(-proc.pid, 'SIGTERM');
      } catch {}
      await Promise.race([exited, sleep(5000)]);
      try {
        if (proc.pid && proc.exitCode === null) process.kill(-proc.pid, 'SIGKILL');
      } catch {}
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Temp folders of the current scenario, removed when it passes (kept for a look when it fails). */
const tempDirs: string[] = [];

/** An empty workspace folder, removed with the scenario's other temp folders when it passes. */
export function emptyWorkspace(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `finetune-e2e-ws-${name}-`));
  tempDirs.push(dir);
  return dir;
}

/** A workspace: examples/sentiment copied into a temp folder, its config optionally edited. */
export function makeWorkspace(name: string, editConfig?: (text: string) => string): string {
  const dir = emptyWorkspace(name);
  fs.cpSync(path.join(root, 'examples', 'sentiment'), dir, { recursive: true });
  const config = path.join(dir, 'sentiment.finetune.yaml');
  if (editConfig) fs.writeFileSync(config, editConfig(fs.readFileSync(config, 'utf8')));
  return dir;
}

/** A config edit: `epochs` epochs (the example's 5 train in about 2 s), at most 2 checkpoints kept. */
export function withEpochs(epochs: number): (text: string) => string {
  return (text) => {
    const out = text.replace(/^(\s+)epochs: \d+/m, `$1epochs: ${epochs}\n$1save_total_limit: 2`);
    if (out === text) throw new Error('no epochs key in the example config');
    return out;
  };
}

/** Run directories of a workspace (default runs folder), oldest first. */
export function runDirs(workspace: string): string[] {
  const runs = path.join(workspace, '.finetune', 'runs');
  if (!fs.existsSync(runs)) return [];
  return fs
    .readdirSync(runs)
    .filter((n) => fs.existsSync(path.join(runs, n, 'status.json')))
    .sort()
    .map((n) => path.join(runs, n));
}

export interface RunStatus {
  state: string;
  step: number;
  totalSteps: number;
  [key: string]: unknown;
}

export function readStatus(runDir: string): RunStatus | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(runDir, 'status.json'), 'utf8')) as RunStatus;
  } catch {
    return undefined;
  }
}

/** Polls `fn` until it returns a truthy value. */
export function trace(msg: string): void {
  process.stderr.write(`[e2e ${new Date().toISOString().slice(11, 23)}] ${msg}\n`);
}

export async function waitFor<T>(
  what: string,
  fn: () => T | Promise<T>,
  timeoutMs = UI_TIMEOUT,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  trace(`waiting for ${what}`);
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last}` : ''}`);
    await sleep(500);
  }
}

export class Workbench {
  private shots = 0;
  constructor(
    readonly page: Page,
    readonly scenario: string,
  ) {}

  async shot(step: string): Promise<void> {
    this.shots++;
    trace(`${this.scenario}: screenshot ${step}`);
    const file = path.join(artifactsDir, `${this.scenario}-${String(this.shots).padStart(2, '0')}-${step}.png`);
    await this.page.screenshot({ path: file }).catch(() => {});
  }

  async openFolder(url: string, folder: string): Promise<void> {
    await this.page.goto(`${url}/?folder=${encodeURIComponent(folder)}`);
    await this.waitForWorkbench();
  }

  async waitForWorkbench(opts: { explorer: boolean } = { explorer: true }): Promise<void> {
    await this.page.locator('.monaco-workbench').waitFor({ timeout: UI_TIMEOUT });
    await this.page.locator('.statusbar').waitFor({ timeout: UI_TIMEOUT });
    // The explorer shows the folder once the remote file system answered (a reloaded window
    // shows the side bar view it had instead).
    if (opts.explorer)
      await this.page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: UI_TIMEOUT });
  }

  /** Runs a command from the palette by its full label, e.g. "Fine-tune: Start Fine-tune". */
  async command(label: string): Promise<void> {
    trace(`command: ${label}`);
    const input = this.page.locator('.quick-input-widget input.input');
    await this.page.keyboard.press('F1');
    await input.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await input.fill(`>${label}`);
    const row = this.page
      .locator('.quick-input-list .monaco-list-row')
      .filter({ has: this.page.locator('.label-name', { hasText: label }) })
      .first();
    await row.waitFor({ timeout: UI_TIMEOUT });
    await row.click();
  }

  /** Command palette -> "Fine-tune: Start Fine-tune" -> the config in the quick pick. */
  async startRunFromPalette(config = 'sentiment.finetune.yaml'): Promise<void> {
    await this.command('Fine-tune: Start Fine-tune');
    const row = this.page.locator('.quick-input-list .monaco-list-row', { hasText: config }).first();
    await row.waitFor({ timeout: UI_TIMEOUT });
    await row.click();
  }

  /**
   * Opens the workspace and its sentiment config, starts a run from the palette, and returns the
   * run directory once the engine has made it.
   */
  async startSentimentRun(serverUrl: string, workspace: string): Promise<string> {
    return this.startRun(serverUrl, workspace, 'sentiment.finetune.yaml');
  }

  /** Opens the workspace and `config`, starts it from the palette, and returns the run directory. */
  async startRun(serverUrl: string, workspace: string, config: string): Promise<string> {
    await this.openFolder(serverUrl, workspace);
    await this.openFile(config);
    await this.startRunFromPalette(config);
    return waitFor('a run directory', () => runDirs(workspace)[0]);
  }

  /** The open run panel's Metrics tab: the text of its table once shown. */
  async panelMetricsText(): Promise<string> {
    const panel = this.panelFrame();
    await panel.locator('#tab-metrics').click();
    const table = panel.locator('table.metrics-table');
    await table.waitFor({ timeout: UI_TIMEOUT });
    return (await table.textContent()) ?? '';
  }

  /**
   * Waits until the run directory says `completed` and the Runs view's first row shows it,
   * collecting every description the row showed on the way into `seen`.
   */
  async waitForCompletion(runDir: string, seen: Set<string>): Promise<void> {
    await waitFor(
      'the run to complete',
      async () => {
        const d = await this.runDescription(0).catch(() => '');
        if (d) seen.add(d);
        return readStatus(runDir)?.state === 'completed' && /completed/.test(d);
      },
      300_000,
    );
  }

  /** Opens a file of the workspace with Quick Open. */
  async openFile(name: string): Promise<void> {
    const input = this.page.locator('.quick-input-widget input.input');
    await this.page.keyboard.press('Control+P');
    await input.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await input.fill(name);
    const row = this.page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first();
    await row.waitFor({ timeout: UI_TIMEOUT });
    await this.page.keyboard.press('Enter');
    await this.page.locator(`.tab.active`, { hasText: name }).waitFor({ timeout: UI_TIMEOUT });
    await this.page.locator('.editor-instance .monaco-editor .view-lines').first().waitFor({ timeout: UI_TIMEOUT });
  }

  get editor(): Locator {
    return this.page.locator('.editor-instance .monaco-editor').first();
  }

  /** Replaces the text of line `line` (1-based) after its indentation with `text`, without saving. */
  async replaceLine(line: number, text: string): Promise<void> {
    await this.editor.locator('.view-lines').click();
    const input = this.page.locator('.quick-input-widget input.input');
    await this.page.keyboard.press('Control+G');
    await input.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await input.fill(`:${line}`);
    await this.page.keyboard.press('Enter');
    await input.waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
    await this.page.keyboard.press('End');
    await this.page.keyboard.press('Shift+Home');
    await this.page.keyboard.insertText(text);
  }

  async save(): Promise<void> {
    await this.page.keyboard.press('Control+S');
    await this.page.locator('.tab.active.dirty').waitFor({ state: 'detached', timeout: UI_TIMEOUT });
  }

  /**
   * The Fine-tune view container in the side bar, opened. The activity bar icon toggles it, and a
   * reloading window restores it by itself a moment later: click, check, and click again if a
   * click closed it.
   */
  async runsView(): Promise<Locator> {
    const container = this.page.locator('[id="workbench.view.extension.finetune"]');
    const deadline = Date.now() + UI_TIMEOUT;
    for (;;) {
      if (await container.isVisible().catch(() => false)) return container;
      if (Date.now() > deadline) throw new Error('the Fine-tune view did not open');
      const appeared = await container
        .waitFor({ timeout: 2000 })
        .then(() => true)
        .catch(() => false);
      if (appeared) return container;
      trace('opening the Fine-tune view');
      // The list item, not its link: while runs train, a badge covers the link's centre.
      await this.page
        .locator('.activitybar li.action-item', { has: this.page.locator('a[aria-label^="Fine-tune"]') })
        .first()
        .click();
    }
  }

  /** The Runs view's run rows (top level). */
  async runRows(): Promise<Locator> {
    const pane = await this.runsView();
    return pane.locator('.monaco-list-row[aria-level="1"]');
  }

  async runDescription(index = 0): Promise<string> {
    const rows = await this.runRows();
    return (await rows.nth(index).locator('.label-description').textContent({ timeout: UI_TIMEOUT })) ?? '';
  }

  /** Clicks an inline action (e.g. "Stop Run") of the run row `index`. */
  async runAction(index: number, action: string): Promise<void> {
    trace(`run action: ${action}`);
    const rows = await this.runRows();
    const row = rows.nth(index);
    await row.hover();
    await row.locator(`.actions .action-label[aria-label="${action}"]`).click({ timeout: UI_TIMEOUT });
  }

  /** The run panel's document: the webview's inner frame. */
  panelFrame(): FrameLocator {
    return this.page.frameLocator('iframe.webview.ready').first().frameLocator('iframe#active-frame');
  }

  /** Notification toasts' text. */
  async notifications(): Promise<string> {
    const toasts = this.page.locator('.notifications-toasts .notification-toast');
    return (await toasts.allTextContents()).join('\n');
  }
}

/**
 * Declares a scenario: starts code-server and a browser, runs `body`, keeps screenshots, and on
 * failure copies code-server's logs to test-artifacts/e2e/<name>-logs/.
 */
export function scenario(
  name: string,
  opts: { trust: boolean; timeoutMs: number },
  body: (wb: Workbench, server: CodeServer, t: TestContext) => Promise<void>,
): void {
  test(name, { timeout: opts.timeoutMs }, async (t) => {
    fs.mkdirSync(artifactsDir, { recursive: true });
    const t0 = Date.now();
    const server = await startCodeServer(name, opts);
    let browser: Browser | undefined;
    let wb: Workbench | undefined;
    const consoleLines: string[] = [];
    let passed = false;
    try {
      browser = await chromium.launch({
        executablePath: chromiumPath,
        args: [...CHROMIUM_ARGS],
      });
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      const page = await context.newPage();
      page.setDefaultTimeout(UI_TIMEOUT);
      page.on('console', (m) => consoleLines.push(`[${m.type()}] ${m.text()}`));
      page.on('pageerror', (e) => consoleLines.push(`[pageerror] ${e.message}`));
      wb = new Workbench(page, name);
      await body(wb, server, t);
      await wb.shot('end');
      passed = true;
    } catch (err) {
      await wb?.shot('failure');
      const logs = path.join(server.userDataDir, 'logs');
      const dest = path.join(artifactsDir, `${name}-logs`);
      fs.rmSync(dest, { recursive: true, force: true });
      if (fs.existsSync(logs)) fs.cpSync(logs, dest, { recursive: true });
      fs.copyFileSync(
        path.join(server.userDataDir, 'code-server.out.log'),
        path.join(artifactsDir, `${name}-code-server.log`),
      );
      fs.writeFileSync(path.join(artifactsDir, `${name}-browser-console.log`), `${consoleLines.join('\n')}\n`);
      t.diagnostic(`logs: ${dest}`);
      throw err;
    } finally {
      await browser?.close().catch(() => {});
      await server.stop();
      if (passed)
        for (const dir of [server.userDataDir, ...tempDirs.splice(0)]) fs.rmSync(dir, { recursive: true, force: true });
      t.diagnostic(`${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
  });
}
