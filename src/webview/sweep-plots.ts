import { formatNumber } from './format.js';
import { type Axis, axisValue, type Brushes, extent, type TrialRow } from './sweep-model.js';

/**
 * The Sweep view's two plots, as SVG built with createElementNS (no markup from data, no inline
 * style: colours come from classes in media/panel.css, so the panel's CSP holds):
 * - parallel coordinates: one vertical axis per parameter and one for the objective, a line per
 *   trial; dragging along an axis brushes a range of it (the table then shows only the trials
 *   inside every brushed range), a click on an axis clears its brush;
 * - the objective over trials: a point per completed trial and the best-so-far line.
 */
const NS = 'http://www.w3.org/2000/svg';
type SvgAttrs = Record<string, string | number>;

export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: SvgAttrs = {}, text?: string) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

const W = 800;
const H = 280;
const M = { top: 28, bottom: 24, left: 60, right: 60 };
const PLOT_H = H - M.top - M.bottom;
/** A drag shorter than this (in viewBox units) is a click: it clears the axis's brush. */
const CLICK = 3;

function axisX(i: number, n: number): number {
  return n <= 1 ? W / 2 : M.left + (i * (W - M.left - M.right)) / (n - 1);
}

function toY(axis: Axis, v: number): number {
  const [lo, hi] = axis.domain;
  return M.top + (1 - (v - lo) / (hi - lo)) * PLOT_H;
}

function fromY(axis: Axis, y: number): number {
  const [lo, hi] = axis.domain;
  const t = 1 - (Math.min(M.top + PLOT_H, Math.max(M.top, y)) - M.top) / PLOT_H;
  return lo + t * (hi - lo);
}

/** Tick labels: the choices of a categorical axis, else both ends and the middle (10^v on a log axis). */
function ticks(axis: Axis): { v: number; label: string }[] {
  if (axis.kind === 'categorical') return (axis.choices ?? []).map((c, i) => ({ v: i, label: String(c) }));
  const [lo, hi] = axis.domain;
  return [lo, (lo + hi) / 2, hi].map((v) => ({ v, label: formatNumber(axis.kind === 'log' ? 10 ** v : v) }));
}

export interface ParallelOptions {
  axes: Axis[];
  rows: TrialRow[];
  /** Trials inside the brushes (the others are drawn dimmed). */
  shown: ReadonlySet<number>;
  best: number | undefined;
  brushes: Brushes;
  onBrush(key: string, range: [number, number] | undefined): void;
}

export function parallelCoordinates(o: ParallelOptions): SVGSVGElement {
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'parcoords', role: 'img' });
  root.setAttribute('aria-label', 'Parallel coordinates of the trials: parameters and objective');
  const n = o.axes.length;
  const lines = svg('g', { class: 'pc-lines' });
  // Dimmed lines first, so the shown ones are drawn over them; the best trial last.
  const order = [...o.rows].sort(
    (a, b) =>
      Number(o.shown.has(a.number)) - Number(o.shown.has(b.number)) ||
      Number(a.number === o.best) - Number(b.number === o.best),
  );
  for (const row of order) {
    const points = o.axes.flatMap((axis, i) => {
      const v = axisValue(axis, row);
      return v === undefined ? [] : [`${axisX(i, n).toFixed(1)},${toY(axis, v).toFixed(1)}`];
    });
    if (points.length === 0) continue;
    const classes = ['pc-line', `state-${row.state}`];
    if (!o.shown.has(row.number)) classes.push('dimmed');
    if (row.number === o.best) classes.push('best');
    const line = svg('polyline', { points: points.join(' '), class: classes.join(' '), 'data-trial': row.number });
    line.append(svg('title', {}, `trial ${row.number}`));
    lines.append(line);
  }
  root.append(lines);
  o.axes.forEach((axis, i) => {
    root.append(axisGroup(root, axis, axisX(i, n), o));
  });
  return root;
}

