import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MAX_MODEL_JSON_BYTES, MAX_SAFETENSORS_HEADER_BYTES } from '../limits.js';

/**
 * What a model's weights are, from the safetensors headers alone (8-byte little-endian length,
 * then a JSON table of tensors): never the weights themselves, so a 70B model is described by
 * reading a few hundred kilobytes. Node-only; the memory estimate and the model picker read it.
 */
export interface TensorInfo {
  name: string;
  /** safetensors' dtype names: F32, F16, BF16, I64, ... */
  dtype: string;
  shape: number[];
}

/** The tensors of one safetensors file, or undefined when it is missing or not safetensors. */
export async function readSafetensorsHeader(path: string): Promise<TensorInfo[] | undefined> {
  const file = await open(path, 'r').catch(() => undefined);
  if (!file) return undefined;
  try {
    const size = Buffer.alloc(8);
    if ((await file.read(size, 0, 8, 0)).bytesRead < 8) return undefined;
    const length = Number(size.readBigUInt64LE());
    if (length > MAX_SAFETENSORS_HEADER_BYTES) return undefined;
    const json = Buffer.alloc(length);
    if ((await file.read(json, 0, length, 8)).bytesRead < length) return undefined;
    const header = JSON.parse(json.toString('utf8')) as Record<string, { shape?: unknown; dtype?: unknown }>;
    return Object.entries(header).flatMap(([name, t]): TensorInfo[] =>
      name !== '__metadata__' && Array.isArray(t?.shape) && t.shape.every((d) => Number.isInteger(d))
        ? [{ name, dtype: typeof t.dtype === 'string' ? t.dtype : '?', shape: t.shape as number[] }]
        : [],
    );
  } catch {
    return undefined;
  } finally {
    await file.close();
  }
}

/** A small JSON object file (config.json, an index), or undefined when missing, too large or not an object. */
export async function readJsonObject(path: string): Promise<Record<string, unknown> | undefined> {
  try {
    const text = await readFile(path, 'utf8');
    if (text.length > MAX_MODEL_JSON_BYTES) return undefined;
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The weight files of a model folder: model.safetensors, or the shards its index lists (relative names). */
export async function weightFiles(dir: string, note: (path: string) => void = () => {}): Promise<string[] | undefined> {
  const single = join(dir, 'model.safetensors');
  note(single);
  if (await readSafetensorsHeader(single)) return ['model.safetensors'];
  const indexPath = join(dir, 'model.safetensors.index.json');
  note(indexPath);
  const map = (await readJsonObject(indexPath))?.weight_map;
  if (map === null || typeof map !== 'object') return undefined;
  const shards = [...new Set(Object.values(map as Record<string, unknown>))];
  return shards.every((s) => typeof s === 'string') ? (shards as string[]) : undefined;
}

/** Every tensor of a model folder (all shards); undefined when a weight file is missing or unreadable. */
export async function folderTensors(
  dir: string,
  note: (path: string) => void = () => {},
): Promise<TensorInfo[] | undefined> {
  const files = await weightFiles(dir, note);
  if (!files) return undefined;
  const all: TensorInfo[] = [];
  for (const file of files) {
    note(join(dir, file));
    const part = await readSafetensorsHeader(join(dir, file));
    if (!part) return undefined;
    all.push(...part);
  }
  return all;
}

/** The parameter count of a model folder from its safetensors headers; undefined when a weight file is missing or unreadable. */
export async function folderParameters(dir: string): Promise<number | undefined> {
  const tensors = await folderTensors(dir);
  return tensors?.reduce((sum, t) => sum + t.shape.reduce((a, b) => a * b, 1), 0);
}
