import * as vscode from 'vscode';
import { RUNS_VIEW_ID } from '../ids.js';
import { Disposable } from '../lifecycle.js';
import { currentStep, describeRun, formatSteps } from '../runs/progress.js';
import type { RunManager } from '../runs/run-manager.js';
import { isActive } from '../runs/run-state.js';

/** `$(sync~spin) Fine-tune: step 120/900` while runs are active; hidden otherwise. */
export class RunsStatusBar extends Disposable {
  private readonly item = this._register(
    vscode.window.createStatusBarItem('finetune.runs', vscode.StatusBarAlignment.Left, 10),
  );

  constructor(private readonly runs: RunManager) {
    super();
    this.item.name = 'Fine-tune Runs';
    this.item.command = `${RUNS_VIEW_ID}.focus`;
    this._register(runs.onDidChangeRun(() => this.update()));
    this.update();
  }

  private update(): void {
    const active = this.runs.list().filter((r) => isActive(r.state));
    if (active.length === 0) {
      this.item.hide();
      return;
    }
    const running = active.filter((r) => r.state === 'running');
    const first = running[0];
    if (running.length === 1 && first) {
      this.item.text = `$(sync~spin) Fine-tune: ${formatSteps(currentStep(first), first.status?.totalSteps ?? 0)}`;
    } else if (running.length > 1) {
      this.item.text = `$(sync~spin) Fine-tune: ${running.length} runs`;
    } else {
      this.item.text = `$(clock) Fine-tune: ${active.length} queued`;
    }
    const tooltip = new vscode.MarkdownString(undefined, true);
    for (const run of active) tooltip.appendMarkdown(`**${run.id}**: ${describeRun(run)}  \n`);
    tooltip.appendMarkdown('\nClick to show the Runs view.');
    this.item.tooltip = tooltip;
    this.item.show();
  }
}