function axisGroup(root: SVGSVGElement, axis: Axis, x: number, o: ParallelOptions): SVGGElement {
  const g = svg('g', { class: 'pc-axis', 'data-axis': axis.key });
  g.append(svg('line', { x1: x, x2: x, y1: M.top, y2: M.top + PLOT_H, class: 'axis-line' }));
  g.append(svg('text', { x, y: M.top - 12, 'text-anchor': 'middle', class: 'axis-title' }, axis.label));
  for (const t of ticks(axis)) {
    const y = toY(axis, t.v);
    g.append(svg('line', { x1: x - 3, x2: x, y1: y, y2: y, class: 'axis-line' }));
    g.append(svg('text', { x: x - 6, y: y + 3, 'text-anchor': 'end', class: 'tick' }, t.label));
  }
  const range = o.brushes[axis.key];
  const brush = svg('rect', { x: x - 8, width: 16, class: 'brush', y: 0, height: 0 });
  const place = (a: number, b: number) => {
    brush.setAttribute('y', String(Math.min(a, b)));
    brush.setAttribute('height', String(Math.abs(b - a)));
  };
  if (range) place(toY(axis, range[0]), toY(axis, range[1]));
  else brush.setAttribute('visibility', 'hidden');
  g.append(brush);
  // The hit area: wider than the axis, transparent, where drags start.
  const hit = svg('rect', { x: x - 14, y: M.top, width: 28, height: PLOT_H, class: 'axis-hit', fill: 'transparent' });
  g.append(hit);
  const viewY = (clientY: number) => {
    const box = root.getBoundingClientRect();
    return ((clientY - box.top) * H) / (box.height || H);
  };
  hit.addEventListener('pointerdown', (down) => {
    down.preventDefault();
    const y0 = viewY(down.clientY);
    let y1 = y0;
    hit.setPointerCapture(down.pointerId);
    brush.removeAttribute('visibility');
    place(y0, y0);
    const move = (e: PointerEvent) => {
      y1 = viewY(e.clientY);
      place(y0, y1);
    };
    const up = () => {
      hit.removeEventListener('pointermove', move);
      hit.removeEventListener('pointerup', up);
      hit.removeEventListener('pointercancel', up);
      if (Math.abs(y1 - y0) < CLICK) o.onBrush(axis.key, undefined);
      else {
        const a = fromY(axis, y0);
        const b = fromY(axis, y1);
        o.onBrush(axis.key, [Math.min(a, b), Math.max(a, b)]);
      }
    };
    hit.addEventListener('pointermove', move);
    hit.addEventListener('pointerup', up);
    hit.addEventListener('pointercancel', up);
  });
  return g;
}

/** The objective of each completed trial (points) and the best so far (a step line). */
export function objectiveChart(
  points: { number: number; value: number; best: number }[],
  metric: string,
  trials: number,
): SVGSVGElement {
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'objective-chart', role: 'img' });
  root.setAttribute('aria-label', `${metric} of each completed trial, and the best so far`);
  // No completed trial yet: an empty chart on [0, 1], never NaN coordinates.
  const [lo, hi] = extent(points.map((p) => p.value));
  const last = Math.max(1, trials - 1);
  const x = (n: number) => M.left + (n / last) * (W - M.left - M.right);
  const y = (v: number) => M.top + (1 - (v - lo) / (hi - lo)) * PLOT_H;
  root.append(svg('line', { x1: M.left, x2: M.left, y1: M.top, y2: M.top + PLOT_H, class: 'axis-line' }));
  root.append(svg('line', { x1: M.left, x2: W - M.right, y1: M.top + PLOT_H, y2: M.top + PLOT_H, class: 'axis-line' }));
  for (const v of [lo, (lo + hi) / 2, hi])
    root.append(svg('text', { x: M.left - 6, y: y(v) + 3, 'text-anchor': 'end', class: 'tick' }, formatNumber(v)));
  root.append(svg('text', { x: M.left, y: M.top - 12, class: 'axis-title' }, metric));
  root.append(
    svg('text', { x: W - M.right, y: H - 4, 'text-anchor': 'end', class: 'axis-title' }, `trial (0–${last})`),
  );
  let path = '';
  points.forEach((p, i) => {
    path += i === 0 ? `M${x(p.number)},${y(p.best)}` : `H${x(p.number)}V${y(p.best)}`;
  });
  if (points.length > 0) {
    path += `H${x(last)}`;
    root.append(svg('path', { d: path, class: 'best-line' }));
  }
  for (const p of points) {
    const dot = svg('circle', { cx: x(p.number), cy: y(p.value), r: 4, class: 'point', 'data-trial': p.number });
    dot.append(svg('title', {}, `trial ${p.number}: ${formatNumber(p.value)}`));
    root.append(dot);
  }
  return root;
}
