import {
  type HostMessage,
  isHostMessage,
  type ReplyMessage,
  type RequestBody,
  type WebviewMessage,
} from '../shared/messages.js';

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
      const data = event.data;
      if (!isHostMessage(data)) return;
      if (data.type === 'reply') this.settle(data);
      else onMessage(data);
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
