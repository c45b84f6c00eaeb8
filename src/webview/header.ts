import type { RunCommand } from '../shared/messages.js';
import { button, dropdown } from './components.js';
import { clear, h } from './dom.js';
import { formatDuration } from './format.js';
import { type RunData, summarize } from './run-data.js';

/**
 * The panel's header: the selected run (state, progress, throughput, ETA, device) and the Start,
 * Stop and Resume buttons. A button is enabled only when its command can work on the selected
 * run's state as the run directory reports it; while a request is under way it stays disabled,
 * and a failure the host reports back is shown here, next to the button that caused it.
 */
export interface HeaderHost {
  hasConfig: boolean;
  trusted: boolean;
  selectRun(id: string): void;
  command(command: RunCommand, runId: string | undefined): Promise<void>;
}

export class Header {
  readonly element = h('header', { class: 'run-header' });
  private readonly picker = h('span', { class: 'run-picker' });
  private readonly stats = h('div', { class: 'run-stats', 'aria-live': 'off' });
  private readonly progress = h('div', {
    class: 'progress',
    role: 'progressbar',
    'aria-valuemin': 0,
    'aria-valuemax': 100,
  });
  private readonly progressFill = h('div', { class: 'progress-fill' });
  private readonly error = h('div', { class: 'command-error', role: 'alert' });
  private readonly buttons: Record<RunCommand, HTMLElement & { disabled: boolean }>;
  private busy: RunCommand | undefined;
  private run: RunData | undefined;
  private pickerKey = '';

  constructor(private readonly host: HeaderHost) {
    const run = (command: RunCommand) => () => void this.invoke(command);
    this.buttons = {
      start: button({
        label: 'Start',
        appearance: 'primary',
        title: 'Start a run with this config',
        onClick: run('start'),
      }),
      stop: button({
        label: 'Stop',
        title: 'Stop the run at the next step (it saves a checkpoint)',
        onClick: run('stop'),
      }),
      resume: button({ label: 'Resume', title: 'Resume the run from its last checkpoint', onClick: run('resume') }),
    };
    for (const [name, b] of Object.entries(this.buttons)) b.dataset.command = name;
    this.progress.append(this.progressFill);
    this.element.append(
      h(
        'div',
        { class: 'header-row' },
        this.picker,
        h('div', { class: 'buttons' }, this.buttons.start, this.buttons.stop, this.buttons.resume),
      ),
      this.progress,
      this.stats,
      this.error,
    );
    this.error.hidden = true;
  }

  /** The runs changed (added, removed, renamed in the legend). */
  setRuns(runs: RunData[], selected: RunData | undefined): void {
    const key = JSON.stringify([runs.map((r) => r.info.id), selected?.info.id]);
    if (key !== this.pickerKey) {
      this.pickerKey = key;
      clear(this.picker);
      if (runs.length === 0) this.picker.append(h('span', { class: 'muted' }, 'No runs yet'));
      else if (runs.length === 1)
        this.picker.append(h('strong', { title: selected?.info.dir }, runs[0]?.info.id ?? ''));
      else {
        const d = dropdown({
          label: 'Run',
          choices: [...runs].reverse().map((r) => ({ value: r.info.id, label: r.info.id, title: r.info.dir })),
          value: selected?.info.id,
        });
        d.onChange((id) => this.host.selectRun(id));
        this.picker.append(d.element);
      }
    }
    this.run = selected;
    this.refresh();
  }

  /** Recomputes the stats and button states (called after every batch of events). */
  refresh(): void {
    const run = this.run;
    const state = run?.info.status?.state;
    const live = state === 'running' || state === 'queued';
    const { hasConfig, trusted } = this.host;
    this.buttons.start.disabled = this.busy !== undefined || !hasConfig || !trusted || live;
    this.buttons.stop.disabled = this.busy !== undefined || !live;
    this.buttons.resume.disabled =
      this.busy !== undefined ||
      !trusted ||
      !(state === 'stopped' || state === 'failed') ||
      (run?.checkpoints ?? 0) === 0;
    if (!trusted) this.buttons.start.title = 'Runs cannot start in an untrusted workspace';

    clear(this.stats);
    if (!run) {
      this.progress.hidden = true;
      return;
    }
    const s = summarize(run, Date.now());
    const status = run.info.status;
    this.progress.hidden = s.progress === undefined;
    const pct = Math.round((s.progress ?? 0) * 100);
    this.progressFill.style.width = `${pct}%`;
    this.progress.setAttribute('aria-valuenow', String(pct));
    const stat = (label: string, value: string, cls: string) =>
      h(
        'span',
        { class: `stat ${cls}` },
        h('span', { class: 'stat-label' }, label),
        ' ',
        h('span', { class: 'stat-value' }, value),
      );
    this.stats.append(
      stat('state', state ?? 'unknown', `state state-${state ?? 'unknown'}`),
      stat('step', status ? `${s.step} / ${status.totalSteps}` : String(s.step), 'step'),
      stat('epoch', status ? String(Number(status.epoch.toFixed(2))) : '—', 'epoch'),
      stat(
        'throughput',
        s.tokensPerSec === undefined ? '—' : `${Math.round(s.tokensPerSec).toLocaleString()} tokens/s`,
        'throughput',
      ),
      stat('ETA', s.etaSeconds === undefined ? '—' : formatDuration(s.etaSeconds), 'eta'),
      stat('device', s.device ?? '—', 'device'),
    );
    if (status?.best)
      this.stats.append(
        stat('best', `${status.best.metric} ${status.best.value.toPrecision(4)} @ step ${status.best.step}`, 'best'),
      );
    if (status?.reason) this.stats.append(h('span', { class: 'stat reason' }, status.reason));
  }

  private async invoke(command: RunCommand): Promise<void> {
    this.busy = command;
    this.error.hidden = true;
    this.refresh();
    try {
      await this.host.command(command, command === 'start' ? undefined : this.run?.info.id);
    } catch (err) {
      this.error.textContent = `${command} failed: ${err instanceof Error ? err.message : String(err)}`;
      this.error.hidden = false;
    } finally {
      this.busy = undefined;
      this.refresh();
    }
  }
}
