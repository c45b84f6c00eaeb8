import type { ChatMessage, ChatOptions, ChatStopReason } from '../shared/chat-protocol.js';
import type { ChatModelsMessage, RequestBody } from '../shared/messages.js';
import { button, type Control, textField } from './components.js';
import { clear, h } from './dom.js';
import { RunModels } from './run-models.js';

/**
 * The Chat tab: talks to the selected run's final model or one of its checkpoints through the
 * engine process the host runs for it (src/shared/messages.ts, "Chat"). Replies stream in token by
 * token; Stop ends one at the next token. The conversation, system prompt and options are kept
 * with the panel's state, so hiding and showing the panel keeps them.
 */
export interface ChatTurn {
  role: 'user' | 'assistant';
  content: string;
  /** An assistant turn's ending, shown under it: stopped by the user, or the error that ended it. */
  note?: string;
}

export interface ChatSettings {
  model: string | undefined;
  system: string;
  maxNewTokens: number;
  /** 0: greedy. */
  temperature: number;
  transcript: ChatTurn[];
}

export const CHAT_DEFAULTS: ChatSettings = {
  model: undefined,
  system: '',
  maxNewTokens: 128,
  temperature: 0.7,
  transcript: [],
};

export interface ChatHost {
  readonly settings: ChatSettings;
  saveSettings(settings: ChatSettings): void;
  request(body: RequestBody): Promise<void>;
}

const COMPLETION_NOTE = 'This model has no chat template: replies continue your text (the system prompt is not used).';

export class ChatView {
  readonly element = h('div', { class: 'chat-view' });
  private readonly model: RunModels;
  private readonly unavailable = h('div', { class: 'chat-unavailable muted', role: 'status' });
  private readonly system = h('textarea', {
    class: 'chat-system',
    rows: 2,
    placeholder: 'System prompt (optional)',
    'aria-label': 'System prompt',
  });
  private readonly maxTokens: Control<string>;
  private readonly temperature: Control<string>;
  private readonly transcript = h('div', { class: 'chat-transcript', role: 'log', 'aria-label': 'Conversation' });
  private readonly modeNote = h('div', { class: 'chat-mode muted' });
  private readonly input = h('textarea', {
    class: 'chat-input',
    rows: 3,
    placeholder: 'Message (Enter sends, Shift+Enter starts a new line)',
    'aria-label': 'Message',
  });
  private readonly sendButton: HTMLElement & { disabled: boolean };
  private readonly stopButton: HTMLElement & { disabled: boolean };
  private readonly clearButton: HTMLElement & { disabled: boolean };
  /** The reply being generated: its id, and the element its tokens are appended to. */
  private streaming: { chatId: number; text: HTMLElement } | undefined;
  private nextChatId = 1;

