import type { ConfigState, HostMessage, PanelTarget, ReplyMessage, RunInfo } from '../shared/messages.js';
import type { RunEvent } from '../shared/run-directory.js';
import type { ChartSettings } from './charts-view.js';
import { ChartsView } from './charts-view.js';
import { CHAT_DEFAULTS, type ChatSettings, ChatView } from './chat-view.js';
import { differingHyperparameters, legendLabel } from './compare.js';
import { registerComponents, tabs } from './components.js';
import { DATA_DEFAULTS, type DataSettings, DataTab } from './data-view.js';
import { clear, h } from './dom.js';
import { ConfigForm } from './form.js';
import { Header } from './header.js';
import { HostConnection } from './host.js';
import { type LogSettings, LogsView } from './logs-view.js';
import { MetricsView } from './metrics-view.js';
import { PLAYGROUND_DEFAULTS, type PlaygroundSettings, PlaygroundView } from './playground-view.js';
import { appendEvents, newRunData, type RunData } from './run-data.js';
import { SWEEP_DEFAULTS, type SweepSettings, SweepView } from './sweep-view.js';

/**
 * The run panel's entry point: builds the tabs, keeps the runs' data, and routes the host's
 * messages to the views. What the user chose (tab, axis, smoothing, filters, selected run) is kept
 * with setState, so hiding and showing the panel (which reloads this page) restores it; the data
 * itself comes back with the host's `init`.
 */
interface PanelState {
  /** Read by the host's WebviewPanelSerializer after a window reload. */
  target?: PanelTarget;
  tab: string;
  charts: ChartSettings;
  logs: LogSettings;
  chat: ChatSettings;
  sweep: SweepSettings;
  playground: PlaygroundSettings;
  data: DataSettings;
  selectedRun: string | undefined;
}

const DEFAULTS: PanelState = {
  tab: 'charts',
  charts: { xAxis: 'step', smoothing: 0.6, hiddenRuns: [] },
  logs: { level: 'info', search: '', follow: true },
  chat: CHAT_DEFAULTS,
  sweep: SWEEP_DEFAULTS,
  playground: PLAYGROUND_DEFAULTS,
  data: DATA_DEFAULTS,
  selectedRun: undefined,
};

class Panel {
  private readonly connection: HostConnection<PanelState>;
  private state: PanelState;
  private readonly runs = new Map<string, RunData>();
  private labels = new Map<string, string>();
  private config: ConfigState | undefined;
  private trusted = true;
  private readonly header: Header;
  private readonly form: ConfigForm;
  private readonly charts: ChartsView;
  private readonly logs: LogsView;
  private readonly metrics = new MetricsView();
  private readonly chat: ChatView;
  private readonly sweep: SweepView;
  private tabs: HTMLElement | undefined;
  private readonly playground: PlaygroundView;
  private readonly data: DataTab;
  private readonly notice = h('div', { class: 'notice', role: 'status' });

