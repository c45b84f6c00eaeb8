import type { ChatModelChoice } from '../shared/messages.js';
import { type Control, dropdown } from './components.js';
import { clear, h } from './dom.js';

/**
 * The Model dropdown of the Chat and Playground tabs: the selected run's final model and
 * checkpoints, asked of the host when the run changes or writes a new one. What the user picked is
 * saved and kept while the run has it; otherwise the newest model is in use, so a tab opened while
 * the run trains moves on to each new checkpoint and to final/ (the list is newest first). The tab
 * says what to do when there is nothing to pick.
 */
export interface RunModelsHost {
  /** Asks the host for the run's models (its reply message comes back to `fill`). */
  ask(runId: string): Promise<void>;
  /** The model key the user picked, saved with the tab's settings. */
  readonly saved: string | undefined;
  save(key: string): void;
  /** Whether there is a model to use, and why not (empty when there is). */
  setAvailable(available: boolean, why: string): void;
}

export class RunModels {
  readonly control: Control<string>;
  private runId: string | undefined;
  private current: string | undefined;

  constructor(private readonly host: RunModelsHost) {
    this.control = dropdown({ label: 'Model', choices: [] });
    this.control.onChange((key) => {
      this.current = key;
      host.save(key);
    });
  }

  get run(): string | undefined {
    return this.runId;
  }

  /** The model key in use: the user's pick while the run has it, else the newest. */
  get value(): string | undefined {
    return this.current;
  }

  /** The panel's selected run; its models are asked for when it changes. */
  setRun(runId: string | undefined): void {
    if (runId === this.runId) return;
    this.runId = runId;
    this.refresh();
  }

  /** Asks the host for the run's models again (a checkpoint was written, the run ended). */
  refresh(): void {
    if (this.runId === undefined) {
      this.host.setAvailable(false, 'No run selected.');
      return;
    }
    this.host.ask(this.runId).catch((err: Error) => this.host.setAvailable(false, err.message));
  }

  /** The host's list for a run; false when it is not the selected run's (a reply overtaken). */
  fill(runId: string, models: ChatModelChoice[], unavailable: string | undefined): boolean {
    if (runId !== this.runId) return false;
    const el = this.control.element;
    clear(el);
    for (const c of models) el.append(h('vscode-option', { value: c.key }, c.label));
    this.current = (models.find((c) => c.key === this.host.saved) ?? models[0])?.key;
    if (this.current !== undefined) this.control.value = this.current;
    this.host.setAvailable(models.length > 0, unavailable ?? '');
    return true;
  }
}
