import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { ResolvedConfig } from '../config.js';
import { ESTIMATE_VERSION, type EstimateRecord } from '../cost-estimate.js';

/**
 * The cache of `finetune estimate`'s one-step measurements: one JSON file per key in
 * `<config folder>/.finetune/cache/estimates/`. The key is what the step's time and memory depend
 * on: the model's files (path, sizes, modification times), the task, the method (and LoRA's
 * settings), the batch shape (batch_size, max_length, gradient_accumulation_steps), the threads
 * and the device. The data is not in the key: its stamp is in the record, and the time per epoch
 * is only shown for the data it was measured with (the row count comes from there).
 */

export const ESTIMATES_DIR = join('.finetune', 'cache', 'estimates');

/** Where a config's measurements are kept (the engine writes them, estimate.ts). */
export function estimateCacheDir(configPath: string): string {
  return join(dirname(configPath), ESTIMATES_DIR);
}

export function estimatePath(dir: string, key: string): string {
  return join(dir, `${key}.json`);
}

/** The model folder's identity: its real path and the size and modification time of each file that defines it. */
export function modelStamp(folder: string): string {
  const real = realpathSync(folder);
  const files = readdirSync(real)
    .filter((f) => f === 'config.json' || f.endsWith('.safetensors') || f.endsWith('.safetensors.index.json'))
    .sort()
    .map((f) => {
      const s = statSync(join(real, f));
      return `${f}:${s.size}:${Math.round(s.mtimeMs)}`;
    });
  return `${real}|${files.join(',')}`;
}

/** The parts of a config the step depends on (see the header). */
type KeyConfig = Pick<ResolvedConfig, 'task' | 'device'> & {
  training: Pick<ResolvedConfig['training'], 'method' | 'lora' | 'batch_size' | 'gradient_accumulation_steps'>;
  data: Pick<ResolvedConfig['data'], 'max_length'>;
};

/**
 * A hash of a value whatever the order of its objects' keys (the engine's validated config and the
 * editor's defaults-filled one list keys in different orders); undefined entries count as absent.
 */
function hashOf(value: unknown): string {
  const canonical = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canonical);
    if (v === null || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .filter((k) => o[k] !== undefined)
        .sort()
        .map((k) => [k, canonical(o[k])]),
    );
  };
  return createHash('sha256')
    .update(JSON.stringify(canonical(value)))
    .digest('hex')
    .slice(0, 24);
}

/** The cache key of a config's step on a model folder with a thread count (0: ONNX Runtime's default). */
export function estimateKey(config: KeyConfig, stamp: string, threads: number, device = config.device): string {
  const t = config.training;
  const parts = {
    v: ESTIMATE_VERSION,
    model: stamp,
    task: config.task,
    method: t.method,
    lora: t.method === 'lora' ? (t.lora ?? null) : null,
    batch: t.batch_size,
    accumulation: t.gradient_accumulation_steps,
    maxLength: config.data.max_length,
    threads,
    device,
  };
  return hashOf(parts);
}

/**
 * Which data a record's row count is for: the data section (its paths resolved against the
 * config's folder, so the engine's absolute copy and the editor's relative one agree) and the
 * train file's size and modification time.
 */
export function dataStamp(data: ResolvedConfig['data'], configDir: string): string {
  const abs = (p: string | undefined) => (p === undefined ? undefined : resolve(configDir, p));
  const train = resolve(configDir, data.train);
  let file = 'missing';
  if (existsSync(train)) {
    const s = statSync(train);
    file = `${s.size}:${Math.round(s.mtimeMs)}`;
  }
  const paths = { train, validation: abs(data.validation), unlabeled: abs(data.unlabeled) };
  return hashOf({ data: { ...data, ...paths }, file });
}

export function readEstimate(dir: string, key: string): EstimateRecord | undefined {
  const path = estimatePath(dir, key);
  if (!existsSync(path)) return undefined;
  try {
    const r = JSON.parse(readFileSync(path, 'utf8')) as EstimateRecord;
    const valid =
      r.version === ESTIMATE_VERSION &&
      r.key === key &&
      Number.isFinite(r.stepSeconds) &&
      r.stepSeconds > 0 &&
      Number.isFinite(r.peakRssBytes);
    return valid ? r : undefined;
  } catch {
    return undefined; // a damaged file is a missing measurement: measuring again rewrites it
  }
}
