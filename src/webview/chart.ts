import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { button } from './components.js';
import { h, themeColor } from './dom.js';
import { formatDuration, formatNumber, formatTick } from './format.js';
import type { XAxis } from './run-data.js';

/**
 * One line chart on a canvas (uPlot: draws 100k points in a few milliseconds, with drag-to-zoom,
 * double-click to reset and a legend that reads out the values under the cursor). Series may have
 * x columns of their own (runs overlaid): those are merged with uPlot.join, a run's missing
 * points becoming gaps that lines span. The chart is rebuilt only when its series change; new
 * points are a setData on the same arrays.
 */
export interface ChartSeries {
  label: string;
  color: string;
  x: number[];
  y: (number | null)[];
  width?: number;
  /** 0..1; the raw line under a smoothed one is faint. */
  alpha?: number;
  /** Draw the points too (evaluations are few). */
  points?: boolean;
}

const HEIGHT = 220;

const X_LABELS: Record<XAxis, string> = {
  step: 'step',
  epoch: 'epoch',
  relative: 'time since start',
  wall: 'wall time',
};

export class Chart {
  readonly element: HTMLElement;
  private readonly plotBox: HTMLElement;
  private plot: uPlot | undefined;
  private structure = '';
  private series: ChartSeries[] = [];
  private xAxis: XAxis = 'step';
  private zoomed = false;
  private redrawStart: number | undefined;
  private readonly resizeObserver: ResizeObserver;

  constructor(
    readonly id: string,
    readonly title: string,
    private readonly onExport: (fileName: string, dataUrl: string) => void,
  ) {
    this.plotBox = h('div', { class: 'plot' });
    const exportButton = button({
      label: 'Export PNG',
      title: `Save "${title}" as a PNG image`,
      onClick: () => this.exportPng(),
    });
    this.element = h(
      'section',
      { class: 'chart', 'data-chart': id },
      h('div', { class: 'chart-title' }, h('h3', {}, title), exportButton),
      this.plotBox,
    );
    this.resizeObserver = new ResizeObserver(() => this.layout());
    this.resizeObserver.observe(this.plotBox);
  }

  /** Shows these series; cheap when only their data grew since the last call. */
  set(series: ChartSeries[], xAxis: XAxis): void {
    const structure = JSON.stringify([xAxis, series.map((s) => [s.label, s.color, s.width, s.alpha, s.points])]);
    this.series = series;
    this.xAxis = xAxis;
    this.element.dataset.points = String(Math.max(0, ...series.map((s) => s.x.length)));
    this.element.dataset.series = String(series.length);
    this.redrawStart = performance.now();
    if (structure !== this.structure || !this.plot) {
      this.structure = structure;
      this.rebuild();
    } else {
      this.plot.setData(this.data(), !this.zoomed);
    }
  }

  /** Rebuilds with the current theme's colours. */
  restyle(): void {
    this.structure = '';
    if (this.plot) this.rebuild();
  }

  destroy(): void {
    this.resizeObserver.disconnect();
    this.plot?.destroy();
    this.plot = undefined;
  }

  private data(): uPlot.AlignedData {
    const xs = [...new Set(this.series.map((s) => s.x))];
    if (xs.length <= 1) return [xs[0] ?? [], ...this.series.map((s) => s.y)] as uPlot.AlignedData;
    const tables = xs.map((x) => [x, ...this.series.filter((s) => s.x === x).map((s) => s.y)] as uPlot.AlignedData);
    return uPlot.join(tables);
  }

  /** Series in the order data() lays out their columns: grouped by x column. */
  private ordered(): ChartSeries[] {
    const xs = [...new Set(this.series.map((s) => s.x))];
    return xs.flatMap((x) => this.series.filter((s) => s.x === x));
  }

  private layout(): void {
    const width = this.plotBox.clientWidth;
    if (width === 0) return; // a hidden tab: built when shown
    if (!this.plot) {
      if (this.structure !== '') this.rebuild();
      return;
    }
    if (Math.abs(this.plot.width - width) > 1) this.plot.setSize({ width, height: HEIGHT });
  }

