import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import { RUN_FILES } from '../../shared/run-directory.js';
import { Disposable } from '../lifecycle.js';
import { FileTail } from './file-tail.js';
import type { RunManager } from './run-manager.js';

/**
 * One output channel per run, streaming its engine.log as it grows. A channel is created when a
 * run is started from this window or when the user asks for a run's log, not for every run in
 * the folder; it goes away with the run.
 */
export class RunOutputs extends Disposable {
  private readonly channels = new Map<string, { channel: vscode.OutputChannel; tail: FileTail; busy: Promise<void> }>();

  constructor(runs: RunManager) {
    super();
    this._register(runs.onDidChangeLog((dir) => this.pull(dir)));
    this._register(
      runs.onDidChangeRun(({ dir, run }) => {
        if (run) this.pull(dir);
        else this.close(dir);
      }),
    );
    this._register({
      dispose: () => {
        for (const { channel } of this.channels.values()) channel.dispose();
        this.channels.clear();
      },
    });
  }

  /** Starts streaming a run's log (if not yet) and optionally reveals the channel. */
  open(dir: string, reveal: boolean): void {
    let entry = this.channels.get(dir);
    if (!entry) {
      // 'log' gives timestamps and levels their colours.
      const channel = vscode.window.createOutputChannel(`Fine-tune: ${basename(dir)}`, 'log');
      entry = { channel, tail: new FileTail(join(dir, RUN_FILES.log)), busy: Promise.resolve() };
      this.channels.set(dir, entry);
      this.pull(dir);
    }
    if (reveal) entry.channel.show(true);
  }

  private pull(dir: string): void {
    const entry = this.channels.get(dir);
    if (!entry) return;
    entry.busy = entry.busy.then(async () => {
      const { text, restarted } = await entry.tail.read();
      if (restarted) entry.channel.clear();
      if (text) entry.channel.append(text);
    });
    // A log deleted between two reads is not worth an error: the next change reads again.
    entry.busy = entry.busy.catch(() => {});
  }

  private close(dir: string): void {
    this.channels.get(dir)?.channel.dispose();
    this.channels.delete(dir);
  }
}
