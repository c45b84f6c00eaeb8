import { freemem } from 'node:os';
import { join } from 'node:path';
import { diag } from '../config-schema-check.js';
import { type Diagnostic, nodeAt, type ParsedConfig, toValue } from '../config-tree.js';
import { applyDefaults, resolvePath } from '../config-validate.js';
import {
  describeEstimate,
  estimateTrainingMemory,
  llamaTensors,
  type MemoryEstimate,
  modelDims,
  type TensorShape,
} from '../memory-estimate.js';
import { cachedModelFolder } from './hub-cache.js';
import { folderTensors, readJsonObject, readSafetensorsHeader, type TensorInfo } from './safetensors-header.js';

/**
 * The editor's memory check: the training run's estimated peak (src/shared/memory-estimate.ts)
 * against the machine's free memory. Node-only (the shapes come from the safetensors headers, the
 * free memory from the OS); the extension's validation worker runs it after the shared checks.
 */

export interface MemoryCheckOptions {
  /** Bytes of memory free for a new process (os.freemem: MemAvailable on Linux). */
  freeMemory?: () => number;
  /** Told every path read, so the diagnostics re-validate when one changes. */
  note?: (path: string) => void;
  env?: NodeJS.ProcessEnv;
}

const shapesOf = (tensors: readonly TensorInfo[]): TensorShape[] => tensors.map((t) => [t.name, t.shape]);

/** The tensor names and shapes of a safetensors file, from its header alone (8-byte length + JSON). */
export async function safetensorsShapes(path: string): Promise<TensorShape[] | undefined> {
  const tensors = await readSafetensorsHeader(path);
  return tensors && shapesOf(tensors);
}

/**
 * The folder a config's `model:` names and its config.json: a folder relative to the config's, or
 * a Hub id's snapshot in the Hugging Face cache; undefined when neither has a readable config.json.
 */
export async function configModelFolder(
  model: string,
  configDir: string,
  o: Pick<MemoryCheckOptions, 'note' | 'env'> = {},
): Promise<{ dir: string; modelConfig: Record<string, unknown> } | undefined> {
  const local = resolvePath(configDir, model);
  o.note?.(join(local, 'config.json'));
  const modelConfig = await readJsonObject(join(local, 'config.json'));
  if (modelConfig) return { dir: local, modelConfig };
  const cached = cachedModelFolder(model, o.env);
  const cachedConfig = cached && (await readJsonObject(join(cached, 'config.json')));
  return cached && cachedConfig ? { dir: cached, modelConfig: cachedConfig } : undefined;
}

/** The estimate for a config whose model folder is readable; undefined when it is not. */
export async function estimateForConfig(
  parsed: ParsedConfig,
  configDir: string,
  o: MemoryCheckOptions = {},
): Promise<MemoryEstimate | undefined> {
  const note = o.note ?? (() => {});
  const config = applyDefaults(toValue(parsed.root));
  if (typeof config.model !== 'string' || config.model === '') return undefined;
  const found = await configModelFolder(config.model, configDir, o);
  if (!found) return undefined;
  const { dir, modelConfig } = found;
  const dims = modelDims(modelConfig);
  if (!dims) return undefined;
  const stored = await folderTensors(dir, note);
  const tensors = (stored && shapesOf(stored)) ?? llamaTensors(modelConfig);
  if (!tensors) return undefined;
  const lora = config.training.lora;
  return estimateTrainingMemory({
    tensors,
    dims,
    method: config.training.method,
    ...(lora ? { lora: { r: lora.r, targets: lora.target_modules, dropout: lora.dropout } } : {}),
    batchSize: config.training.batch_size,
    maxLength: config.data.max_length,
    causalLm: config.task === 'causal-lm',
  });
}

/**
 * "Estimated peak memory ≈ …": information on training.batch_size (or model), a warning when it
 * is more than the free memory. Undefined when the model folder can't be read.
 */
export async function memoryDiagnostic(
  parsed: ParsedConfig,
  configDir: string,
  o: MemoryCheckOptions = {},
): Promise<Diagnostic | undefined> {
  const estimate = await estimateForConfig(parsed, configDir, o);
  if (!estimate) return undefined;
  const free = (o.freeMemory ?? freemem)();
  const batch = nodeAt(parsed.root, ['training', 'batch_size']);
  const path = batch ? ['training', 'batch_size'] : ['model'];
  const span = (batch ?? nodeAt(parsed.root, ['model']))?.span ?? [0, 0];
  const over = estimate.total > free;
  const advice = over
    ? ' That is more than is free: lower training.batch_size or data.max_length, use method: lora, or close other programs.'
    : '';
  return diag(
    parsed,
    over ? 'warning' : 'info',
    `${describeEstimate(estimate, free)}${advice}`,
    'memory-estimate',
    path,
    span,
  );
}