  constructor(private readonly host: ChatHost) {
    const s = host.settings;
    this.model = new RunModels({
      ask: (runId) => host.request({ type: 'chatModels', runId }),
      get saved() {
        return host.settings.model;
      },
      save: (model) => this.save({ model }),
      setAvailable: (available, why) => this.setAvailable(available, why),
    });
    this.system.value = s.system;
    this.system.addEventListener('change', () => this.save({ system: this.system.value }));
    this.maxTokens = textField({ label: 'Max new tokens', value: String(s.maxNewTokens) });
    this.maxTokens.onChange((v) => this.save({ maxNewTokens: Number(v) }));
    this.temperature = textField({ label: 'Temperature (0: greedy)', value: String(s.temperature) });
    this.temperature.onChange((v) => this.save({ temperature: Number(v) }));
    this.sendButton = button({ label: 'Send', appearance: 'primary', onClick: () => this.send() });
    this.stopButton = button({ label: 'Stop', title: 'End the reply at the next token', onClick: () => this.stop() });
    this.clearButton = button({ label: 'Clear', title: 'Start a new conversation', onClick: () => this.clearChat() });
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.send();
      }
    });
    this.element.append(
      h(
        'div',
        { class: 'toolbar chat-options' },
        h('label', { class: 'tool' }, 'Model ', this.model.control.element),
        h('label', { class: 'tool' }, 'Max new tokens ', this.maxTokens.element),
        h('label', { class: 'tool' }, 'Temperature ', this.temperature.element),
        this.clearButton,
      ),
      this.unavailable,
      this.system,
      this.transcript,
      this.modeNote,
      h(
        'div',
        { class: 'chat-compose' },
        this.input,
        h('div', { class: 'chat-actions' }, this.sendButton, this.stopButton),
      ),
    );
    this.modeNote.hidden = true;
    this.renderTranscript();
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

  models(m: ChatModelsMessage): void {
    this.model.fill(m.runId, m.models, m.unavailable);
  }

  ready(chatId: number, chat: boolean): void {
    if (this.streaming?.chatId !== chatId) return;
    this.modeNote.textContent = chat ? '' : COMPLETION_NOTE;
    this.modeNote.hidden = chat;
  }

  token(chatId: number, text: string): void {
    const s = this.streaming;
    if (s?.chatId !== chatId) return;
    s.text.textContent += text;
    this.lastAssistant().content += text;
    this.transcript.scrollTop = this.transcript.scrollHeight;
  }

  done(chatId: number, stoppedBy: ChatStopReason, tokens: number): void {
    if (this.streaming?.chatId !== chatId) return;
    const notes: Record<ChatStopReason, string | undefined> = {
      eos: undefined,
      stop_string: undefined,
      max_new_tokens: `(cut at ${tokens} tokens: raise Max new tokens for longer replies)`,
      context: "(the model's context is full)",
      stopped: '(stopped)',
    };
    this.finish(notes[stoppedBy]);
  }

  private send(): void {
    const content = this.input.value;
    const model = this.model.value;
    const runId = this.model.run;
    if (this.streaming || content.trim() === '' || runId === undefined || model === undefined) return;
    const options = this.options();
    if (typeof options === 'string') {
      this.showNote(options);
      return;
    }
    const history: ChatMessage[] = this.host.settings.transcript.map(({ role, content }) => ({ role, content }));
    const messages: ChatMessage[] = [...history, { role: 'user', content }];
    const chatId = this.nextChatId++;
    this.input.value = '';
    this.save({
      system: this.system.value,
      transcript: [...this.host.settings.transcript, { role: 'user', content }, { role: 'assistant', content: '' }],
    });
    this.renderTranscript();
    const text = this.transcript.querySelector<HTMLElement>('.chat-turn:last-child .chat-text');
    if (!text) return;
    this.streaming = { chatId, text };
    this.updateButtons();
    this.host.request({ type: 'chatSend', chatId, runId, model, system: this.system.value, messages, options }).then(
      // chatDone came before the reply; a reply with no chatDone (none streamed) still ends the turn.
      () => this.streaming?.chatId === chatId && this.finish(undefined),
      (err: Error) => this.streaming?.chatId === chatId && this.finish(`Error: ${err.message}`),
    );
  }

  /** The options row as the protocol wants them, or what is wrong with it. */
  private options(): ChatOptions | string {
    const max = Number(this.maxTokens.value);
    const temperature = Number(this.temperature.value);
    if (!Number.isInteger(max) || max < 1) return 'Max new tokens must be a whole number of at least 1.';
    if (!Number.isFinite(temperature) || temperature < 0) return 'Temperature must be a number of at least 0.';
    return { max_new_tokens: max, temperature };
  }

  private stop(): void {
    if (!this.streaming) return;
    this.host.request({ type: 'chatStop', chatId: this.streaming.chatId }).catch(() => {});
  }

  private finish(note: string | undefined): void {
    this.streaming = undefined;
    const last = this.lastAssistant();
    if (note) last.note = note;
    // The streamed text lives in the settings object already: saving it keeps it across reloads.
    this.save({ transcript: [...this.host.settings.transcript] });
    this.renderTranscript();
    this.updateButtons();
  }

  private clearChat(): void {
    if (this.streaming) return;
    this.save({ transcript: [] });
    this.modeNote.hidden = true;
    this.renderTranscript();
  }

  private lastAssistant(): ChatTurn {
    const last = this.host.settings.transcript.at(-1);
    if (last?.role === 'assistant') return last;
    const turn: ChatTurn = { role: 'assistant', content: '' };
    this.host.settings.transcript.push(turn);
    return turn;
  }

  private showNote(text: string): void {
    this.modeNote.textContent = text;
    this.modeNote.hidden = false;
  }

  private renderTranscript(): void {
    clear(this.transcript);
    for (const turn of this.host.settings.transcript) {
      this.transcript.append(
        h(
          'div',
          { class: `chat-turn chat-${turn.role}` },
          h('div', { class: 'chat-role muted' }, turn.role === 'user' ? 'You' : 'Model'),
          h('div', { class: 'chat-text' }, turn.content),
          turn.note ? h('div', { class: 'chat-note muted' }, turn.note) : undefined,
        ),
      );
    }
    this.transcript.scrollTop = this.transcript.scrollHeight;
  }

  private setAvailable(available: boolean, why: string): void {
    this.unavailable.textContent = why;
    this.unavailable.hidden = why === '';
    this.model.control.disabled = !available;
    this.available = available;
    this.updateButtons();
  }

  private available = false;

  private updateButtons(): void {
    this.sendButton.disabled = !this.available || this.streaming !== undefined;
    this.stopButton.disabled = this.streaming === undefined;
    this.clearButton.disabled = this.streaming !== undefined;
  }

  private save(patch: Partial<ChatSettings>): void {
    this.host.saveSettings({ ...this.host.settings, ...patch });
  }
}
