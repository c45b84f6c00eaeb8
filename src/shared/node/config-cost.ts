import { dirname } from 'node:path';
import type { DeviceName } from '../config.js';
import { type ConfigFormat, parseConfigText, toValue } from '../config-tree.js';
import { applyDefaults } from '../config-validate.js';
import { type CostSummary, costLensTitle, type EstimateRecord, epochSeconds } from '../cost-estimate.js';
import { dataStamp, estimateCacheDir, estimateKey, modelStamp, readEstimate } from './estimate-cache.js';
import { configModelFolder, estimateForConfig } from './model-memory.js';

/**
 * What a config's run will cost on this machine, for the CodeLens line and the Start confirmation:
 * `finetune estimate`'s measurement when the cache has one for this model, shape, method, threads
 * and device (src/shared/node/estimate-cache.ts), else the memory formula alone
 * (src/shared/memory-estimate.ts). No 'vscode' import.
 */
export interface ConfigCost {
  summary: CostSummary;
  /** The measurement behind the figures, when there is one for this config. */
  record?: EstimateRecord;
  /** The measurement's row count is for the config's data as it is now (else no time per epoch). */
  sameData: boolean;
}

export interface CostOptions {
  /** The engine's threads as the extension starts it (0: the engine's default). */
  threads: number;
  /** The device setting: `auto` leaves the config's own. */
  device: DeviceName;
  env?: NodeJS.ProcessEnv;
}

export async function configCost(
  text: string,
  format: ConfigFormat,
  configPath: string,
  o: CostOptions,
): Promise<ConfigCost | undefined> {
  const parsed = parseConfigText(text, format);
  const config = applyDefaults(toValue(parsed.root));
  if (typeof config.model !== 'string' || config.model === '') return undefined;
  const configDir = dirname(configPath);
  const estimate = await estimateForConfig(parsed, configDir, o.env ? { env: o.env } : {});
  const epochs = config.training.epochs;
  const found = await configModelFolder(config.model, configDir, o.env ? { env: o.env } : {});
  let record: EstimateRecord | undefined;
  if (found) {
    const device = o.device === 'auto' ? config.device : o.device;
    const key = estimateKey(config, modelStamp(found.dir), o.threads, device);
    record = readEstimate(estimateCacheDir(configPath), key);
  }
  if (!record) {
    if (!estimate) return undefined;
    return { summary: { memoryBytes: estimate.total, epochs }, sameData: false };
  }
  const sameData = record.dataStamp === dataStamp(config.data, configDir);
  const summary: CostSummary = { memoryBytes: record.peakRssBytes, epochs };
  if (sameData)
    summary.epochSeconds = epochSeconds(
      record.stepSeconds,
      record.trainRows,
      record.batchSize,
      record.gradientAccumulationSteps,
    );
  return { summary, record, sameData };
}

/** A CodeLens as the provider shows it: its title, and whether clicking measures (again). */
export interface CostLens {
  title: string;
  tooltip: string;
}

/**
 * The CodeLens line: `≈ 1.9 GB · ≈ 4 min/epoch on this machine` once measured (a click measures
 * again); before that the memory estimate and `Measure time`. Nothing when the model is unreadable.
 */
export function costLenses(cost: ConfigCost | undefined): CostLens[] {
  if (!cost) return [];
  const title = costLensTitle(cost.summary);
  const r = cost.record;
  const lenses: CostLens[] = [];
  if (title) {
    lenses.push({
      title,
      tooltip: r
        ? `Measured ${r.measuredAt}: ${r.stepSeconds.toFixed(2)} s a step of ${r.batchSize} rows × ${r.tokens} tokens, peak memory of the engine process; evaluation not counted. Click to measure again.`
        : 'Estimated from the model’s shapes, batch_size and max_length. Measure time runs one training step.',
    });
  }
  if (cost.summary.epochSeconds === undefined)
    lenses.push({
      title: '$(watch) Measure time',
      tooltip: r
        ? 'The data changed since the last measurement: run one training step again for the time per epoch.'
        : 'Run one training step of this config on this machine (finetune estimate) for its time per epoch and peak memory.',
    });
  return lenses;
}