  private rebuild(): void {
    this.plot?.destroy();
    this.plot = undefined;
    this.zoomed = false;
    const width = this.plotBox.clientWidth;
    if (width === 0) return;
    this.series = this.ordered();
    const fg = themeColor('--vscode-foreground', '#616161');
    const grid = themeColor('--vscode-editorWidget-border', 'rgba(128,128,128,0.35)');
    const time = this.xAxis === 'wall';
    const xValues =
      this.xAxis === 'relative'
        ? (_u: uPlot, splits: number[]) => splits.map((v) => formatDuration(v))
        : this.xAxis === 'epoch'
          ? (_u: uPlot, splits: number[], _axis: number, _space: number, incr: number) =>
              splits.map((v) => formatTick(v, incr))
          : undefined;
    const opts: uPlot.Options = {
      width,
      height: HEIGHT,
      scales: { x: { time } },
      series: [
        {
          label: X_LABELS[this.xAxis],
          value: (_u, v) => (v == null ? '—' : time ? new Date(v * 1000).toLocaleString() : this.xText(v)),
        },
        ...this.series.map(
          (s): uPlot.Series => ({
            label: s.label,
            stroke: s.color,
            width: s.width ?? 1.5,
            alpha: s.alpha ?? 1,
            spanGaps: true,
            points: s.points ? { show: true, size: 5, fill: s.color } : { show: false },
            value: (_u, v) => (v == null ? '—' : formatNumber(v)),
          }),
        ),
      ],
      axes: [
        {
          stroke: fg,
          grid: { stroke: grid, width: 1 },
          ticks: { stroke: grid, width: 1 },
          ...(xValues ? { values: xValues } : {}),
        },
        {
          stroke: fg,
          grid: { stroke: grid, width: 1 },
          ticks: { stroke: grid, width: 1 },
          // Wide enough for the longest label (learning rates read like 1.995e-5).
          size: (_u, values) => 18 + 7 * Math.max(3, ...(values ?? []).map((v) => v.length)),
          values: (_u, splits, _axis, _space, incr) => splits.map((v) => formatTick(v, incr)),
        },
      ],
      cursor: { drag: { x: true, y: false, setScale: true } },
      legend: { live: true },
      hooks: {
        setSelect: [
          (u) => {
            if (u.select.width > 0) this.zoomed = true;
          },
        ],
        draw: [() => this.drawn()],
      },
    };
    this.plot = new uPlot(opts, this.data(), this.plotBox);
    this.plot.over.addEventListener('dblclick', () => {
      this.zoomed = false;
    });
  }

  private xText(v: number): string {
    return this.xAxis === 'relative' ? formatDuration(v) : String(Number(v.toFixed(3)));
  }

  /** User Timing entries, read by the benchmark and visible in the webview's developer tools. */
  private drawn(): void {
    if (this.redrawStart === undefined) return;
    const ms = performance.now() - this.redrawStart;
    performance.measure('finetune:redraw', { start: this.redrawStart, detail: { chart: this.id } });
    this.element.dataset.redrawMs = ms.toFixed(2);
    this.redrawStart = undefined;
  }

  /** The chart with its title and legend on the editor's background, as a PNG data URL. */
  private exportPng(): void {
    const plot = this.plot;
    if (!plot) return;
    const src = plot.ctx.canvas;
    const ratio = src.width / plot.width;
    const line = Math.round(18 * ratio);
    const canvas = document.createElement('canvas');
    canvas.width = src.width;
    canvas.height = src.height + line * (2 + this.series.length);
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    ctx.fillStyle = themeColor('--vscode-editor-background', '#ffffff');
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    const fg = themeColor('--vscode-foreground', '#333333');
    ctx.fillStyle = fg;
    ctx.font = `${Math.round(13 * ratio)}px sans-serif`;
    ctx.textBaseline = 'middle';
    ctx.fillText(this.title, line / 2, line * 0.75);
    ctx.drawImage(src, 0, line * 1.5);
    this.series.forEach((s, i) => {
      const y = src.height + line * (2 + i);
      ctx.globalAlpha = s.alpha ?? 1;
      ctx.fillStyle = s.color;
      ctx.fillRect(line / 2, y - line / 4, line, line / 2);
      ctx.globalAlpha = 1;
      ctx.fillStyle = fg;
      ctx.fillText(s.label, line * 2, y);
    });
    const name = `${this.title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}.png`;
    this.onExport(name, canvas.toDataURL('image/png'));
  }
}
