import { isWebviewMessage, type ReplyMessage, type WebviewRequest } from '../../shared/messages.js';

/**
 * The run panel host's handling of what its webview posts (src/shared/messages.ts): anything that
 * is not a message of the protocol is ignored and reported for the log; `ready` starts the
 * handshake; every request gets exactly one reply, `ok: false` with the error's text when its
 * handler threw or rejected, so nothing the page sends can raise an exception in the extension
 * host or leave a request unanswered. No 'vscode' import: fuzzed in test/webview.
 */
export interface RequestHandlers {
  onReady(): void;
  handle(request: WebviewRequest): Promise<void>;
  reply(message: ReplyMessage): void;
  /** A message that is not one of the protocol's, described for the extension's log. */
  onInvalid(description: string): void;
}

export function receiveWebviewMessage(data: unknown, h: RequestHandlers): void {
  if (!isWebviewMessage(data)) {
    h.onInvalid(`ignored a message from the run panel that is not one of the protocol's: ${preview(data)}`);
    return;
  }
  if (data.type === 'ready') {
    h.onReady();
    return;
  }
  const id = data.id;
  let done: Promise<void>;
  try {
    done = h.handle(data);
  } catch (err) {
    done = Promise.reject(err);
  }
  done
    .then(
      () => h.reply({ type: 'reply', id, ok: true }),
      (err: unknown) => h.reply({ type: 'reply', id, ok: false, error: errorText(err) }),
    )
    .catch((err: unknown) => h.onInvalid(`could not reply to request ${id} of the run panel: ${errorText(err)}`));
}

/** What the user is shown when a request failed (ConfigEditError's text says what to fix). */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  try {
    return String(err);
  } catch {
    return 'an error without a message';
  }
}

/** The start of a value for a log line; never throws (BigInt, cycles). */
function preview(data: unknown): string {
  try {
    return (JSON.stringify(data) ?? String(data)).slice(0, 200);
  } catch {
    return typeof data;
  }
}
