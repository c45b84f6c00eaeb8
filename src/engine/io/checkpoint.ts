/**
 * The weights of a Hugging Face model folder: one `model.safetensors`, or shards
 * `model-00001-of-0000N.safetensors` listed by `model.safetensors.index.json` (`weight_map`:
 * tensor name -> shard file). Saving splits into shards the way `save_pretrained` does
 * (huggingface_hub's `split_torch_state_dict_into_shards`), so the result loads in Python.
 *
 * Pickle checkpoints are refused, never read: unpickling runs arbitrary code from the file.
 */

import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_MODEL_JSON_BYTES } from '../../shared/limits.js';
import type { TensorData } from '../graph/types.js';
import { FileTooLargeError, readTextBounded } from '../util/bounded-read.js';
import { writeTextAtomic } from './atomic.js';
import { pythonJson } from './hf-config.js';
import { type SafetensorsEntry, SafetensorsFile, storedBytes, writeSafetensors } from './safetensors.js';

export const WEIGHTS_FILE = 'model.safetensors';
export const WEIGHTS_INDEX = 'model.safetensors.index.json';
/** `save_pretrained`'s default `max_shard_size` ("5GB", decimal as huggingface_hub parses it). */
export const DEFAULT_MAX_SHARD_SIZE = 5_000_000_000;

const SHARD_NAME = /^model-\d{5}-of-\d{5}\.safetensors$/;
/** Weight formats we will not read: pickle (PyTorch), and TensorFlow / Flax formats we lack readers for. */
const UNSAFE_OR_FOREIGN = /(\.bin|\.pt|\.pth|\.ckpt|\.pkl|\.h5|\.msgpack|\.ckpt\.index)$/;

/** The error for a folder that only has pickle (or TF/Flax) weights, saying how to convert. */
export function pickleRefusal(folder: string, found: readonly string[]): Error {
  return new Error(
    `${folder} has no safetensors weights, only ${found.join(', ')}. These are not read: PyTorch pickle ` +
      'files (.bin, .pt, .pth, .ckpt) can run arbitrary code when loaded, and TensorFlow/Flax files are not ' +
      'supported. Convert the folder once with Python:\n' +
      `  python -c "from transformers import AutoModel; m = AutoModel.from_pretrained('${folder}'); m.save_pretrained('${folder}', safe_serialization=True)"\n` +
      '(use the task class, e.g. AutoModelForSequenceClassification, to keep a trained head; add from_tf=True or ' +
      'from_flax=True for those formats), or for a Hub model use the safetensors conversion Space ' +
      '(huggingface.co/spaces/safetensors/convert), which opens a pull request; its revision `refs/pr/<N>` ' +
      'can then be used as `org/name@refs/pr/<N>`',
  );
}

/** Reads and checks `model.safetensors.index.json`; returns weight_map. */
function readIndex(folder: string): Record<string, string> {
  const path = join(folder, WEIGHTS_INDEX);
  let index: unknown;
  try {
    index = JSON.parse(readTextBounded(path, MAX_MODEL_JSON_BYTES, 'a model.safetensors.index.json'));
  } catch (error) {
    if (error instanceof FileTooLargeError) throw error;
    throw new Error(`${path} is not valid JSON (${(error as Error).message}); re-download or re-save the model`);
  }
  const map = (index as { weight_map?: unknown } | null)?.weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) {
    throw new Error(`${path} has no "weight_map" object (tensor name -> shard file)`);
  }
  for (const [name, shard] of Object.entries(map)) {
    if (typeof shard !== 'string' || shard.includes('/') || shard.includes('\\')) {
      throw new Error(`${path}: weight_map["${name}"] is ${JSON.stringify(shard)}, expected a file name in the folder`);
    }
  }
  return map as Record<string, string>;
}

/**
 * Whether a model folder holds no weight files of any kind (a config.json and a tokenizer only:
 * a model to initialise from its config, training.init: scratch).
 */
