import { LOWER_IS_BETTER } from '../shared/config-rules.js';
import type { ConfusionMatrix } from '../shared/messages.js';
import { distillationTable } from './distill-view.js';
import { clear, h } from './dom.js';
import { formatNumber } from './format.js';
import { metricSummary, type RunData } from './run-data.js';
import { samplesTable } from './samples-view.js';

/**
 * The Metrics tab: per run, the best value of each evaluation metric (higher is better, lower for
 * loss and perplexity) and the final one (final/metrics.json when the run wrote it, else the last
 * evaluation); the confusion matrix of classification runs; the sample generations of
 * translation and summarization runs (samples-view.ts); a distillation run's teacher beside its
 * student (distill-view.ts).
 */
export class MetricsView {
  readonly element = h('div', { class: 'metrics-view' });

  render(runs: RunData[], labels: Map<string, string>): void {
    clear(this.element);
    if (runs.length === 0) {
      this.element.append(h('p', { class: 'muted' }, 'No runs yet.'));
      return;
    }
    const names: string[] = [];
    const add = (n: string) => {
      if (!names.includes(n)) names.push(n);
    };
    for (const run of runs) {
      for (const n of run.evals.metrics.keys()) add(n);
      for (const [n, v] of Object.entries(run.info.finalMetrics ?? {})) if (typeof v === 'number') add(n);
    }
    const head = h(
      'tr',
      {},
      h('th', { scope: 'col' }, 'Run'),
      h('th', { scope: 'col' }, 'State'),
      h('th', { scope: 'col' }, 'Steps'),
    );
    for (const n of names)
      head.append(h('th', { scope: 'col', title: LOWER_IS_BETTER.has(n) ? 'lower is better' : 'higher is better' }, n));
    const body = h('tbody');
    for (const run of runs) {
      const status = run.info.status;
      const row = h(
        'tr',
        { 'data-run': run.info.id },
        h('th', { scope: 'row', title: run.info.dir }, labels.get(run.info.id) ?? run.info.id),
        h('td', { class: `state state-${status?.state ?? 'unknown'}` }, status?.state ?? '—'),
        h('td', { class: 'num' }, status ? `${status.step} / ${status.totalSteps}` : '—'),
      );
      for (const n of names) {
        const s = metricSummary(run, n);
        const fin = run.info.finalMetrics?.[n];
        const final = typeof fin === 'number' ? fin : s.last;
        const cell = h('td', { class: 'num' });
        cell.append(
          h(
            'span',
            { class: 'best', title: s.bestStep === undefined ? '' : `best at step ${s.bestStep}` },
            s.best === undefined ? '—' : formatNumber(s.best),
          ),
          h('span', { class: 'muted' }, ' / '),
          h(
            'span',
            { class: 'final', title: typeof fin === 'number' ? 'final/metrics.json' : 'last evaluation' },
            final === undefined ? '—' : formatNumber(final),
          ),
        );
        row.append(cell);
      }
      body.append(row);
    }
    this.element.append(
      h('h2', {}, 'Metrics'),
      h('p', { class: 'help' }, 'Each cell: best / final.'),
      h('table', { class: 'metrics-table' }, h('thead', {}, head), body),
    );
    for (const run of runs) {
      const cm = run.info.finalMetrics?.confusion_matrix;
      if (isConfusionMatrix(cm)) this.element.append(confusionMatrix(labels.get(run.info.id) ?? run.info.id, cm));
    }
    for (const run of runs) {
      const d = run.info.distillation;
      if (d) this.element.append(distillationTable(labels.get(run.info.id) ?? run.info.id, run.info.id, d));
    }
    for (const run of runs) {
      const samples = samplesTable(labels.get(run.info.id) ?? run.info.id, run);
      if (samples) this.element.append(samples);
    }
  }
}

function isConfusionMatrix(v: unknown): v is ConfusionMatrix {
  const cm = v as ConfusionMatrix | undefined;
  return (
    !!cm &&
    Array.isArray(cm.labels) &&
    Array.isArray(cm.matrix) &&
    cm.matrix.length === cm.labels.length &&
    cm.matrix.every((row) => Array.isArray(row) && row.length === cm.labels.length)
  );
}

/** Rows are the true labels, columns the predicted ones; shading by the share of the row. */
function confusionMatrix(title: string, cm: ConfusionMatrix): HTMLElement {
  const head = h('tr', {}, h('th', { class: 'corner', scope: 'col' }, 'true \\ predicted'));
  for (const l of cm.labels) head.append(h('th', { scope: 'col' }, String(l)));
  const body = h('tbody');
  cm.matrix.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    const tr = h('tr', {}, h('th', { scope: 'row' }, String(cm.labels[i])));
    row.forEach((count, j) => {
      const share = total > 0 ? count / total : 0;
      const cell = h(
        'td',
        { class: i === j ? 'num diagonal' : 'num', title: `${(share * 100).toFixed(1)}% of ${String(cm.labels[i])}` },
        String(count),
      );
      // A custom property set through the CSSOM, which the CSP allows (style attributes it does not).
      cell.style.setProperty('--share', share.toFixed(3));
      tr.append(cell);
    });
    body.append(tr);
  });
  return h(
    'section',
    { class: 'confusion' },
    h('h3', {}, `Confusion matrix: ${title}`),
    h('table', { class: 'confusion-matrix' }, h('thead', {}, head), body),
  );
}
