import type { DistillationReport } from '../shared/run-directory.js';
import { h } from './dom.js';
import { formatNumber } from './format.js';

/**
 * A distillation run's teacher beside its student (final/distillation.json): each metric both
 * report (the teacher's from its own run, see run-directory.ts), then the parameter count and the
 * batch-1 latency of model.onnx, with the student's size and speed relative to the teacher.
 */
export function distillationTable(title: string, runId: string, r: DistillationReport): HTMLElement {
  const body = h('tbody');
  const row = (name: string, teacher: string, student: string, relative: string, note = '') =>
    body.append(
      h(
        'tr',
        { 'data-row': name },
        h('th', { scope: 'row', title: note }, name),
        h('td', { class: 'num teacher' }, teacher),
        h('td', { class: 'num student' }, student),
        h('td', { class: 'num relative' }, relative),
      ),
    );
  const names = [...new Set([...Object.keys(r.teacher.metrics), ...Object.keys(r.student.metrics)])];
  for (const n of names) {
    const t = r.teacher.metrics[n];
    const s = r.student.metrics[n];
    const delta = t !== undefined && s !== undefined ? `${s - t >= 0 ? '+' : ''}${formatNumber(s - t)}` : '—';
    row(n, t === undefined ? '—' : formatNumber(t), s === undefined ? '—' : formatNumber(s), delta);
  }
  row(
    'parameters',
    r.teacher.parameters.toLocaleString('en-US'),
    r.student.parameters.toLocaleString('en-US'),
    `${(r.teacher.parameters / r.student.parameters).toFixed(1)}× smaller`,
  );
  const t = r.teacher.latencyMs;
  const s = r.student.latencyMs;
  row(
    'latency (ms)',
    t === undefined ? '—' : t.toFixed(2),
    s === undefined ? '—' : s.toFixed(2),
    t !== undefined && s !== undefined ? `${(t / s).toFixed(1)}× faster` : '—',
    `model.onnx, batch 1, median of ${r.latency.examples} training rows, ${r.latency.threads} thread(s)`,
  );
  const head = h(
    'tr',
    {},
    h('th', { scope: 'col' }, ''),
    h('th', { scope: 'col', title: r.teacher.path }, 'Teacher'),
    h('th', { scope: 'col', title: r.student.path }, 'Student'),
    h('th', { scope: 'col' }, 'Student vs teacher'),
  );
  return h(
    'section',
    { class: 'distillation', 'data-run': runId },
    h('h3', {}, `Distillation: ${title}`),
    h(
      'p',
      { class: 'help' },
      "The teacher's metrics are those of its own run (final/metrics.json); latency is each model.onnx at batch 1.",
    ),
    h('table', { class: 'distillation-table' }, h('thead', {}, head), body),
  );
}