export function hasNoWeightFiles(folder: string): boolean {
  if (!existsSync(folder)) return false;
  const names = readdirSync(folder);
  return !names.some((n) => n === WEIGHTS_INDEX || n.endsWith('.safetensors') || UNSAFE_OR_FOREIGN.test(n));
}

/**
 * The safetensors files that hold a folder's weights, in load order; throws when there are none
 * (with the pickle refusal when that is all there is).
 */
export function weightFiles(folder: string): string[] {
  if (!existsSync(folder)) throw new Error(`model folder ${folder} does not exist`);
  const names = readdirSync(folder);
  if (names.includes(WEIGHTS_INDEX)) {
    const shards = [...new Set(Object.values(readIndex(folder)))];
    for (const shard of shards) {
      if (!names.includes(shard)) {
        throw new Error(
          `${join(folder, WEIGHTS_INDEX)} lists shard ${shard}, which is not in the folder: the download is incomplete; download the model again`,
        );
      }
    }
    return shards.map((s) => join(folder, s));
  }
  if (names.includes(WEIGHTS_FILE)) return [join(folder, WEIGHTS_FILE)];
  const safetensors = names.filter((n) => n.endsWith('.safetensors'));
  if (safetensors.some((n) => SHARD_NAME.test(n))) {
    throw new Error(
      `${folder} has sharded weights (${safetensors.join(', ')}) but no ${WEIGHTS_INDEX}; add the index file`,
    );
  }
  // A lone differently-named file (e.g. from safetensors.torch.save_file) is unambiguous.
  if (safetensors.length === 1) return [join(folder, safetensors[0] as string)];
  if (safetensors.length > 1) {
    throw new Error(
      `${folder} has several safetensors files (${safetensors.join(', ')}) and no ${WEIGHTS_INDEX}: which to load is ambiguous`,
    );
  }
  const foreign = names.filter((n) => UNSAFE_OR_FOREIGN.test(n));
  if (foreign.length > 0) throw pickleRefusal(folder, foreign);
  throw new Error(`${folder} has no weights: expected ${WEIGHTS_FILE} or ${WEIGHTS_INDEX} with its shards`);
}

/** Where a tensor lives: its file and header entry. */
export interface TensorLocation {
  readonly file: SafetensorsFile;
  readonly entry: SafetensorsEntry;
}

/** All weight files of a folder opened together: headers parsed, tensors read on demand. */
export class Checkpoint {
  private constructor(
    readonly folder: string,
    readonly files: readonly SafetensorsFile[],
    readonly tensors: ReadonlyMap<string, TensorLocation>,
  ) {}

  static open(folder: string): Checkpoint {
    const paths = weightFiles(folder);
    const files: SafetensorsFile[] = [];
    const tensors = new Map<string, TensorLocation>();
    try {
      for (const path of paths) {
        const file = SafetensorsFile.open(path);
        files.push(file);
        for (const entry of file.entries.values()) {
          const previous = tensors.get(entry.name);
          if (previous) throw new Error(`tensor "${entry.name}" is in both ${previous.file.file} and ${path}`);
          tensors.set(entry.name, { file, entry });
        }
      }
      if (existsSync(join(folder, WEIGHTS_INDEX))) {
        for (const [name, shard] of Object.entries(readIndex(folder))) {
          if (tensors.get(name)?.file.file !== join(folder, shard)) {
            throw new Error(
              `${join(folder, WEIGHTS_INDEX)} maps "${name}" to ${shard}, but that shard has no such tensor`,
            );
          }
        }
      }
    } catch (error) {
      for (const f of files) f.close();
      throw error;
    }
    return new Checkpoint(folder, files, tensors);
  }

  read(name: string): TensorData {
    const location = this.tensors.get(name);
    if (!location) throw new Error(`${this.folder}: no tensor named "${name}" in its weights`);
    return location.file.read(name);
  }

  close(): void {
    for (const f of this.files) f.close();
  }
}

