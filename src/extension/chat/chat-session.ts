import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import {
  type ChatMessage,
  type ChatOptions,
  type ChatReply,
  type ChatRequest,
  type ChatStopReason,
  parseChatReply,
} from '../../shared/chat-protocol.js';
import { Disposable, type IDisposable, toDisposable } from '../lifecycle.js';

/**
 * The Chat tab's conversation with the engine (`finetune chat`, src/shared/chat-protocol.ts),
 * owned by the run panel: the engine process starts on the first send, is replaced when the user
 * picks another model, and is killed when the session is disposed (with the panel). The model
 * runs in that child process, never in the extension host. One reply at a time. No 'vscode'
 * import: tested against a fake engine.
 */
export interface ChatProcess {
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  kill(signal?: NodeJS.Signals): boolean;
  on(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
}

export interface ChatSessionDeps {
  /** Starts `finetune chat --model <modelDir>` (spawnAttached with chatArgs, or a test's fake). */
  start(modelDir: string): ChatProcess;
  log(line: string): void;
}

/** Where one reply goes as it is generated. */
export interface ChatSink {
  ready(chat: boolean): void;
  token(text: string): void;
  done(stoppedBy: ChatStopReason, tokens: number): void;
}

/** Last bytes of the engine's stderr kept for an error message (a crash's trace ends there). */
const STDERR_TAIL = 2000;

/**
 * What the owner of an attached engine process (the chat engine, the playground's server) does with
 * it: logs its stderr under `tag` and keeps its tail, reports its end once (a failed start or its
 * exit, with that tail) to `onGone`, and, disposed, ends it (stdin closed, then killed) unless it
 * has already gone.
 */
export function watchAttached(
  proc: ChatProcess,
  what: string,
  log: (line: string) => void,
  onGone: (why: string) => void,
): IDisposable {
  let stderr = '';
  let gone = false;
  const end = (why: string) => {
    if (gone) return;
    gone = true;
    onGone(why);
  };
  proc.stderr.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    stderr = (stderr + text).slice(-STDERR_TAIL);
    log(`[${what}] ${text.trimEnd()}`);
  });
  // A write to a process that died meanwhile errors here; the exit reports it.
  proc.stdin.on('error', () => {});
  proc.on('error', (err) => end(`the ${what} could not start: ${err.message}`));
  proc.on('exit', (code, signal) => {
    const tail = stderr.trim().split('\n').slice(-3).join(' ');
    end(`the ${what} exited (${signal ? `signal ${signal}` : `code ${code}`})${tail ? `: ${tail}` : ''}`);
  });
  return toDisposable(() => {
    if (gone) return;
    // Closing stdin is how both end; the kill makes sure a busy one goes too.
    proc.stdin.end();
    proc.kill();
  });
}

/** One engine process serving one model: a scope of its own, disposed when the model changes. */
class ChatEngine extends Disposable {
  readonly ready: Promise<{ chat: boolean }>;
  private readonly listeners = new Set<(reply: ChatReply) => void>();
  private readonly exitListeners = new Set<(why: string) => void>();
  private exited: string | undefined;

  constructor(
    readonly modelDir: string,
    private readonly proc: ChatProcess,
    log: (line: string) => void,
  ) {
    super();
    const gone = (why: string) => {
      this.exited = why;
      for (const l of [...this.exitListeners]) l(why);
    };
    this._register(watchAttached(proc, 'chat engine', log, gone));
    const lines = createInterface({ input: proc.stdout, crlfDelay: Number.POSITIVE_INFINITY });
    lines.on('line', (line) => {
      const parsed = parseChatReply(line);
      if (!parsed.ok) {
        log(`[chat engine] ${parsed.problem}`);
        return;
      }
      for (const l of [...this.listeners]) l(parsed.value);
    });
    this.ready = new Promise((resolve, reject) => {
      const stop = this.subscribe(
        (reply) => {
          if (reply.type === 'ready') {
            stop();
            resolve({ chat: reply.chat });
          } else if (reply.type === 'error' && reply.id === undefined) {
            stop();
            reject(new Error(reply.message));
          }
        },
        (why) => {
          stop();
          reject(new Error(why));
        },
      );
    });
    // Nobody may be waiting yet; the rejection is still seen by whoever awaits it later.
    this.ready.catch(() => {});
  }

