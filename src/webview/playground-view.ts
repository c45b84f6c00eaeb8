import type { RequestBody } from '../shared/messages.js';
import {
  formatMs,
  isSeq2SeqTask,
  MAX_NEW_TOKENS_LIMIT,
  type PlaygroundInput,
  type PlaygroundResult,
} from '../shared/playground.js';
import type { PlaygroundModelsMessage } from '../shared/playground-messages.js';
import { button, type Control, textField } from './components.js';
import { clear, h } from './dom.js';
import { RunModels } from './run-models.js';

/**
 * The Playground tab: the selected run's final model or a checkpoint, tried on the user's input
 * through the model server the host runs for the panel (src/shared/playground-messages.ts). What
 * the page shows follows the run's task: label probabilities as bars, entities highlighted in the
 * text, the answer span highlighted in the context, a causal LM's continuation as it streams, or
 * an encoder-decoder's translation or summary with the time it took.
 * The inputs and the last result are kept with the panel's state.
 */
export interface PlaygroundSettings {
  model: string | undefined;
  text: string;
  question: string;
  context: string;
  prompt: string;
  maxTokens: number;
  temperature: number;
  result: PlaygroundResult | undefined;
}

export const PLAYGROUND_DEFAULTS: PlaygroundSettings = {
  model: undefined,
  text: '',
  question: '',
  context: '',
  prompt: '',
  maxTokens: 64,
  temperature: 0,
  result: undefined,
};

export interface PlaygroundHost {
  readonly settings: PlaygroundSettings;
  saveSettings(settings: PlaygroundSettings): void;
  request(body: RequestBody): Promise<void>;
}

const pct = (score: number) => `${(score * 100).toFixed(1)}%`;

function textarea(cls: string, label: string, rows: number, placeholder: string): HTMLTextAreaElement {
  return h('textarea', { class: `pg-input ${cls}`, rows, placeholder, 'aria-label': label });
}

export class PlaygroundView {
  readonly element = h('div', { class: 'playground-view' });
  private readonly model: RunModels;
  private readonly maxTokens: Control<string>;
  private readonly temperature: Control<string>;
  private readonly unavailable = h('div', { class: 'pg-unavailable muted', role: 'status' });
  private readonly chatHint = h(
    'div',
    { class: 'pg-chat-hint muted' },
    'This continues your text as a causal LM does. To talk to a chat model, use the Chat tab.',
  );
  private readonly text = textarea('pg-text', 'Text', 4, '');
  private readonly question = textarea('pg-question', 'Question', 1, 'Question');
  private readonly context = textarea('pg-context', 'Context', 5, 'Context that holds the answer');
  private readonly prompt = textarea('pg-prompt', 'Prompt', 4, 'Text for the model to continue');
  private readonly runButton: HTMLElement & { disabled: boolean };
  private readonly stopButton: HTMLElement & { disabled: boolean };
  private readonly output = h('div', {
    class: 'pg-output',
    role: 'region',
    'aria-label': 'Result',
    'aria-live': 'polite',
  });
  private readonly note = h('div', { class: 'pg-note muted', role: 'status' });
  private task: string | undefined;
  private available = false;
  /** The input under way, and for a generation the element its text streams into. */
  private running: { playId: number; streamed: HTMLElement | undefined } | undefined;
  private nextPlayId = 1;

