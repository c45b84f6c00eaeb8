import { Chart, type ChartSeries } from './chart.js';
import { chartTitle, sharedTask } from './chart-titles.js';
import { checkbox, dropdown, slider } from './components.js';
import { clear, h, themeColor } from './dom.js';
import type { RunData, XAxis } from './run-data.js';
import { X_AXES } from './run-data.js';
import { type EmaState, emaExtend, emaStart } from './smoothing.js';

/**
 * The Charts tab: training loss (raw and smoothed), evaluation loss, one chart per evaluation
 * metric (a masked-LM run's perplexity and masked-token accuracy among them), learning rate; a
 * toolbar for the x axis, the smoothing weight and which runs are shown.
 * Updates are coalesced into one redraw per animation frame, however many event batches arrive.
 */
export interface ChartSettings {
  xAxis: XAxis;
  smoothing: number;
  hiddenRuns: string[];
}

export interface ChartsHost {
  settings: ChartSettings;
  saveSettings(settings: ChartSettings): void;
  exportPng(fileName: string, dataUrl: string): void;
}

/** VS Code's chart colours, in the order runs get them; fallbacks for outside VS Code. */
const PALETTE: [string, string][] = [
  ['--vscode-charts-blue', '#3794ff'],
  ['--vscode-charts-orange', '#d18616'],
  ['--vscode-charts-green', '#388a34'],
  ['--vscode-charts-purple', '#652d90'],
  ['--vscode-charts-red', '#e51400'],
  ['--vscode-charts-yellow', '#bf8803'],
];

interface Smoothed {
  generation: number;
  state: EmaState;
  values: (number | null)[];
}

const X_AXIS_LABELS: Record<XAxis, string> = {
  step: 'Step',
  epoch: 'Epoch',
  relative: 'Relative time',
  wall: 'Wall time',
};

export class ChartsView {
  readonly element = h('div', { class: 'charts-view' });
  private readonly charts = new Map<string, Chart>();
  private readonly grid = h('div', { class: 'charts' });
  private readonly runToggles = h('div', { class: 'run-toggles', role: 'group', 'aria-label': 'Runs shown' });
  private readonly smoothingValue = h('span', { class: 'slider-value' });
  private readonly smoothed = new Map<string, Smoothed>();
  private runs: RunData[] = [];
  private labels = new Map<string, string>();
  private frame = 0;

  constructor(private readonly host: ChartsHost) {
    const s = host.settings;
    const x = dropdown({
      label: 'X axis',
      choices: X_AXES.map((a) => ({ value: a, label: X_AXIS_LABELS[a] })),
      value: s.xAxis,
    });
    x.onChange((v) => this.change({ xAxis: v as XAxis }));
    const smoothing = slider({ label: 'Smoothing', min: 0, max: 0.999, step: 0.001, value: s.smoothing });
    smoothing.element.classList.add('smoothing');
    smoothing.onChange((v) => this.change({ smoothing: v }));
    this.smoothingValue.textContent = s.smoothing.toFixed(3);
    this.element.append(
      h(
        'div',
        { class: 'toolbar' },
        h('label', { class: 'tool' }, 'X axis ', x.element),
        h('label', { class: 'tool' }, 'Smoothing ', smoothing.element, this.smoothingValue),
        this.runToggles,
      ),
      this.grid,
    );
    // VS Code switches theme by changing the body's class; canvas colours must follow.
    new MutationObserver(() => {
      for (const c of this.charts.values()) c.restyle();
      this.schedule();
    }).observe(document.body, { attributes: true, attributeFilter: ['class'] });
  }

  /** The runs shown and their legend labels changed. */
  setRuns(runs: RunData[], labels: Map<string, string>): void {
    this.runs = runs;
    this.labels = labels;
    clear(this.runToggles);
    const hidden = new Set(this.host.settings.hiddenRuns);
    runs.forEach((run, i) => {
      const c = checkbox({ label: labels.get(run.info.id) ?? run.info.id, checked: !hidden.has(run.info.id) });
      c.element.dataset.run = run.info.id;
      c.element.classList.add('run-toggle', `run-color-${i % PALETTE.length}`);
      c.onChange((shown) => {
        const next = new Set(this.host.settings.hiddenRuns);
        if (shown) next.delete(run.info.id);
        else next.add(run.info.id);
        this.change({ hiddenRuns: [...next] });
      });
      this.runToggles.append(c.element);
    });
    this.runToggles.hidden = runs.length < 2;
    this.schedule();
  }

