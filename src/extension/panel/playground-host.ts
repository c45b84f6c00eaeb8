import type { HostMessage } from '../../shared/messages.js';
import { isPlaygroundTask } from '../../shared/playground.js';
import type { PlaygroundRequest } from '../../shared/playground-messages.js';
import { chatModelPath, runModelsOf } from '../chat/chat-models.js';
import { Disposable, toDisposable } from '../lifecycle.js';
import { ModelServer, type ModelServerDeps } from '../serve/model-server.js';

/**
 * The host side of the run panel's Playground tab (src/shared/playground-messages.ts): lists a
 * run's models with its task, and runs the page's inputs through a `finetune serve` child process
 * of the panel (one at a time; a new model replaces it; it goes with the panel). No 'vscode'
 * import: the panel passes what it needs.
 */
export interface PlaygroundRun {
  dir: string;
  /** The run's config task (config.yaml), undefined before it is written. */
  task: unknown;
}

export interface PlaygroundHostDeps extends ModelServerDeps {
  runOf(runId: string): PlaygroundRun;
  post(message: HostMessage): void;
  /** Throws when the engine may not run (an untrusted workspace). */
  checkTrust(): void;
}

export class PlaygroundHost extends Disposable {
  private readonly server: ModelServer;
  /** The generation under way, which Stop aborts. */
  private running: { playId: number; abort: AbortController } | undefined;

  constructor(private readonly deps: PlaygroundHostDeps) {
    super();
    this.server = this._register(new ModelServer(deps));
    this._register(toDisposable(() => this.running?.abort.abort()));
  }

  async handle(request: PlaygroundRequest): Promise<void> {
    switch (request.type) {
      case 'playgroundModels': {
        const { dir, task } = this.deps.runOf(request.runId);
        const base = { type: 'playgroundModels', runId: request.runId } as const;
        if (task === undefined)
          return this.deps.post({ ...base, models: [], unavailable: 'The run has not written its config.yaml yet.' });
        if (!isPlaygroundTask(task))
          return this.deps.post({
            ...base,
            task: String(task),
            models: [],
            unavailable: `No playground for task ${String(task)}.`,
          });
        return this.deps.post({ ...base, task, ...(await runModelsOf(dir, 'the playground')) });
      }
      case 'playgroundRun': {
        this.deps.checkTrust();
        if (this.running) throw new Error('A generation is still running: stop it first.');
        const { dir, task } = this.deps.runOf(request.runId);
        if (request.input.task !== task)
          throw new Error(`This run's task is ${String(task)}, not ${request.input.task}.`);
        const { playId } = request;
        const running = { playId, abort: new AbortController() };
        this.running = running;
        try {
          const result = await this.server.predict(
            chatModelPath(dir, request.model),
            request.input,
            (text) => this.deps.post({ type: 'playgroundToken', playId, text }),
            running.abort.signal,
          );
          this.deps.post({ type: 'playgroundResult', playId, result });
        } finally {
          if (this.running === running) this.running = undefined;
        }
        return;
      }
      case 'playgroundStop':
        if (this.running?.playId === request.playId) this.running.abort.abort();
        return;
    }
  }
}
