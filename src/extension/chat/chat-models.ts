import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChatModelChoice } from '../../shared/messages.js';
import { RUN_FILES } from '../../shared/run-directory.js';

/**
 * The models of a run the Chat and Playground tabs can talk to, read from its folder (the run directory
 * contract): `final/` once the run completed, and each checkpoint `checkpoints/step-<N>/`, newest
 * first. The page names a model by its key; only this module turns a key into a path, so a page
 * cannot make the engine open any other folder. No 'vscode' import.
 */
const STEP = /^step-(\d+)$/;

export interface ChatModels {
  models: ChatModelChoice[];
  /** Why there is nothing to chat with. */
  unavailable?: string;
}

/** `task` is the run's config.yaml `task` (the panel's RunInfo.config), absent before it is written. */
export async function chatModelsOf(runDir: string, task: unknown): Promise<ChatModels> {
  if (task === undefined) return { models: [], unavailable: 'The run has not written its config.yaml yet.' };
  if (task !== 'causal-lm')
    return {
      models: [],
      unavailable: `Chat talks to causal language models (task causal-lm); this run's task is ${String(task)}.`,
    };
  return runModelsOf(runDir, 'chat');
}

/**
 * The run's models of any task, for `what` ("chat", "the playground"): final/ and the
 * checkpoints, newest first, or why there is none yet.
 */
export async function runModelsOf(runDir: string, what: string): Promise<ChatModels> {
  const models: ChatModelChoice[] = [];
  if (existsSync(join(runDir, RUN_FILES.final, 'config.json'))) models.push({ key: 'final', label: 'final model' });
  const entries = await readdir(join(runDir, RUN_FILES.checkpoints)).catch(() => [] as string[]);
  const steps = entries
    .filter((name) => STEP.test(name) && existsSync(join(runDir, RUN_FILES.checkpoints, name, 'model.safetensors')))
    .map((name) => Number(STEP.exec(name)?.[1]))
    .sort((a, b) => b - a);
  for (const step of steps) models.push({ key: `step-${step}`, label: `checkpoint step ${step}` });
  return models.length > 0
    ? { models }
    : { models, unavailable: `No model yet: ${what} becomes available with the run's first checkpoint.` };
}

/** The folder of a model key of chatModelsOf or runModelsOf; throws for a key that is not one. */
export function chatModelPath(runDir: string, key: string): string {
  if (key === RUN_FILES.final) return join(runDir, RUN_FILES.final);
  if (STEP.test(key)) return join(runDir, RUN_FILES.checkpoints, key);
  throw new Error(`Unknown model "${key}": expected "final" or "step-<N>".`);
}
