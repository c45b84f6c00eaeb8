import { type Control, checkbox, dropdown, textField } from './components.js';
import { h } from './dom.js';
import type { LogEntry, RunData } from './run-data.js';

/**
 * The Logs tab: a run's log lines in a virtualised list. Only the rows in view (and a few around
 * them) are in the DOM, so a log of a million lines scrolls as fast as one of ten. Rows have one
 * fixed height (long lines are cut with an ellipsis; the full line is the row's tooltip), which is
 * what makes the row under any scroll position a division away.
 */
export type LogLevel = LogEntry['level'];
const LEVELS: LogLevel[] = ['debug', 'info', 'warn', 'error'];
const ROW = 20;
const OVERSCAN = 10;

export interface LogSettings {
  level: LogLevel;
  search: string;
  follow: boolean;
}

export interface LogsHost {
  settings: LogSettings;
  saveSettings(settings: LogSettings): void;
}

/** The indices of the entries at or above a level that contain the search text (case-insensitive). */
export function filterLogs(
  entries: readonly LogEntry[],
  level: LogLevel,
  search: string,
  from = 0,
  out: number[] = [],
): number[] {
  const min = LEVELS.indexOf(level);
  const needle = search.trim().toLowerCase();
  for (let i = from; i < entries.length; i++) {
    const e = entries[i] as LogEntry;
    if (LEVELS.indexOf(e.level) < min) continue;
    if (needle !== '' && !e.message.toLowerCase().includes(needle)) continue;
    out.push(i);
  }
  return out;
}

function timeOf(t: number): string {
  const d = new Date(t);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

export class LogsView {
  readonly element = h('div', { class: 'logs-view' });
  private readonly viewport = h('div', { class: 'log-viewport', tabindex: 0, role: 'log', 'aria-label': 'Engine log' });
  private readonly spacer = h('div', { class: 'log-spacer' });
  private readonly rows = h('div', { class: 'log-rows' });
  private readonly count = h('span', { class: 'log-count muted' });
  private readonly followBox: Control<boolean>;
  private run: RunData | undefined;
  private matches: number[] = [];
  private scanned = 0;
  private frame = 0;
  private programmaticScroll = false;

  constructor(private readonly host: LogsHost) {
    const s = host.settings;
    const level = dropdown({
      label: 'Minimum level',
      choices: LEVELS.map((l) => ({ value: l, label: l })),
      value: s.level,
    });
    level.onChange((v) => this.change({ level: v as LogLevel }));
    const search = textField({ label: 'Search the log', placeholder: 'Search', value: s.search, live: true });
    search.onChange((v) => this.change({ search: v }));
    this.followBox = checkbox({ label: 'Follow', checked: s.follow, title: 'Keep the newest line in view' });
    this.followBox.onChange((v) => this.change({ follow: v }));
    this.viewport.append(this.spacer, this.rows);
    this.viewport.addEventListener('scroll', () => this.onScroll());
    this.element.append(
      h(
        'div',
        { class: 'toolbar' },
        h('label', { class: 'tool' }, 'Level ', level.element),
        search.element,
        this.followBox.element,
        this.count,
      ),
      this.viewport,
    );
    new ResizeObserver(() => this.schedule()).observe(this.viewport);
  }

  /** The run whose log is shown (the panel's selected run). */
  setRun(run: RunData | undefined): void {
    this.run = run;
    this.refilter();
  }

  /** Log lines were appended to a run. */
  appended(runId: string): void {
    if (this.run?.info.id !== runId) return;
    filterLogs(this.run.logs, this.host.settings.level, this.host.settings.search, this.scanned, this.matches);
    this.scanned = this.run.logs.length;
    this.schedule();
  }

  private change(patch: Partial<LogSettings>): void {
    this.host.saveSettings({ ...this.host.settings, ...patch });
    if (patch.follow !== undefined) this.followBox.value = patch.follow;
    if (patch.level !== undefined || patch.search !== undefined) this.refilter();
    else this.schedule();
  }

  private refilter(): void {
    const { level, search } = this.host.settings;
    this.matches = this.run ? filterLogs(this.run.logs, level, search) : [];
    this.scanned = this.run?.logs.length ?? 0;
    this.schedule();
  }

  private schedule(): void {
    if (this.frame !== 0) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  private onScroll(): void {
    if (this.programmaticScroll) {
      this.programmaticScroll = false;
      this.schedule();
      return;
    }
    // Scrolling up leaves follow mode; scrolling back to the end resumes it, as in a terminal.
    const v = this.viewport;
    const atEnd = v.scrollTop + v.clientHeight >= v.scrollHeight - ROW;
    if (atEnd !== this.host.settings.follow) this.change({ follow: atEnd });
    this.schedule();
  }

  private render(): void {
    const total = this.matches.length;
    const logs = this.run?.logs ?? [];
    this.count.textContent = `${total.toLocaleString()} of ${logs.length.toLocaleString()} lines`;
    this.spacer.style.height = `${total * ROW}px`;
    const v = this.viewport;
    if (this.host.settings.follow && total > 0) {
      const end = Math.max(0, total * ROW - v.clientHeight);
      if (Math.abs(v.scrollTop - end) > 1) {
        this.programmaticScroll = true;
        v.scrollTop = end;
      }
    }
    const first = Math.max(0, Math.floor(v.scrollTop / ROW) - OVERSCAN);
    const last = Math.min(total, Math.ceil((v.scrollTop + v.clientHeight) / ROW) + OVERSCAN);
    this.rows.style.transform = `translateY(${first * ROW}px)`;
    // Reuse row elements: only their text changes while scrolling.
    while (this.rows.childElementCount > last - first) this.rows.lastElementChild?.remove();
    while (this.rows.childElementCount < last - first) {
      this.rows.append(
        h(
          'div',
          { class: 'log-row' },
          h('span', { class: 'log-time' }),
          h('span', { class: 'log-level' }),
          h('span', { class: 'log-message' }),
        ),
      );
    }
    for (let i = first; i < last; i++) {
      const e = logs[this.matches[i] as number] as LogEntry;
      const row = this.rows.children[i - first] as HTMLElement;
      const [time, level, message] = row.children as unknown as [HTMLElement, HTMLElement, HTMLElement];
      row.className = `log-row level-${e.level}`;
      row.title = e.message;
      time.textContent = timeOf(e.t);
      level.textContent = e.level;
      message.textContent = e.message;
    }
  }
}
