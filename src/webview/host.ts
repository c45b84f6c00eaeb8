import { checkHostMessage } from '../shared/message-guards.js';
import type { HostMessage, ReplyMessage, RequestBody, WebviewMessage } from '../shared/messages.js';

/**
 * The webview's end of the protocol (src/shared/messages.ts): typed posting, requests whose
 * promise settles with the host's reply, and the state VS Code keeps while the panel is hidden.
 */
interface VsCodeApi<S> {
  postMessage(message: unknown): void;
  getState(): S | undefined;
  setState(state: S): void;
}

// Provided by VS Code inside webviews (and by the test harness); callable once per page.
declare function acquireVsCodeApi<S>(): VsCodeApi<S>;

export class HostConnection<S> {
  private readonly api: VsCodeApi<S>;
  private readonly pending = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  private nextId = 1;

  constructor(onMessage: (message: Exclude<HostMessage, ReplyMessage>) => void) {
    this.api = acquireVsCodeApi<S>();
    window.addEventListener('message', (event: MessageEvent<unknown>) => {
      // Checked in full: a malformed message is ignored (and said so in the webview's console)
      // rather than half applied, which would leave the panel broken for every later message.
      const checked = checkHostMessage(event.data);
      if ('problem' in checked) {
        console.warn(`Fine-tune panel: ignored a host message: ${checked.problem}`);
        return;
      }
      const { message, dropped } = checked;
      if (dropped > 0)
        console.warn(`Fine-tune panel: left out ${dropped} malformed part(s) of a ${message.type} message`);
      if (message.type === 'reply') return this.settle(message);
      try {
        onMessage(message);
      } catch (err) {
        // A view's bug must not stop the next messages; the tests treat this line as a failure.
        console.error('Fine-tune panel: handling a host message failed:', err);
      }
    });
  }

  post(message: WebviewMessage): void {
    this.api.postMessage(message);
  }

  /** Sends a request; resolves when the host replies ok, rejects with its error text. */
  request(body: RequestBody): Promise<void> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.post({ ...body, id } as WebviewMessage);
    });
  }

  get state(): S | undefined {
    return this.api.getState();
  }

  set state(state: S) {
    this.api.setState(state);
  }

  private settle(reply: ReplyMessage): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    if (reply.ok) p.resolve();
    else p.reject(new Error(reply.error));
  }
}
