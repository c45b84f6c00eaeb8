import { open, readFile } from 'node:fs/promises';
import { freemem } from 'node:os';
import { join } from 'node:path';
import { diag } from '../config-schema-check.js';
import { type Diagnostic, nodeAt, type ParsedConfig, toValue } from '../config-tree.js';
import { applyDefaults, resolvePath } from '../config-validate.js';
import { MAX_MODEL_JSON_BYTES, MAX_SAFETENSORS_HEADER_BYTES } from '../limits.js';
import {
  describeEstimate,
  estimateTrainingMemory,
  llamaTensors,
  type MemoryEstimate,
  modelDims,
  type TensorShape,
} from '../memory-estimate.js';
import { cachedModelFolder } from './hub-cache.js';

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

/** The tensor names and shapes of a safetensors file, from its header alone (8-byte length + JSON). */
export async function safetensorsShapes(path: string): Promise<TensorShape[] | undefined> {
  const file = await open(path, 'r').catch(() => undefined);
  if (!file) return undefined;
  try {
    const size = Buffer.alloc(8);
    if ((await file.read(size, 0, 8, 0)).bytesRead < 8) return undefined;
    const length = Number(size.readBigUInt64LE());
    if (length > MAX_SAFETENSORS_HEADER_BYTES) return undefined;
    const json = Buffer.alloc(length);
    if ((await file.read(json, 0, length, 8)).bytesRead < length) return undefined;
    const header = JSON.parse(json.toString('utf8')) as Record<string, { shape?: unknown }>;
    return Object.entries(header).flatMap(([name, t]): TensorShape[] =>
      name !== '__metadata__' && Array.isArray(t?.shape) && t.shape.every((d) => Number.isInteger(d))
        ? [[name, t.shape as number[]]]
        : [],
    );
  } catch {
    return undefined;
  } finally {
    await file.close();
  }
}

async function readJson(path: string): Promise<Record<string, unknown> | undefined> {
  try {
    const text = await readFile(path, 'utf8');
    if (text.length > MAX_MODEL_JSON_BYTES) return undefined;
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Every tensor of a model folder: model.safetensors, or the shards its index lists. */
async function folderShapes(dir: string, note: (path: string) => void): Promise<TensorShape[] | undefined> {
  const single = join(dir, 'model.safetensors');
  note(single);
  const shapes = await safetensorsShapes(single);
  if (shapes) return shapes;
  const indexPath = join(dir, 'model.safetensors.index.json');
  note(indexPath);
  const index = await readJson(indexPath);
  const map = index?.weight_map;
  if (map === null || typeof map !== 'object') return undefined;
  const all: TensorShape[] = [];
  for (const shard of new Set(Object.values(map as Record<string, unknown>))) {
    if (typeof shard !== 'string') return undefined;
    note(join(dir, shard));
    const part = await safetensorsShapes(join(dir, shard));
    if (!part) return undefined;
    all.push(...part);
  }
  return all;
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
  const local = resolvePath(configDir, config.model);
  note(join(local, 'config.json'));
  let modelConfig = await readJson(join(local, 'config.json'));
  let dir = local;
  if (!modelConfig) {
    const cached = cachedModelFolder(config.model, o.env);
    if (!cached) return undefined;
    dir = cached;
    modelConfig = await readJson(join(dir, 'config.json'));
  }
  const dims = modelConfig && modelDims(modelConfig);
  if (!modelConfig || !dims) return undefined;
  const tensors = (await folderShapes(dir, note)) ?? llamaTensors(modelConfig);
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