/** Reads every tensor of a folder's weights (single file or shards). */
export function loadCheckpoint(folder: string): Map<string, TensorData> {
  const ckpt = Checkpoint.open(folder);
  try {
    return new Map([...ckpt.tensors.keys()].map((name) => [name, ckpt.read(name)]));
  } finally {
    ckpt.close();
  }
}

/** Parses "5GB", "500MB", "2GiB" (and plain byte counts) as huggingface_hub's parse_size_to_int does. */
export function parseSize(size: number | string): number {
  if (typeof size === 'number') return size;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)?\s*$/i.exec(size);
  if (!match) throw new Error(`max_shard_size "${size}" is not a size; use e.g. "5GB", "500MB" or a byte count`);
  const unit = (match[2] ?? 'B').toUpperCase();
  const decimal = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 } as Record<string, number>;
  const binary = { KIB: 2 ** 10, MIB: 2 ** 20, GIB: 2 ** 30, TIB: 2 ** 40 } as Record<string, number>;
  return Math.floor(Number(match[1]) * (decimal[unit] ?? binary[unit] ?? 1));
}

/**
 * Groups tensors into shards: in order, a new shard starts when the next tensor would overflow
 * the current one; a tensor larger than the limit gets a shard of its own.
 */
export function planShards(tensors: Iterable<readonly [string, TensorData]>, maxShardSize: number): string[][] {
  const shards: string[][] = [];
  let current: string[] = [];
  let currentSize = 0;
  for (const [name, tensor] of tensors) {
    const size = storedBytes(tensor);
    if (size > maxShardSize) {
      shards.push([name]);
      continue;
    }
    if (currentSize + size > maxShardSize) {
      shards.push(current);
      current = [];
      currentSize = 0;
    }
    current.push(name);
    currentSize += size;
  }
  if (current.length > 0 || shards.length === 0) shards.push(current);
  return shards;
}

export interface SavedCheckpoint {
  /** Weight file names written, relative to the folder. */
  files: string[];
  /** The index file name when sharded. */
  index?: string;
  totalSize: number;
}

/**
 * Writes `weights` into `folder` as `model.safetensors` or as shards plus the index, each file
 * atomically, then removes weight files of an earlier save that the new one does not use (as
 * save_pretrained does), so a reused folder never mixes two saves.
 */
export function saveCheckpoint(
  folder: string,
  weights: ReadonlyMap<string, TensorData>,
  options: { maxShardSize?: number | string } = {},
): SavedCheckpoint {
  const maxShardSize = parseSize(options.maxShardSize ?? DEFAULT_MAX_SHARD_SIZE);
  const shards = planShards(weights, maxShardSize);
  const totalSize = [...weights.values()].reduce((sum, t) => sum + storedBytes(t), 0);
  const pick = (names: string[]) => names.map((n) => [n, weights.get(n) as TensorData] as const);
  let saved: SavedCheckpoint;
  if (shards.length === 1) {
    writeSafetensors(join(folder, WEIGHTS_FILE), pick(shards[0] as string[]));
    saved = { files: [WEIGHTS_FILE], totalSize };
  } else {
    const pad = (i: number) => String(i).padStart(5, '0');
    const files = shards.map((_, i) => `model-${pad(i + 1)}-of-${pad(shards.length)}.safetensors`);
    const weightMap: Record<string, string> = {};
    shards.forEach((names, i) => {
      writeSafetensors(join(folder, files[i] as string), pick(names));
      for (const n of names) weightMap[n] = files[i] as string;
    });
    // Written last: a reader that finds the index finds every shard it names.
    writeTextAtomic(
      join(folder, WEIGHTS_INDEX),
      pythonJson({ metadata: { total_size: totalSize }, weight_map: weightMap }),
    );
    saved = { files, index: WEIGHTS_INDEX, totalSize };
  }
  const keep = new Set([...saved.files, saved.index]);
  for (const name of readdirSync(folder)) {
    if ((name === WEIGHTS_FILE || name === WEIGHTS_INDEX || SHARD_NAME.test(name)) && !keep.has(name)) {
      rmSync(join(folder, name), { force: true });
    }
  }
  return saved;
}
