import { join } from 'node:path';
import * as vscode from 'vscode';
import { RUN_FILES } from '../../shared/run-directory.js';
import type { TrialRecord } from '../../shared/sweep-record.js';
import { RUNS_VIEW_ID } from '../ids.js';
import { Disposable } from '../lifecycle.js';
import { describeRun, formatDuration, formatNumber } from '../runs/progress.js';
import type { RunManager } from '../runs/run-manager.js';
import { configHighlights, listCheckpoints, listFinal, type RunSnapshot, readRunConfig } from '../runs/run-reader.js';
import { contextValue } from '../runs/run-state.js';
import { escapeMarkdown, STATE_ICONS } from './item-style.js';
import { topLevel, trialOf, trialsOf } from './runs-grouping.js';
import { sweepItem } from './sweep-item.js';

/**
 * The Runs view: every run of the workspace, newest first, with its metrics, checkpoints and
 * exported model as children. Refreshed from the run manager's change events (file events), one
 * run at a time, coalesced so a run logging 50 steps a second does not redraw 50 times.
 */
export type RunsNode =
  | { kind: 'run'; dir: string }
  | { kind: 'sweep'; dir: string }
  | { kind: 'group'; dir: string; group: 'metrics' | 'checkpoints' | 'final' }
  | { kind: 'metric'; dir: string; name: string; value: number; best: boolean }
  | { kind: 'file'; dir: string; path: string; label: string; role: 'checkpoint' | 'artifact' };

const REFRESH_DELAY_MS = 250;
const OPENABLE = /\.(json|txt|md|ya?ml|csv|tsv|jsonl)$/i;