  /** New events arrived; the next frame redraws. */
  schedule(): void {
    if (this.frame !== 0) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.redraw();
    });
  }

  private change(patch: Partial<ChartSettings>): void {
    const next = { ...this.host.settings, ...patch };
    this.host.saveSettings(next);
    this.smoothingValue.textContent = next.smoothing.toFixed(3);
    if (patch.smoothing !== undefined) this.smoothed.clear();
    this.schedule();
  }

  private redraw(): void {
    // With each chart's 'finetune:redraw' measure, this gives the cost of a whole frame (benchmark).
    performance.mark('finetune:frame');
    const { xAxis, smoothing } = this.host.settings;
    const hidden = new Set(this.host.settings.hiddenRuns);
    const shown = this.runs.map((run, i) => ({ run, color: runColor(i) })).filter((r) => !hidden.has(r.run.info.id));
    const wanted: { id: string; title: string; series: ChartSeries[] }[] = [];
    const task = sharedTask(shown.map(({ run }) => run.info.config));

    const loss: ChartSeries[] = [];
    for (const { run, color } of shown) {
      const label = this.labels.get(run.info.id) ?? run.info.id;
      const x = run.train[xAxis];
      if (smoothing > 0) {
        loss.push({ label: `${label} raw`, color, x, y: run.train.loss, width: 1, alpha: 0.3 });
        loss.push({ label, color, x, y: this.smooth(run, smoothing), width: 2 });
      } else {
        loss.push({ label, color, x, y: run.train.loss, width: 1.5 });
      }
    }
    wanted.push({ id: 'loss', title: chartTitle('loss', task), series: loss });

    const metricNames: string[] = [];
    for (const { run } of shown)
      for (const name of run.evals.metrics.keys()) if (!metricNames.includes(name)) metricNames.push(name);
    metricNames.sort((a, b) => (a === 'loss' ? -1 : b === 'loss' ? 1 : 0));
    for (const name of metricNames) {
      const series = shown
        .filter(({ run }) => run.evals.metrics.has(name))
        .map(({ run, color }) => ({
          label: this.labels.get(run.info.id) ?? run.info.id,
          color,
          x: run.evals[xAxis],
          y: run.evals.metrics.get(name) ?? [],
          width: 2,
          points: true,
        }));
      wanted.push({ id: `eval-${name}`, title: chartTitle(`eval-${name}`, task), series });
    }

    const lr = shown.map(({ run, color }) => ({
      label: this.labels.get(run.info.id) ?? run.info.id,
      color,
      x: run.train[xAxis],
      y: run.train.lr,
      width: 1.5,
    }));
    wanted.push({ id: 'lr', title: chartTitle('lr', task), series: lr });

    const order: HTMLElement[] = [];
    for (const w of wanted) {
      let chart = this.charts.get(w.id);
      // Another title (the runs shown now share a task, or no longer do): a new chart says it.
      if (chart && chart.title !== w.title) {
        chart.destroy();
        chart.element.remove();
        chart = undefined;
      }
      if (!chart) {
        chart = new Chart(w.id, w.title, (name, url) => this.host.exportPng(name, url));
        this.charts.set(w.id, chart);
      }
      order.push(chart.element);
      if (chart.element.parentElement !== this.grid) this.grid.append(chart.element);
      chart.set(w.series, xAxis);
    }
    for (const [id, chart] of this.charts) {
      if (!wanted.some((w) => w.id === id)) {
        chart.destroy();
        chart.element.remove();
        this.charts.delete(id);
      }
    }
    // Keep the charts in the wanted order (a new metric appears before the learning rate).
    order.forEach((el, i) => {
      if (this.grid.children[i] !== el) this.grid.insertBefore(el, this.grid.children[i] ?? null);
    });
  }

  /** The smoothed loss of a run, extended by the points added since the last frame. */
  private smooth(run: RunData, weight: number): (number | null)[] {
    let s = this.smoothed.get(run.info.id);
    if (!s || s.generation !== run.generation || s.state.weight !== weight || s.values.length > run.train.loss.length) {
      s = { generation: run.generation, state: emaStart(weight), values: [] };
      this.smoothed.set(run.info.id, s);
    }
    emaExtend(s.state, run.train.loss, s.values, s.values.length);
    return s.values;
  }
}

export function runColor(index: number): string {
  const [name, fallback] = PALETTE[index % PALETTE.length] as [string, string];
  return themeColor(name, fallback);
}
