import * as vscode from 'vscode';
import { TRIAL_STATES } from '../../shared/sweep-record.js';
import { formatNumber } from '../runs/progress.js';
import { describeSweep } from '../runs/sweep-reader.js';
import type { SweepSnapshot } from '../runs/sweep-tracker.js';
import { escapeMarkdown, STATE_ICONS } from './item-style.js';

/**
 * A sweep's item in the Runs view: its state, trials done of the total and best objective in the
 * description, the settings and the best trial's values in the tooltip; its trials are its
 * children (runs-tree.ts). Clicking it opens the panel's Sweep view.
 */
export function sweepItem(sweep: SweepSnapshot): vscode.TreeItem {
  const item = new vscode.TreeItem(sweep.id, vscode.TreeItemCollapsibleState.Collapsed);
  item.id = sweep.dir;
  item.description = describeSweep(sweep);
  const state = sweep.state ?? (sweep.error ? 'failed' : 'running');
  const [icon, color] = STATE_ICONS[state];
  item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
  item.contextValue = `sweep.${state}`;
  item.resourceUri = vscode.Uri.file(sweep.dir);
  item.command = { title: 'Open Sweep', command: 'finetune.openSweep', arguments: [sweep.dir] };
  item.tooltip = sweepTooltip(sweep);
  return item;
}

export function sweepTooltip(sweep: SweepSnapshot): vscode.MarkdownString {
  const md = new vscode.MarkdownString(undefined, true);
  md.appendMarkdown(`**${escapeMarkdown(sweep.id)}**: sweep, ${escapeMarkdown(describeSweep(sweep))}\n\n`);
  const record = sweep.record;
  if (record) {
    const s = record.settings;
    const counts = TRIAL_STATES.map((st) => [st, record.trials.filter((t) => t.state === st).length] as const)
      .filter(([, n]) => n > 0)
      .map(([st, n]) => `${n} ${st}`)
      .join(', ');
    md.appendMarkdown(
      `${escapeMarkdown(`${s.strategy} sampler, pruner ${s.pruner}, ${s.mode} ${s.metric}, ${s.max_trials} trials (${counts || 'none yet'})`)}\n\n`,
    );
    const best = record.best;
    if (best) {
      md.appendMarkdown(
        `$(star-full) best **${escapeMarkdown(s.metric)} ${formatNumber(best.value)}**: trial ${best.trial}\n\n`,
      );
      md.appendMarkdown('| | |\n|---|---|\n');
      for (const [key, value] of Object.entries(best.params))
        md.appendMarkdown(`| ${escapeMarkdown(key)} | \`${String(value).replace(/[`|]/g, '')}\` |\n`);
      md.appendMarkdown('\n');
    }
  }
  const reason = sweep.reason ?? sweep.error;
  if (reason) md.appendCodeblock(reason, 'text');
  md.appendMarkdown(`\n\n\`${sweep.dir.replace(/`/g, '')}\``);
  return md;
}