export class RunsTreeProvider extends Disposable implements vscode.TreeDataProvider<RunsNode> {
  private readonly emitter = this._register(new vscode.EventEmitter<RunsNode | undefined>());
  readonly onDidChangeTreeData = this.emitter.event;
  /** One node object per run: VS Code finds the item to refresh by identity. */
  private readonly runNodes = new Map<string, RunsNode & { kind: 'run' }>();
  private readonly sweepNodes = new Map<string, RunsNode & { kind: 'sweep' }>();
  private pending = new Set<string>();
  private structural = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly runs: RunManager) {
    super();
    this._register(
      runs.onDidChangeRun(({ dir, run, previous }) => {
        if (!run || !previous) this.structural = true;
        else this.pending.add(dir);
        this.schedule();
      }),
    );
    this._register(
      runs.onDidChangeSweep(() => {
        this.structural = true;
        this.schedule();
      }),
    );
    this._register({ dispose: () => clearTimeout(this.timer) });
  }

  refresh(): void {
    this.structural = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.structural) this.emitter.fire(undefined);
      else for (const dir of this.pending) this.emitter.fire(this.runNodes.get(dir));
      this.structural = false;
      this.pending = new Set();
    }, REFRESH_DELAY_MS);
  }

  getChildren(node?: RunsNode): Promise<RunsNode[]> | RunsNode[] {
    if (!node) {
      const list = this.runs.list();
      const sweeps = this.runs.listSweeps();
      const live = new Set([...list.map((r) => r.dir), ...sweeps.map((s) => s.dir)]);
      for (const dir of this.runNodes.keys()) if (!live.has(dir)) this.runNodes.delete(dir);
      for (const dir of this.sweepNodes.keys()) if (!live.has(dir)) this.sweepNodes.delete(dir);
      // A sweep's trials are under it; the sweeps sit among the runs, newest first.
      return topLevel(list, sweeps, (dir) => this.runs.sweepOf(dir)).map((t) =>
        t.kind === 'sweep' ? this.sweepNode(t.dir) : this.runNode(t.dir),
      );
    }
    if (node.kind === 'sweep') return this.trialNodes(node.dir);
    const run = this.runs.get(node.dir);
    if (!run) return [];
    if (node.kind === 'run') return this.groups(run);
    if (node.kind === 'group') return this.groupChildren(run, node.group);
    return [];
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    const run = this.runs.get(node.dir);
    switch (node.kind) {
      case 'run':
        return run ? this.runItem(run) : new vscode.TreeItem(node.dir);
      case 'sweep': {
        const sweep = this.runs.getSweep(node.dir);
        return sweep ? sweepItem(sweep) : new vscode.TreeItem(node.dir);
      }
      case 'group':
        return this.groupItem(node.group, run);
      case 'metric': {
        const item = new vscode.TreeItem(node.name);
        item.description = formatNumber(node.value) + (node.best ? ' (best)' : '');
        item.iconPath = new vscode.ThemeIcon(node.best ? 'star-full' : 'symbol-number');
        item.contextValue = 'metric';
        return item;
      }
      case 'file': {
        const uri = vscode.Uri.file(node.path);
        const item = new vscode.TreeItem(uri);
        item.label = node.label;
        item.contextValue = node.role;
        item.iconPath = node.role === 'checkpoint' ? new vscode.ThemeIcon('save') : vscode.ThemeIcon.File;
        item.command = OPENABLE.test(node.path)
          ? { title: 'Open', command: 'vscode.open', arguments: [uri] }
          : { title: 'Reveal in Explorer', command: 'revealInExplorer', arguments: [uri] };
        return item;
      }
    }
  }

  /** The tooltip reads the run's config.yaml: only when the user hovers. */
  async resolveTreeItem(item: vscode.TreeItem, node: RunsNode): Promise<vscode.TreeItem> {
    const run = this.runs.get(node.dir);
    if (node.kind !== 'run' || !run) return item;
    item.tooltip = runTooltip(run, configHighlights(await readRunConfig(run.dir)), this.runs.isWaiting(run.dir));
    return item;
  }

  private sweepNode(dir: string): RunsNode & { kind: 'sweep' } {
    let node = this.sweepNodes.get(dir);
    if (!node) {
      node = { kind: 'sweep', dir };
      this.sweepNodes.set(dir, node);
    }
    return node;
  }

  /** A sweep's trials, by trial number: the runs that are in its trials folder. */
  private trialNodes(sweepDir: string): RunsNode[] {
    const sweep = this.runs.getSweep(sweepDir);
    if (!sweep) return [];
    return trialsOf(this.runs.list(), sweep, (dir) => this.runs.sweepOf(dir)).map((r) => this.runNode(r.dir));
  }

  private runNode(dir: string): RunsNode & { kind: 'run' } {
    let node = this.runNodes.get(dir);
    if (!node) {
      node = { kind: 'run', dir };
      this.runNodes.set(dir, node);
    }
    return node;
  }

  private runItem(run: RunSnapshot): vscode.TreeItem {
    // Whether the groups have content is known only by reading the folder; guess from the events.
    const expandable =
      run.events.lastEval !== undefined || run.events.checkpoints.length > 0 || run.state === 'completed';
    const sweep = this.runs.sweepOf(run.dir);
    const trial = sweep ? trialOf(sweep, run.dir) : undefined;
    const item = new vscode.TreeItem(
      trial ? `trial ${trial.number}` : run.id,
      expandable ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
    );
    item.id = run.dir;
    const waiting = this.runs.isWaiting(run.dir) ? ' · waiting for a free slot' : '';
    // A pruned trial's run ended `stopped`: the sweep's word for it says why.
    const pruned = trial?.state === 'pruned' ? 'pruned · ' : '';
    const params = trial ? ` · ${trialParams(trial)}` : '';
    item.description = pruned + describeRun(run) + waiting + params;
    const [icon, color] = STATE_ICONS[run.state];
    item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
    item.contextValue = contextValue(run.state, run.pretraining);
    item.resourceUri = vscode.Uri.file(run.dir);
    return item;
  }

  /** Only the groups that have something in them. */
  private async groups(run: RunSnapshot): Promise<RunsNode[]> {
    const [checkpoints, final] = await Promise.all([listCheckpoints(run.dir), listFinal(run.dir)]);
    const out: RunsNode[] = [];
    if (run.events.lastEval) out.push({ kind: 'group', dir: run.dir, group: 'metrics' });
    if (checkpoints.length > 0) out.push({ kind: 'group', dir: run.dir, group: 'checkpoints' });
    if (final.length > 0) out.push({ kind: 'group', dir: run.dir, group: 'final' });
    return out;
  }

  private groupItem(group: 'metrics' | 'checkpoints' | 'final', run: RunSnapshot | undefined): vscode.TreeItem {
    const labels = { metrics: 'Metrics', checkpoints: 'Checkpoints', final: 'Exported model' } as const;
    const icons = { metrics: 'graph', checkpoints: 'history', final: 'package' } as const;
    const item = new vscode.TreeItem(labels[group], vscode.TreeItemCollapsibleState.Collapsed);
    item.id = `${run?.dir ?? ''}#${group}`;
    item.iconPath = new vscode.ThemeIcon(icons[group]);
    item.contextValue = `group.${group}`;
    if (group === 'metrics' && run?.events.lastEval) item.description = `step ${run.events.lastEval.step}`;
    return item;
  }

  private async groupChildren(run: RunSnapshot, group: 'metrics' | 'checkpoints' | 'final'): Promise<RunsNode[]> {
    if (group === 'metrics') {
      const best = run.status?.best;
      return Object.entries(run.events.lastEval?.metrics ?? {}).map(([name, value]) => ({
        kind: 'metric' as const,
        dir: run.dir,
        name,
        value,
        best: best !== undefined && best.metric === name && best.value === value,
      }));
    }
    if (group === 'checkpoints')
      return (await listCheckpoints(run.dir)).map((c) => ({
        kind: 'file' as const,
        dir: run.dir,
        path: c.path,
        label: `step-${c.step}`,
        role: 'checkpoint' as const,
      }));
    return (await listFinal(run.dir)).map((name) => ({
      kind: 'file' as const,
      dir: run.dir,
      path: join(run.dir, RUN_FILES.final, name),
      label: name,
      role: 'artifact' as const,
    }));
  }
}