  constructor(root: HTMLElement) {
    this.connection = new HostConnection<PanelState>((m) => this.receive(m));
    const saved = this.connection.state;
    this.state = {
      ...DEFAULTS,
      ...saved,
      charts: { ...DEFAULTS.charts, ...saved?.charts },
      logs: { ...DEFAULTS.logs, ...saved?.logs },
      chat: { ...DEFAULTS.chat, ...saved?.chat, transcript: [...(saved?.chat?.transcript ?? [])] },
      sweep: { ...DEFAULTS.sweep, ...saved?.sweep },
      playground: { ...DEFAULTS.playground, ...saved?.playground },
      data: { ...DEFAULTS.data, ...saved?.data },
    };
    const panel = this;
    this.header = new Header({
      get hasConfig() {
        return panel.config !== undefined;
      },
      get trusted() {
        return panel.trusted;
      },
      selectRun: (id) => {
        this.save({ selectedRun: id });
        this.runsChanged();
      },
      command: (command, runId) =>
        this.connection.request(
          runId === undefined ? { type: 'command', command } : { type: 'command', command, runId },
        ),
    });
    this.form = new ConfigForm((path, value) => {
      this.connection.request({ type: 'editConfig', path, value }).catch((err: Error) => this.showNotice(err.message));
    });
    this.charts = new ChartsView({
      get settings() {
        return panel.state.charts;
      },
      saveSettings: (charts) => this.save({ charts }),
      exportPng: (fileName, dataUrl) => {
        this.connection
          .request({ type: 'exportPng', fileName, dataUrl })
          .then(() => this.showNotice(`Saved ${fileName}.`))
          .catch((err: Error) => this.showNotice(`Export failed: ${err.message}`));
      },
    });
    this.logs = new LogsView({
      get settings() {
        return panel.state.logs;
      },
      saveSettings: (logs) => this.save({ logs }),
    });
    this.chat = new ChatView({
      get settings() {
        return panel.state.chat;
      },
      saveSettings: (chat) => this.save({ chat }),
      request: (body) => this.connection.request(body),
    });
    this.sweep = new SweepView({
      get settings() {
        return panel.state.sweep;
      },
      saveSettings: (sweep) => this.save({ sweep }),
      applyBest: (trial) => this.connection.request({ type: 'applyBest', trial }),
      notice: (text) => this.showNotice(text),
    });
    this.playground = new PlaygroundView({
      get settings() {
        return panel.state.playground;
      },
      saveSettings: (playground) => this.save({ playground }),
      request: (body) => this.connection.request(body),
    });
    this.data = new DataTab({
      get settings() {
        return panel.state.data;
      },
      saveSettings: (data) => this.save({ data }),
      get hasConfig() {
        return panel.config !== undefined;
      },
      request: (body) => this.connection.request(body),
    });
    clear(root);
    this.notice.hidden = true;
    this.tabs = tabs(
      [
        { id: 'sweep', label: 'Sweep', content: this.sweep.element },
        { id: 'charts', label: 'Charts', content: this.charts.element },
        { id: 'config', label: 'Hyperparameters', content: this.form.element },
        { id: 'logs', label: 'Logs', content: this.logs.element },
        { id: 'metrics', label: 'Metrics', content: this.metrics.element },
        { id: 'data', label: 'Data', content: this.data.element },
        { id: 'playground', label: 'Playground', content: this.playground.element },
        { id: 'chat', label: 'Chat', content: this.chat.element },
      ],
      this.state.tab,
      (tab) => {
        this.save({ tab });
        this.data.setVisible(tab === 'data');
      },
    );
    this.data.setVisible(this.state.tab === 'data');
    this.showSweepTab(this.state.target?.sweepDir !== undefined);
    root.append(this.header.element, this.notice, this.tabs);
    this.form.update(undefined);
    this.connection.post({ type: 'ready' });
  }

  private save(patch: Partial<PanelState>): void {
    this.state = { ...this.state, ...patch };
    this.connection.state = this.state;
  }

  private receive(m: Exclude<HostMessage, ReplyMessage>): void {
    switch (m.type) {
      case 'init': {
        this.runs.clear();
        this.trusted = m.trusted;
        // A panel opened on a sweep starts on its Sweep tab; after that the user's tab is kept.
        const firstSweep = m.sweep !== undefined && this.state.target?.sweepDir !== m.target.sweepDir;
        this.save({ target: m.target, ...(firstSweep ? { tab: 'sweep' } : {}) });
        this.showSweepTab(m.sweep !== undefined);
        this.sweep.update(m.sweep);
        for (const snapshot of m.runs) this.addRun(snapshot, snapshot.events);
        this.setConfig(m.config);
        this.runsChanged();
        break;
      }
      case 'sweep':
        this.sweep.update(m.sweep);
        break;
      case 'config':
        this.setConfig(m.config);
        break;
      case 'events':
        for (const { runId, events } of m.runs) this.appendTo(runId, events);
        this.header.refresh();
        break;
      case 'run': {
        this.data.runUpdated(m.run.id);
        const known = this.runs.get(m.run.id);
        if (known && m.events === undefined) {
          const sameConfig = JSON.stringify(known.info.config) === JSON.stringify(m.run.config);
          known.info = m.run;
          // Status updates come several times a second: only a new config changes the legends.
          if (sameConfig) {
            this.header.refresh();
            this.metrics.render(this.ordered(), this.labels);
            break;
          }
        } else {
          this.addRun(m.run, m.events ?? []);
          // A run that appears while the panel is open was just started: show it.
          if (!known) this.save({ selectedRun: m.run.id });
        }
        this.runsChanged();
        break;
      }
      case 'runRemoved':
        this.runs.delete(m.runId);
        this.runsChanged();
        break;
      case 'chatModels':
        this.chat.models(m);
        break;
      case 'chatReady':
        this.chat.ready(m.chatId, m.chat);
        break;
      case 'chatToken':
        this.chat.token(m.chatId, m.text);
        break;
      case 'chatDone':
        this.chat.done(m.chatId, m.stoppedBy, m.tokens);
        break;
      case 'dataReport':
        this.data.report(m);
        break;
      case 'showData':
        this.tabs?.setAttribute('activeid', 'tab-data');
        this.save({ tab: 'data' });
        this.data.showConfig();
        break;
      case 'playgroundModels':
        this.playground.models(m);
        break;
      case 'playgroundToken':
        this.playground.token(m.playId, m.text);
        break;
      case 'playgroundResult':
        this.playground.result(m.playId, m.result);
        break;
    }
  }

