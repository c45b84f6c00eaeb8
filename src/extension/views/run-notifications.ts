import * as vscode from 'vscode';
import { Disposable } from '../lifecycle.js';
import { describeRun, formatNumber, percentDone, reasonHeadline } from '../runs/progress.js';
import type { RunManager } from '../runs/run-manager.js';
import type { RunSnapshot } from '../runs/run-reader.js';
import { isActive } from '../runs/run-state.js';

export interface NotificationActions {
  showLog(dir: string): void;
  openConfig(dir: string): Promise<void>;
  openRun(dir: string): Promise<void>;
}

/**
 * Notifications about runs: a progress notification for each run started from this window
 * (cancel = stop), and an error notification whenever a run fails while the window watches it,
 * whoever started it.
 */
export class RunNotifications extends Disposable {
  /** Ends the progress notification of each tracked run. */
  private readonly tracked = new Map<string, () => void>();

  constructor(
    private readonly runs: RunManager,
    private readonly actions: NotificationActions,
  ) {
    super();
    this._register({
      dispose: () => {
        for (const finish of [...this.tracked.values()]) finish();
      },
    });
    this._register(
      runs.onDidChangeRun(({ run, previous }) => {
        if (run && previous && previous.state !== 'failed' && run.state === 'failed') void this.failed(run);
      }),
    );
  }

  /** Shows the run's progress in a notification until it ends; cancelling it stops the run. */
  track(dir: string): void {
    if (this.tracked.has(dir)) return;
    this.tracked.set(dir, () => {}); // replaced by the notification's own finish once it shows
    const title = `Fine-tune ${this.runs.get(dir)?.id ?? dir}`;
    void vscode.window
      .withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) => {
        return new Promise<RunSnapshot | undefined>((resolve) => {
          let done = 0;
          let stopping = false;
          const report = (run: RunSnapshot) => {
            const percent = percentDone(run);
            const message = stopping ? `stopping at the next step… (${describeRun(run)})` : describeRun(run);
            progress.report({ message, increment: Math.max(0, percent - done) });
            done = Math.max(done, percent);
          };
          const finish = (run?: RunSnapshot) => {
            listener.dispose();
            cancel.dispose();
            this.tracked.delete(dir);
            resolve(run);
          };
          const listener = this.runs.onDidChangeRun((change) => {
            if (change.dir !== dir) return;
            if (!change.run || !isActive(change.run.state)) finish(change.run);
            else report(change.run);
          });
          const cancel = token.onCancellationRequested(() => {
            stopping = true;
            void this.runs.stop(dir);
          });
          this.tracked.set(dir, finish);
          // The run may have ended already (an engine that could not start at all).
          const initial = this.runs.get(dir);
          if (initial && !isActive(initial.state)) finish(initial);
          else if (initial) report(initial);
        });
      })
      .then((run) => {
        if (run?.state === 'completed') void this.completed(run);
      });
  }

  private async completed(run: RunSnapshot): Promise<void> {
    const best = run.status?.best;
    const detail = best ? `: best ${best.metric} ${formatNumber(best.value)} at step ${best.step}` : '';
    const choice = await vscode.window.showInformationMessage(
      `Fine-tune run ${run.id} completed${detail}.`,
      'Open Run',
    );
    if (choice === 'Open Run')
      await this.actions
        .openRun(run.dir)
        .catch((err: Error) => vscode.window.showErrorMessage(`Fine-tune: ${err.message}`));
  }

  private async failed(run: RunSnapshot): Promise<void> {
    const why = reasonHeadline(run.reason, 200) ?? 'no reason given';
    const choice = await vscode.window.showErrorMessage(
      `Fine-tune run ${run.id} failed: ${why}`,
      'Show Log',
      'Open Config',
    );
    try {
      if (choice === 'Show Log') this.actions.showLog(run.dir);
      else if (choice === 'Open Config') await this.actions.openConfig(run.dir);
    } catch (err) {
      void vscode.window.showErrorMessage(`Fine-tune: ${(err as Error).message}`);
    }
  }
}