export function runTooltip(run: RunSnapshot, config: [string, string][], waiting: boolean): vscode.MarkdownString {
  const md = new vscode.MarkdownString(undefined, true);
  md.appendMarkdown(`**${escapeMarkdown(run.id)}**: ${run.state}${waiting ? ' (waiting for a free slot)' : ''}\n\n`);
  md.appendMarkdown(`${escapeMarkdown(describeRun(run))}\n\n`);
  if (config.length > 0) {
    md.appendMarkdown('| | |\n|---|---|\n');
    for (const [label, value] of config) md.appendMarkdown(`| ${label} | \`${value.replace(/[`|]/g, '')}\` |\n`);
    md.appendMarkdown('\n');
  }
  const best = run.status?.best;
  if (best)
    md.appendMarkdown(
      `$(star-full) best **${escapeMarkdown(best.metric)} ${formatNumber(best.value)}** at step ${best.step}\n\n`,
    );
  if (run.status?.startedAt) {
    const started = new Date(run.status.startedAt);
    const ms = Date.parse(run.status.updatedAt) - started.getTime();
    md.appendMarkdown(
      `started ${started.toLocaleString()}${Number.isFinite(ms) ? `, ran ${formatDuration(ms)}` : ''}\n\n`,
    );
  }
  if (run.reason && run.state !== 'queued') md.appendCodeblock(run.reason, 'text');
  md.appendMarkdown(`\n\n\`${run.dir.replace(/`/g, '')}\``);
  return md;
}

function trialParams(trial: TrialRecord): string {
  return Object.entries(trial.params)
    .map(([k, v]) => `${k.split('.').pop()}=${typeof v === 'number' ? formatNumber(v) : String(v)}`)
    .join(' ');
}

export function createRunsView(provider: RunsTreeProvider): vscode.TreeView<RunsNode> {
  return vscode.window.createTreeView(RUNS_VIEW_ID, {
    treeDataProvider: provider,
    showCollapseAll: true,
    canSelectMany: true,
  });
}
