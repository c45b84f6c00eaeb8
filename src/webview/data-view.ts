import type { DataReport } from '../shared/data-report.js';
import type { DataReportMessage, RequestBody } from '../shared/messages.js';
import { button, type Choice, dropdown } from './components.js';
import { renderDataReport } from './data-report-view.js';
import { clear, h } from './dom.js';

/**
 * The Data tab: the data report of the selected run (its data-report.json) or of the config before
 * any run (the engine's `data stats`, computed when asked), drawn by data-report-view.ts. Reports
 * are asked for when the tab is shown and kept per source; Refresh asks again. A row's file:line
 * asks the host to open the file at that line (`openDataRow`).
 */
export type DataSource = 'run' | 'config';

export interface DataSettings {
  source: DataSource;
}

export const DATA_DEFAULTS: DataSettings = { source: 'run' };

export interface DataTabHost {
  readonly settings: DataSettings;
  saveSettings(settings: DataSettings): void;
  readonly hasConfig: boolean;
  request(body: RequestBody): Promise<void>;
}

/** A run without a readable report is asked again on its next update, at most this often. */
const RETRY_MS = 2000;

/** The key a report is kept under: the run's id, or '' for the config's. */
const keyOf = (runId: string | undefined) => runId ?? '';

export class DataTab {
  readonly element = h('div', { class: 'data-view' });
  private readonly status = h('p', { class: 'data-status muted', role: 'status' });
  private readonly content = h('div', { class: 'data-content' });
  private readonly toolbar = h('div', { class: 'toolbar' });
  private readonly reports = new Map<string, DataReport>();
  private runId: string | undefined;
  private visible = false;
  /** The source whose report is being asked for, so a late answer for another is only kept. */
  private pending: string | undefined;
  /** When asking for a run's report last failed (none written yet, say), by run id. */
  private readonly failedAt = new Map<string, number>();

  constructor(private readonly host: DataTabHost) {
    this.element.append(this.toolbar, this.status, this.content);
    this.renderToolbar();
  }

  /** The run the panel has selected (undefined: none). */
  setRun(runId: string | undefined): void {
    if (runId === this.runId) return;
    this.runId = runId;
    this.renderToolbar();
    this.load(false);
  }

  /** The tab was shown (or hidden): a report is asked for only while it is seen. */
  setVisible(visible: boolean): void {
    this.visible = visible;
    this.load(false);
  }

  /** Show Data Report: the config's report, computed afresh. */
  showConfig(): void {
    this.host.saveSettings({ source: 'config' });
    this.visible = true;
    this.renderToolbar();
    this.load(true);
  }

  /**
   * The run's status or info changed: a run that had no report when asked (its data still being
   * prepared) is asked again, so the tab fills in once the engine has written it.
   */
  runUpdated(runId: string): void {
    const at = this.failedAt.get(runId);
    if (at === undefined || Date.now() - at < RETRY_MS || runId !== this.currentKey()) return;
    this.load(true);
  }

  /** The host's answer to a `dataReport` request. */
  report(m: DataReportMessage): void {
    this.reports.set(keyOf(m.runId), m.report);
    if (keyOf(m.runId) === this.currentKey()) this.render();
  }

  /** The config's panel: the config can be reported on. */
  configChanged(): void {
    this.renderToolbar();
    this.load(false);
  }

  private source(): DataSource {
    if (this.host.settings.source === 'config' && this.host.hasConfig) return 'config';
    return this.runId === undefined && this.host.hasConfig ? 'config' : 'run';
  }

  private currentKey(): string | undefined {
    return this.source() === 'config' ? '' : this.runId;
  }

  private renderToolbar(): void {
    clear(this.toolbar);
    const choices: Choice[] = [];
    if (this.runId !== undefined) choices.push({ value: 'run', label: `Run ${this.runId}` });
    if (this.host.hasConfig) choices.push({ value: 'config', label: 'The config now (before a run)' });
    if (choices.length === 0) return;
    const pick = dropdown({ label: 'Data report of', choices, value: this.source() });
    pick.onChange((v) => {
      this.host.saveSettings({ source: v === 'config' ? 'config' : 'run' });
      this.load(false);
    });
    const refresh = button({ label: 'Refresh', title: 'Read the report again', onClick: () => this.load(true) });
    this.toolbar.append(h('span', { class: 'tool' }, 'Report of ', pick.element), refresh);
  }

  private load(fresh: boolean): void {
    const key = this.currentKey();
    if (!this.visible) return;
    if (key === undefined) {
      this.render();
      return;
    }
    if (!fresh && this.reports.has(key)) {
      this.render();
      return;
    }
    if (this.pending === key) return;
    this.pending = key;
    this.setStatus(
      key === '' ? 'Preparing the data as training would (finetune data stats)…' : 'Reading the run’s data report…',
    );
    const body: RequestBody = key === '' ? { type: 'dataReport' } : { type: 'dataReport', runId: key };
    this.host
      .request(body)
      .then(() => {
        this.failedAt.delete(key);
        if (this.currentKey() === key) this.render();
      })
      .catch((err: Error) => {
        if (key !== '') this.failedAt.set(key, Date.now());
        if (this.currentKey() !== key) return;
        this.reports.delete(key);
        clear(this.content);
        this.setStatus(err.message, true);
      })
      .finally(() => {
        if (this.pending === key) this.pending = undefined;
      });
  }

  private setStatus(text: string, error = false): void {
    this.status.textContent = text;
    this.status.classList.toggle('error', error);
    this.status.hidden = text === '';
  }

  private render(): void {
    clear(this.content);
    const key = this.currentKey();
    const report = key === undefined ? undefined : this.reports.get(key);
    if (!report) {
      this.setStatus(key === undefined ? 'No run and no config: nothing to report on.' : '');
      return;
    }
    this.setStatus('');
    const runId = key === '' ? undefined : key;
    this.content.append(
      renderDataReport(report, (file, line) => {
        const body: RequestBody =
          runId === undefined ? { type: 'openDataRow', file, line } : { type: 'openDataRow', file, line, runId };
        this.host.request(body).catch((err: Error) => this.setStatus(err.message, true));
      }),
    );
  }
}