  get alive(): boolean {
    return this.exited === undefined && !this.isDisposed;
  }

  /** Listens to replies and to the process ending, until the returned function is called. */
  subscribe(onReply: (reply: ChatReply) => void, onExit: (why: string) => void): () => void {
    const exited = this.exited;
    if (exited !== undefined) {
      // Later, as a live engine's exit would come: the caller has its unsubscribe function by then.
      queueMicrotask(() => onExit(exited));
      return () => {};
    }
    this.listeners.add(onReply);
    this.exitListeners.add(onExit);
    return () => {
      this.listeners.delete(onReply);
      this.exitListeners.delete(onExit);
    };
  }

  send(request: ChatRequest): void {
    this.proc.stdin.write(`${JSON.stringify(request)}\n`);
  }
}

/** One reply: `engine` is set once its generate request is sent, which a stop then names. */
interface Turn {
  id: number;
  stopRequested: boolean;
  engine?: ChatEngine;
}

export class ChatSession extends Disposable {
  private engine: ChatEngine | undefined;
  private current: Turn | undefined;
  private nextId = 1;

  constructor(private readonly deps: ChatSessionDeps) {
    super();
    this._register(toDisposable(() => this.engine?.dispose()));
  }

  /** Whether a reply is being generated. */
  get busy(): boolean {
    return this.current !== undefined;
  }

  /**
   * Generates the next reply of `messages` with the model in `modelDir`, streaming it into `sink`;
   * settles when the reply is done, rejecting with the engine's reason when it failed.
   */
  async send(modelDir: string, messages: ChatMessage[], options: ChatOptions, sink: ChatSink): Promise<void> {
    if (this.isDisposed) throw new Error('The chat was closed.');
    if (this.current) throw new Error('A reply is still being generated: stop it first.');
    const turn: Turn = { id: this.nextId++, stopRequested: false };
    this.current = turn;
    try {
      const engine = this.engineFor(modelDir);
      const { chat } = await engine.ready;
      sink.ready(chat);
      if (turn.stopRequested) {
        sink.done('stopped', 0);
        return;
      }
      turn.engine = engine;
      await this.generate(engine, turn.id, messages, options, sink);
    } finally {
      if (this.current === turn) this.current = undefined;
    }
  }

  /** Stops the reply under way at its next token (or before it starts, while the model loads). */
  stop(): void {
    const turn = this.current;
    if (!turn) return;
    turn.stopRequested = true;
    if (turn.engine?.alive) turn.engine.send({ type: 'stop', id: turn.id });
  }

  /** The engine for the model, started now when there is none or it serves another model. */
  private engineFor(modelDir: string): ChatEngine {
    if (this.engine?.alive && this.engine.modelDir === modelDir) return this.engine;
    this.engine?.dispose();
    this.deps.log(`Starting the chat engine for ${modelDir}`);
    this.engine = new ChatEngine(modelDir, this.deps.start(modelDir), (line) => this.deps.log(line));
    return this.engine;
  }

  private generate(
    engine: ChatEngine,
    id: number,
    messages: ChatMessage[],
    options: ChatOptions,
    sink: ChatSink,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const stop = engine.subscribe(
        (reply) => {
          if (!('id' in reply) || reply.id !== id) return;
          if (reply.type === 'token') sink.token(reply.text);
          else if (reply.type === 'done') {
            stop();
            sink.done(reply.stoppedBy, reply.tokens);
            resolve();
          } else if (reply.type === 'error') {
            stop();
            reject(new Error(reply.message));
          }
        },
        (why) => {
          stop();
          reject(new Error(why));
        },
      );
      engine.send({ type: 'generate', id, messages, options });
    });
  }
}
