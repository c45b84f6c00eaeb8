import { h } from './dom.js';
import type { RunData } from './run-data.js';

/**
 * The sample generations of a translation or summarization run (its `samples` events): one table,
 * newest evaluation first, a row per sample with its source, reference and the model's prediction;
 * the step heads each evaluation's rows. The newest MAX_EVALUATIONS evaluations are shown.
 */
export const MAX_EVALUATIONS = 20;

export function samplesTable(title: string, run: RunData): HTMLElement | undefined {
  if (run.samples.length === 0) return undefined;
  const body = h('tbody');
  for (const set of [...run.samples].reverse().slice(0, MAX_EVALUATIONS)) {
    set.samples.forEach((s, i) => {
      const row = h('tr', { 'data-step': String(set.step) });
      if (i === 0)
        row.append(h('th', { scope: 'rowgroup', class: 'num', rowspan: String(set.samples.length) }, String(set.step)));
      row.append(
        h('td', { class: 'sample-source' }, s.source),
        h('td', { class: 'sample-reference' }, s.reference),
        h('td', { class: 'sample-prediction' }, s.prediction),
      );
      body.append(row);
    });
  }
  const head = h(
    'tr',
    {},
    h('th', { scope: 'col' }, 'Step'),
    h('th', { scope: 'col' }, 'Source'),
    h('th', { scope: 'col' }, 'Reference'),
    h('th', { scope: 'col' }, 'Prediction'),
  );
  return h(
    'section',
    { class: 'samples', 'data-run': run.info.id },
    h('h3', {}, `Sample generations: ${title}`),
    h('table', { class: 'samples-table' }, h('thead', {}, head), body),
  );
}
