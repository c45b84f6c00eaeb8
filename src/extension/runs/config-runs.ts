import { dirname, resolve } from 'node:path';
import type { RunState } from '../../shared/run-directory.js';
import { configName, isRunOf } from '../../shared/run-id.js';

/**
 * The runs of a config among the runs the extension knows: those in the folder its runs go to
 * (settings.ts configRunsRoot) whose id is a run id of its name (src/shared/run-id.ts), as the run
 * panel finds them. No 'vscode' import.
 */
export interface KnownRun {
  id: string;
  dir: string;
  state: RunState;
  /** Start time in ms. */
  startedAt: number;
}

/** The config's newest completed run (latest start, then the highest id), or undefined. */
export function latestCompletedRun<R extends KnownRun>(
  runs: readonly R[],
  configPath: string,
  runsRoot: string,
): R | undefined {
  const name = configName(configPath);
  const root = resolve(runsRoot);
  let latest: R | undefined;
  for (const run of runs) {
    if (run.state !== 'completed' || resolve(dirname(run.dir)) !== root || !isRunOf(name, run.id)) continue;
    if (!latest || run.startedAt > latest.startedAt || (run.startedAt === latest.startedAt && run.id > latest.id))
      latest = run;
  }
  return latest;
}