  /** The Sweep tab exists in every panel; only a sweep's shows it. */
  private showSweepTab(show: boolean): void {
    const tab = this.tabs?.querySelector<HTMLElement>('#tab-sweep');
    if (tab) tab.hidden = !show;
    const current = (this.tabs as unknown as { activeid?: string } | undefined)?.activeid;
    if (show && this.state.tab === 'sweep') this.tabs?.setAttribute('activeid', 'tab-sweep');
    else if (!show && (this.state.tab === 'sweep' || current === 'tab-sweep')) {
      this.tabs?.setAttribute('activeid', 'tab-charts');
      this.save({ tab: 'charts' });
    }
  }

  private setConfig(config: ConfigState | undefined): void {
    this.config = config;
    this.form.update(config);
    this.header.refresh();
    this.data.configChanged();
  }

  private addRun(info: RunInfo, events: RunEvent[]): void {
    const data = newRunData(info);
    appendEvents(data, events);
    this.runs.set(info.id, data);
  }

  private appendTo(runId: string, events: RunEvent[]): void {
    const run = this.runs.get(runId);
    if (!run) return;
    const changes = appendEvents(run, events);
    if (changes.train || changes.evals) this.charts.schedule();
    if (changes.logs) this.logs.appended(runId);
    if (changes.evals || changes.info) this.metrics.render(this.ordered(), this.labels);
    // A new checkpoint or the run's end (final/) is a new model to chat with and try.
    if (runId === this.selectedId() && events.some((e) => e.type === 'checkpoint' || e.type === 'status')) {
      this.chat.refreshModels();
      this.playground.refreshModels();
    }
  }

  private selectedId(): string | undefined {
    return (this.runs.get(this.state.selectedRun ?? '') ?? this.ordered().at(-1))?.info.id;
  }

  /** Runs oldest first: by start time, then by id (which ends in the start time). */
  private ordered(): RunData[] {
    return [...this.runs.values()].sort(
      (a, b) =>
        (a.info.status?.startedAt ?? '').localeCompare(b.info.status?.startedAt ?? '') ||
        a.info.id.localeCompare(b.info.id),
    );
  }

  private runsChanged(): void {
    const runs = this.ordered();
    const diffs = differingHyperparameters(runs.map((r) => ({ id: r.info.id, config: r.info.config })));
    this.labels = new Map(runs.map((r) => [r.info.id, legendLabel(r.info.id, diffs.get(r.info.id))]));
    const selected = this.runs.get(this.state.selectedRun ?? '') ?? runs[runs.length - 1];
    this.header.setRuns(runs, selected);
    this.charts.setRuns(runs, this.labels);
    this.logs.setRun(selected);
    this.metrics.render(runs, this.labels);
    this.chat.setRun(selected?.info.id);
    this.playground.setRun(selected?.info.id);
    this.data.setRun(selected?.info.id);
  }

  private showNotice(text: string): void {
    this.notice.textContent = text;
    this.notice.hidden = false;
    setTimeout(() => {
      if (this.notice.textContent === text) this.notice.hidden = true;
    }, 6000);
  }
}

registerComponents();
const root = document.getElementById('app');
if (root) new Panel(root);