  constructor(private readonly host: PlaygroundHost) {
    const s = host.settings;
    this.model = new RunModels({
      ask: (runId) => host.request({ type: 'playgroundModels', runId }),
      get saved() {
        return host.settings.model;
      },
      save: (model) => this.save({ model }),
      setAvailable: (available, why) => this.setAvailable(available, why),
    });
    this.maxTokens = textField({ label: 'Max new tokens', value: String(s.maxTokens) });
    this.maxTokens.onChange((v) => this.save({ maxTokens: Number(v) }));
    this.temperature = textField({ label: 'Temperature (0: greedy)', value: String(s.temperature) });
    this.temperature.onChange((v) => this.save({ temperature: Number(v) }));
    for (const [el, key] of [
      [this.text, 'text'],
      [this.question, 'question'],
      [this.context, 'context'],
      [this.prompt, 'prompt'],
    ] as const) {
      el.value = s[key];
      el.addEventListener('input', () => this.save({ [key]: el.value }));
      el.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
          e.preventDefault();
          this.run();
        }
      });
    }
    this.runButton = button({ label: 'Run', appearance: 'primary', title: 'Ctrl+Enter', onClick: () => this.run() });
    this.stopButton = button({ label: 'Stop', title: 'End the generation', onClick: () => this.stop() });
    this.element.append(
      h(
        'div',
        { class: 'toolbar pg-options' },
        h('label', { class: 'tool' }, 'Model ', this.model.control.element),
        h('label', { class: 'tool pg-max-tokens' }, 'Max new tokens ', this.maxTokens.element),
        h('label', { class: 'tool pg-lm' }, 'Temperature ', this.temperature.element),
      ),
      this.unavailable,
      this.chatHint,
      this.text,
      this.question,
      this.context,
      this.prompt,
      h('div', { class: 'pg-actions' }, this.runButton, this.stopButton),
      this.note,
      this.output,
    );
    this.note.hidden = true;
    this.layout();
    if (s.result) this.render(s.result);
    this.setAvailable(false, 'No run selected.');
  }

  /** The panel's selected run; its models are asked for when it changes. */
  setRun(runId: string | undefined): void {
    this.model.setRun(runId);
  }

  /** Asks the host for the run's models again (a checkpoint was written, the run ended). */
  refreshModels(): void {
    this.model.refresh();
  }

  models(m: PlaygroundModelsMessage): void {
    if (m.runId !== this.model.run) return;
    if (m.task !== this.task) {
      this.task = m.task;
      // Another task's result means nothing here.
      if (this.host.settings.result?.task !== m.task) this.clearResult();
      this.layout();
    }
    this.model.fill(m.runId, m.models, m.unavailable);
  }

  token(playId: number, text: string): void {
    const streamed = this.running?.playId === playId ? this.running.streamed : undefined;
    if (streamed) streamed.textContent += text;
  }

  result(playId: number, result: PlaygroundResult): void {
    if (this.running?.playId !== playId) return;
    this.running = undefined;
    this.save({ result });
    this.render(result);
    this.updateButtons();
  }

  /** Shows the inputs of the run's task. */
  private layout(): void {
    const t = this.task;
    const lm = t === 'causal-lm';
    const seq2seq = isSeq2SeqTask(t);
    this.text.hidden = t !== 'text-classification' && t !== 'token-classification' && !seq2seq;
    this.text.placeholder =
      t === 'translation'
        ? 'Text to translate'
        : t === 'summarization'
          ? 'Text to summarize'
          : 'Text to run through the model';
    this.question.hidden = this.context.hidden = t !== 'question-answering';
    this.prompt.hidden = this.chatHint.hidden = !lm;
    for (const el of this.element.querySelectorAll<HTMLElement>('.pg-lm')) el.hidden = !lm;
    for (const el of this.element.querySelectorAll<HTMLElement>('.pg-max-tokens')) el.hidden = !lm && !seq2seq;
    this.runButton.textContent =
      t === 'translation' ? 'Translate' : t === 'summarization' ? 'Summarize' : lm ? 'Generate' : 'Run';
  }

  /** The input of the run's task as the protocol wants it, or what is wrong with it. */
  private input(): PlaygroundInput | string {
    const s = this.host.settings;
    switch (this.task) {
      case 'text-classification':
      case 'token-classification':
        return s.text.trim() ? { task: this.task, text: s.text } : 'Type a text first.';
      case 'question-answering':
        if (!s.question.trim() || !s.context.trim()) return 'Type a question and its context first.';
        return { task: this.task, question: s.question, context: s.context };
      case 'causal-lm': {
        const maxTokens = Number(this.maxTokens.value);
        const temperature = Number(this.temperature.value);
        if (!s.prompt) return 'Type a prompt first.';
        if (!Number.isInteger(maxTokens) || maxTokens < 1)
          return 'Max new tokens must be a whole number of at least 1.';
        if (!Number.isFinite(temperature) || temperature < 0 || temperature > 2)
          return 'Temperature must be a number from 0 to 2.';
        return { task: this.task, prompt: s.prompt, maxTokens, temperature };
      }
      case 'translation':
      case 'summarization': {
        const maxTokens = Number(this.maxTokens.value);
        if (!s.text.trim()) return `Type a text to ${this.task === 'translation' ? 'translate' : 'summarize'} first.`;
        // finetune serve's bound (text2text-generation.ts).
        if (!Number.isInteger(maxTokens) || maxTokens < 1 || maxTokens > MAX_NEW_TOKENS_LIMIT)
          return `Max new tokens must be a whole number from 1 to ${MAX_NEW_TOKENS_LIMIT}.`;
        return { task: this.task, text: s.text, maxTokens };
      }
      default:
        return 'This run has no task the playground knows.';
    }
  }

  private run(): void {
    const model = this.model.value;
    const runId = this.model.run;
    if (this.running || !this.available || runId === undefined || model === undefined) return;
    const input = this.input();
    if (typeof input === 'string') {
      this.showNote(input);
      return;
    }
    this.showNote('');
    const playId = this.nextPlayId++;
    let streamed: HTMLElement | undefined;
    if (input.task === 'causal-lm') {
      // The continuation streams after the prompt, as the result will show it.
      clear(this.output);
      streamed = h('span', { class: 'pg-generated' });
      this.output.append(
        h('div', { class: 'pg-completion' }, h('span', { class: 'pg-prompt-echo muted' }, input.prompt), streamed),
      );
    } else this.output.classList.add('pg-stale');
    this.running = { playId, streamed };
    this.updateButtons();
    this.host.request({ type: 'playgroundRun', playId, runId, model, input }).then(
      // The result came before the reply; a reply without one (a run replaced) still ends it.
      () => this.running?.playId === playId && this.finish(undefined),
      (err: Error) => this.running?.playId === playId && this.finish(`Error: ${err.message}`),
    );
  }

  private stop(): void {
    if (this.running) this.host.request({ type: 'playgroundStop', playId: this.running.playId }).catch(() => {});
  }

  private finish(note: string | undefined): void {
    this.running = undefined;
    this.output.classList.remove('pg-stale');
    if (note) this.showNote(note);
    this.updateButtons();
  }

  private render(result: PlaygroundResult): void {
    this.output.classList.remove('pg-stale');
    clear(this.output);
    switch (result.task) {
      case 'text-classification':
        this.output.append(
          h(
            'table',
            { class: 'pg-labels' },
            ...result.labels.map((l) =>
              h(
                'tr',
                { class: 'pg-label' },
                h('td', { class: 'pg-label-name' }, l.label),
                h('td', {}, h('meter', { class: 'pg-bar', min: 0, max: 1, value: l.score, 'aria-label': l.label })),
                h('td', { class: 'pg-score' }, pct(l.score)),
              ),
            ),
          ),
        );
        return;
      case 'token-classification': {
        const text = h('div', { class: 'pg-marked' });
        let at = 0;
        for (const e of result.entities) {
          if (e.start < at) continue;
          text.append(result.text.slice(at, e.start));
          text.append(
            h(
              'mark',
              { class: 'pg-entity', 'data-group': e.group, title: `${e.group} ${pct(e.score)}` },
              result.text.slice(e.start, e.end),
              h('span', { class: 'pg-entity-group' }, e.group),
            ),
          );
          at = e.end;
        }
        text.append(result.text.slice(at));
        const none =
          result.entities.length === 0 ? h('div', { class: 'pg-none muted' }, 'No entities found.') : undefined;
        this.output.append(text, ...(none ? [none] : []));
        return;
      }
      case 'question-answering': {
        const { answer, context } = result;
        if (answer.answer === '') {
          this.output.append(h('div', { class: 'pg-none muted' }, 'No answer in the context.'));
          return;
        }
        this.output.append(
          h(
            'div',
            { class: 'pg-answer-line' },
            'Answer: ',
            h('strong', { class: 'pg-answer-text' }, answer.answer),
            ` (${pct(answer.score)})`,
          ),
          h(
            'div',
            { class: 'pg-marked' },
            context.slice(0, answer.start),
            h('mark', { class: 'pg-answer' }, context.slice(answer.start, answer.end)),
            context.slice(answer.end),
          ),
        );
        return;
      }
      case 'causal-lm': {
        const ends = { stop: '', length: 'cut at Max new tokens', stopped: 'stopped' } as const;
        this.output.append(
          h(
            'div',
            { class: 'pg-completion' },
            h('span', { class: 'pg-prompt-echo muted' }, result.prompt),
            h('span', { class: 'pg-generated' }, result.text),
          ),
          ...(ends[result.finishReason]
            ? [h('div', { class: 'pg-finish muted' }, `(${ends[result.finishReason]})`)]
            : []),
        );
        return;
      }
      case 'translation':
      case 'summarization':
        this.output.append(
          h(
            'div',
            { class: 'pg-seq2seq-line muted' },
            result.task === 'translation' ? 'Translation' : 'Summary',
            h('span', { class: 'pg-took' }, ` · ${formatMs(result.ms)}`),
          ),
          result.text === ''
            ? h('div', { class: 'pg-none muted' }, 'Nothing generated.')
            : h('div', { class: 'pg-seq2seq-text' }, result.text),
        );
        return;
    }
  }

  private clearResult(): void {
    this.save({ result: undefined });
    clear(this.output);
  }

  private showNote(text: string): void {
    this.note.textContent = text;
    this.note.hidden = text === '';
  }

  private setAvailable(available: boolean, why: string): void {
    this.unavailable.textContent = why;
    this.unavailable.hidden = why === '';
    this.model.control.disabled = !available;
    this.available = available;
    this.updateButtons();
  }

  private updateButtons(): void {
    this.runButton.disabled = !this.available || this.running !== undefined;
    this.stopButton.disabled = this.running?.streamed === undefined;
    this.stopButton.hidden = this.task !== 'causal-lm';
  }

  private save(patch: Partial<PlaygroundSettings>): void {
    this.host.saveSettings({ ...this.host.settings, ...patch });
  }
}
