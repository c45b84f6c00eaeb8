import { type PreparedData, type PrepareOptions, prepareData } from '../../../src/engine/data/prepare.js';
import { TASKS } from '../../../src/engine/tasks/registry.js';
import type { CleanConfig, DataConfig, ResolvedCleanConfig } from '../../../src/shared/config.js';
import { applyDefaults } from '../../../src/shared/config-validate.js';

/**
 * The data pipeline given what a config file would say: the data section goes through
 * applyDefaults as a config file's does, and the seed is the default training.seed unless given.
 */
export function prepare(
  data: DataConfig,
  opts: Omit<PrepareOptions, 'seed' | 'format'> & { seed?: number },
): Promise<PreparedData> {
  const config = applyDefaults({ model: 'm', task: opts.task, data });
  return prepareData(config.data, { ...opts, format: TASKS[opts.task].data, seed: opts.seed ?? config.training.seed });
}

/** data.clean with the defaults filled in. */
export function resolvedClean(clean: CleanConfig = {}): ResolvedCleanConfig {
  return applyDefaults({ model: 'm', task: 'text-classification', data: { train: 't.jsonl', clean } }).data.clean;
}
