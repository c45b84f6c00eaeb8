import { createInterface } from 'node:readline';
import {
  completionChunk,
  type FinishReason,
  type PlaygroundInput,
  type PlaygroundResult,
  predictResult,
  serveRequest,
} from '../../shared/playground.js';
import { type ChatProcess, watchAttached } from '../chat/chat-session.js';
import { Disposable, toDisposable } from '../lifecycle.js';
import { sseData } from './sse.js';

/**
 * "Try it" talks HTTP to a `finetune serve` child process (README "Serving"): started on loopback
 * with `--port 0`, it prints `{"event":"listening","url",...}` once bound, and its stdin closing
 * stops it (`--exit-with-stdin`), so it never outlives the extension host. The model runs in that
 * process, never in the extension host. One server at a time, replaced when another model is
 * asked, killed when disposed (with the run panel, or the extension). No 'vscode' import: tested
 * against a real server process.
 */
/** The server's process as the session uses it: the chat engine's kind (spawnAttached, or a test's). */
export type ServeProcess = ChatProcess;

export interface ModelServerDeps {
  /** Starts `finetune serve --model <modelDir> --host 127.0.0.1 --port 0 --exit-with-stdin` (serveArgs). */
  start(modelDir: string): ServeProcess;
  log(line: string): void;
}

/** One server process for one model: its URL once it listens, and its end. */
class ServerProcess extends Disposable {
  readonly url: Promise<string>;
  private exited: string | undefined;

  constructor(
    readonly modelDir: string,
    proc: ServeProcess,
    log: (line: string) => void,
  ) {
    super();
    this.url = new Promise((resolve, reject) => {
      const lines = createInterface({ input: proc.stdout, crlfDelay: Number.POSITIVE_INFINITY });
      lines.on('line', (line) => {
        if (!line.startsWith('{')) return;
        try {
          const event = JSON.parse(line) as { event?: unknown; url?: unknown };
          if (event.event === 'listening' && typeof event.url === 'string') resolve(event.url);
        } catch {
          // Not the listening line: the server prints a human line before it.
        }
      });
      this._register(
        watchAttached(proc, 'model server', log, (why) => {
          this.exited = why;
          reject(new Error(why));
        }),
      );
    });
    this.url.catch(() => {});
  }

  get alive(): boolean {
    return this.exited === undefined && !this.isDisposed;
  }

  /** Why the process ended, when it did: what a failed request reports instead of a socket error. */
  get exitReason(): string | undefined {
    return this.exited;
  }
}

export class ModelServer extends Disposable {
  private server: ServerProcess | undefined;

  constructor(private readonly deps: ModelServerDeps) {
    super();
    this._register(toDisposable(() => this.server?.dispose()));
  }

  /** The URL of the server for the model, started now when there is none or it serves another one. */
  urlFor(modelDir: string): Promise<string> {
    if (this.isDisposed) return Promise.reject(new Error('The model server was closed.'));
    if (!this.server?.alive || this.server.modelDir !== modelDir) {
      this.server?.dispose();
      this.deps.log(`Starting the model server for ${modelDir}`);
      this.server = new ServerProcess(modelDir, this.deps.start(modelDir), (line) => this.deps.log(line));
    }
    return this.server.url;
  }

  /**
   * Runs one input through the model in `modelDir`. A causal LM's continuation streams into
   * `onText`; aborting `signal` stops it there (the server cancels a generation whose client
   * left) and the result ends with finishReason "stopped".
   */
  async predict(
    modelDir: string,
    input: PlaygroundInput,
    onText: (text: string) => void = () => {},
    signal?: AbortSignal,
  ): Promise<PlaygroundResult> {
    const url = await this.urlFor(modelDir);
    const server = this.server;
    const { path, body } = serveRequest(input);
    // The request's time, not the server's start: what the model took to answer.
    const started = performance.now();
    let response: Response;
    try {
      response = await fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      if (signal?.aborted && input.task === 'causal-lm')
        return { task: input.task, prompt: input.prompt, text: '', finishReason: 'stopped' };
      throw new Error(server?.exitReason ?? `the model server did not answer: ${(err as Error).message}`);
    }
    if (!response.ok) throw new Error(await errorOf(response));
    if (input.task !== 'causal-lm') {
      const json: unknown = await response.json();
      return predictResult(input, json, performance.now() - started);
    }
    let text = '';
    let finish: FinishReason = 'stopped';
    try {
      await readEvents(response, (data) => {
        const chunk = completionChunk(JSON.parse(data));
        if (chunk.text) {
          text += chunk.text;
          onText(chunk.text);
        }
        if (chunk.finish) finish = chunk.finish;
      });
    } catch (err) {
      if (!signal?.aborted) throw err;
    }
    return { task: input.task, prompt: input.prompt, text, finishReason: signal?.aborted ? 'stopped' : finish };
  }
}

/** The `data:` payloads of a server-sent event stream, up to `[DONE]` (OpenAI's end marker). */
async function readEvents(response: Response, onData: (data: string) => void): Promise<void> {
  if (!response.body) return;
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    const { data, rest } = sseData(buffer + decoder.decode(chunk, { stream: true }));
    buffer = rest;
    for (const d of data) {
      if (d === '[DONE]') return;
      onData(d);
    }
  }
}

/** The OpenAI-style `{"error": {"message"}}` of a failed request, or its status. */
async function errorOf(response: Response): Promise<string> {
  const text = await response.text();
  try {
    const message = (JSON.parse(text) as { error?: { message?: unknown } }).error?.message;
    if (typeof message === 'string') return `The model server refused the request: ${message}`;
  } catch {
    // Not JSON: the status says it.
  }
  return `The model server answered ${response.status} ${response.statusText}${text ? `: ${text.slice(0, 200)}` : ''}`;
}
