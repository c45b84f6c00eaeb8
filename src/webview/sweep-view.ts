import type { ParameterValue } from '../shared/config-sweep.js';
import type { SweepInfo } from '../shared/messages.js';
import { finishedTrials, type SweepRecord } from '../shared/sweep-record.js';
import { clear, h } from './dom.js';
import { formatDuration, formatNumber } from './format.js';
import {
  axesOf,
  type Brushes,
  bestSoFar,
  filterRows,
  IMPORTANCE_METHOD,
  importances,
  type SortOrder,
  sortRows,
  type TrialRow,
  trialRows,
} from './sweep-model.js';
import { objectiveChart, parallelCoordinates } from './sweep-plots.js';

/**
 * The Sweep tab: a sweep's summary and "Apply best to config", the sortable table of trials, the
 * parallel-coordinates plot whose brushes filter the table, the objective over trials, and the
 * parameters' importance. Redrawn whole from each sweep.json the host sends (a few dozen trials);
 * the sort and the brushes are the user's and kept in the page's state.
 */
export interface SweepSettings {
  sort: SortOrder;
  brushes: Brushes;
}

export const SWEEP_DEFAULTS: SweepSettings = { sort: { column: 'number', descending: false }, brushes: {} };

export interface SweepViewDeps {
  readonly settings: SweepSettings;
  saveSettings(settings: SweepSettings): void;
  /** Posts applyBest; resolves when the host has written the file. */
  applyBest(trial: number): Promise<void>;
  notice(text: string): void;
}

const STATIC_COLUMNS: { column: string; label: string }[] = [
  { column: 'number', label: 'Trial' },
  { column: 'state', label: 'State' },
];

export class SweepView {
  readonly element = h('div', { class: 'sweep-view' });
  private info: SweepInfo | undefined;
  /**
   * The importances, for the completed trials they were computed from: a sort, a brush or a
   * running trial's new evaluation redraws the view, not the forest (half a second at 200 trials).
   */
  private importanceOf: { key: string; result: ReturnType<typeof importances> } | undefined;

  constructor(private readonly deps: SweepViewDeps) {
    this.render();
  }

  update(info: SweepInfo | undefined): void {
    this.info = info;
    this.render();
  }

  private save(patch: Partial<SweepSettings>): void {
    this.deps.saveSettings({ ...this.deps.settings, ...patch });
    this.render();
  }

  private render(): void {
    clear(this.element);
    const info = this.info;
    if (!info) {
      this.element.append(h('p', { class: 'muted' }, 'This panel shows no sweep.'));
      return;
    }
    const record = info.record;
    if (!record) {
      this.element.append(
        h('p', { class: 'muted' }, info.error ? `${info.id}: ${info.error}` : `${info.id}: waiting for sweep.json…`),
      );
      return;
    }
    const rows = trialRows(record, Date.now());
    const axes = axesOf(record);
    const { brushes, sort } = this.deps.settings;
    const shownRows = filterRows(rows, axes, brushes);
    const shown = new Set(shownRows.map((r) => r.number));
    this.element.append(
      this.summary(info, record),
      h('h3', {}, 'Trials'),
      this.filterNote(shownRows.length, rows.length),
      this.table(record, sortRows(shownRows, sort)),
      h('h3', {}, 'Parallel coordinates'),
      h(
        'p',
        { class: 'muted' },
        'Drag along an axis to keep only the trials in that range; click the axis to clear it.',
      ),
      parallelCoordinates({
        axes,
        rows,
        shown,
        best: record.best?.trial,
        brushes,
        onBrush: (key, range) => {
          const next = { ...brushes };
          if (range) next[key] = range;
          else delete next[key];
          this.save({ brushes: next });
        },
      }),
      h('h3', {}, 'Objective over trials'),
      objectiveChart(
        bestSoFar(record),
        record.settings.metric,
        Math.max(record.settings.max_trials, record.trials.length),
      ),
      h('h3', {}, 'Parameter importance'),
      this.importance(record),
    );
  }

