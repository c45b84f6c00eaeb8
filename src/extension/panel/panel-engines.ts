import { dirname } from 'node:path';
import * as vscode from 'vscode';
import type { JsonValue } from '../../shared/messages.js';
import { ChatSession } from '../chat/chat-session.js';
import { chatArgs, serveArgs, spawnAttached } from '../runs/engine-process.js';
import { readSettings } from '../settings.js';
import { PlaygroundHost, type PlaygroundHostDeps } from './playground-host.js';

/**
 * The run panel's engine children: the Chat tab's `finetune chat` and the Playground tab's
 * `finetune serve`, each started on its tab's first use and ended with the panel. They run with the
 * config's settings (device, threads), in the workspace folder.
 */
export interface PanelChildren {
  context: vscode.ExtensionContext;
  configUri: vscode.Uri | undefined;
  log: (line: string) => void;
}

function engine(c: PanelChildren, modelDir: string) {
  const settings = readSettings(c.configUri);
  return {
    cli: c.context.asAbsolutePath('dist/cli.js'),
    cwd: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? dirname(modelDir),
    opts: { device: settings.device, threads: settings.engineThreads },
  };
}

export function panelChat(c: PanelChildren): ChatSession {
  return new ChatSession({
    start: (modelDir) => {
      const { cli, cwd, opts } = engine(c, modelDir);
      return spawnAttached(chatArgs(cli, modelDir, opts), cwd);
    },
    log: c.log,
  });
}

export function panelPlayground(c: PanelChildren, panel: Pick<PlaygroundHostDeps, 'runOf' | 'post'>): PlaygroundHost {
  return new PlaygroundHost({
    ...panel,
    start: (modelDir) => {
      const { cli, cwd, opts } = engine(c, modelDir);
      // Port 0: a free port, read from the server's listening line; it ends with its stdin.
      return spawnAttached(serveArgs(cli, modelDir, opts, 0, true), cwd);
    },
    log: c.log,
    checkTrust: () => {
      if (!vscode.workspace.isTrusted)
        throw new Error(
          'The playground runs the engine, which an untrusted workspace does not allow: trust the workspace first.',
        );
    },
  });
}

/** The `task` of a run's config.yaml, as the run follower read it. */
export function taskOf(config: JsonValue | undefined): unknown {
  return config && typeof config === 'object' && !Array.isArray(config) ? config.task : undefined;
}