  private summary(info: SweepInfo, record: SweepRecord): HTMLElement {
    const s = record.settings;
    const state = info.state ?? record.state;
    const best = record.best;
    const apply = h(
      'vscode-button',
      {
        class: 'apply-best',
        disabled: !best || !info.sourceFile,
        title: info.sourceFile
          ? `Write trial ${best?.trial ?? '—'}'s values into ${info.sourceFile}`
          : 'The config file this sweep was started from was not found.',
      },
      'Apply best to config',
    );
    apply.addEventListener('click', () => {
      if (!best || (apply as HTMLElement & { disabled?: boolean }).disabled) return;
      this.deps
        .applyBest(best.trial)
        .then(() => this.deps.notice(`Wrote trial ${best.trial}'s values into ${info.sourceFile ?? 'the config'}.`))
        .catch((err: Error) => this.deps.notice(`Apply best failed: ${err.message}`));
    });
    const bestText = best
      ? `best ${s.metric} ${formatNumber(best.value)} (trial ${best.trial}, ${s.mode})`
      : `no completed trial yet (${s.metric}, ${s.mode})`;
    return h(
      'div',
      { class: 'sweep-summary' },
      h('span', { class: `state state-${state}` }, state),
      h('span', {}, ` ${info.id} · ${finishedTrials(record)}/${s.max_trials} trials · ${bestText}`),
      h('span', { class: 'muted' }, ` · ${s.strategy}, pruner ${s.pruner}`),
      (info.reason ?? record.reason) ? h('div', { class: 'muted' }, info.reason ?? record.reason) : undefined,
      h('div', { class: 'sweep-actions' }, apply),
    );
  }

  private filterNote(shown: number, total: number): HTMLElement {
    const note = h('p', { class: 'muted sweep-filter' }, `Showing ${shown} of ${total} trials.`);
    if (Object.keys(this.deps.settings.brushes).length > 0) {
      const reset = h('vscode-link', { class: 'clear-brushes', href: '#' }, ' Clear brushes');
      reset.addEventListener('click', (e) => {
        e.preventDefault();
        this.save({ brushes: {} });
      });
      note.append(reset);
    }
    return note;
  }

  private table(record: SweepRecord, rows: TrialRow[]): HTMLElement {
    const columns = [
      ...STATIC_COLUMNS,
      ...record.settings.parameters.map((p) => ({ column: p.key, label: p.key })),
      { column: 'value', label: record.settings.metric },
      { column: 'duration', label: 'Duration' },
    ];
    const { sort } = this.deps.settings;
    const head = h('tr');
    for (const c of columns) {
      const sorted = sort.column === c.column;
      const button = h('button', { class: 'sort', type: 'button', 'data-column': c.column }, c.label);
      button.addEventListener('click', () =>
        this.save({ sort: { column: c.column, descending: sorted ? !sort.descending : false } }),
      );
      head.append(
        h(
          'th',
          { scope: 'col', 'aria-sort': sorted ? (sort.descending ? 'descending' : 'ascending') : undefined },
          button,
        ),
      );
    }
    const body = h('tbody');
    for (const row of rows) {
      const tr = h('tr', { 'data-trial': row.number, class: row.number === record.best?.trial ? 'best' : undefined });
      tr.append(
        h('td', { class: 'num' }, String(row.number)),
        h('td', { class: `state state-${row.state}` }, row.state),
      );
      for (const p of record.settings.parameters) tr.append(h('td', { class: 'num' }, formatValue(row.params[p.key])));
      tr.append(
        h('td', { class: 'num' }, row.value === undefined ? '—' : formatNumber(row.value)),
        h('td', { class: 'num' }, row.durationMs === undefined ? '—' : formatDuration(row.durationMs / 1000)),
      );
      body.append(tr);
    }
    return h('table', { class: 'sweep-table' }, h('thead', {}, head), body);
  }

  private importance(record: SweepRecord): HTMLElement {
    const key = JSON.stringify([
      record.settings.parameters,
      record.trials.filter((t) => t.state === 'completed').map((t) => [t.number, t.value, t.params]),
    ]);
    if (this.importanceOf?.key !== key) this.importanceOf = { key, result: importances(record) };
    const { result } = this.importanceOf;
    const box = h('div', { class: 'importance' }, h('p', { class: 'muted method' }, `Method: ${IMPORTANCE_METHOD}.`));
    if (typeof result === 'string') {
      box.append(h('p', { class: 'muted' }, result));
      return box;
    }
    const list = h('table', { class: 'importance-table' });
    for (const { key, importance } of result) {
      const bar = h('progress', { max: 1, value: importance, 'aria-label': `${key} importance` });
      list.append(
        h(
          'tr',
          { 'data-param': key },
          h('th', { scope: 'row' }, key),
          h('td', {}, bar),
          h('td', { class: 'num' }, `${(importance * 100).toFixed(1)}%`),
        ),
      );
    }
    box.append(list);
    return box;
  }
}

function formatValue(v: ParameterValue | undefined): string {
  if (v === undefined) return '—';
  return typeof v === 'number' ? formatNumber(v) : String(v);
}
