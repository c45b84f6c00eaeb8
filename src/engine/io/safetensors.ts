/**
 * The safetensors format (https://github.com/huggingface/safetensors): 8 bytes of little-endian
 * header length N, N bytes of JSON header `{name: {dtype, shape, data_offsets: [begin, end]},
 * "__metadata__": {string: string}}`, then the byte buffer the offsets point into.
 *
 * Reading: the header is read first, then each tensor is read with its own `readSync` straight
 * into the typed array that becomes the tensor's storage. Nothing holds the whole file, so a
 * 500 MB checkpoint costs 500 MB (plus one tensor's 16-bit staging when it is widened), not twice
 * that, and tensors the caller does not ask for are never read.
 *
 * Writing matches the Rust writer behind `safetensors.torch.save_file` byte for byte: tensors
 * ordered by descending dtype alignment then by name, compact JSON with `__metadata__` first,
 * the header padded with spaces to a multiple of 8.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import { MAX_SAFETENSORS_HEADER_BYTES } from '../../shared/limits.js';
import type { DType, TensorArray, TensorData } from '../graph/types.js';
import { numel } from '../graph/types.js';
import { writeAll, writeFileAtomic } from './atomic.js';
import { bf16ToF32, f16ToF32 } from './half.js';

/** The format's own limit (MAX_HEADER_SIZE in the Rust crate): larger means not safetensors. */
const MAX_HEADER_BYTES = MAX_SAFETENSORS_HEADER_BYTES;

/** Bytes per element of every dtype the format defines. */
const DTYPE_BYTES: Readonly<Record<string, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};

/**
 * What each stored dtype becomes in memory. Floats all become float32 because the engine trains
 * in float32 (F64 loses precision it never uses; F16/BF16 widen exactly). Integer buffers that
 * some checkpoints carry (`position_ids`) keep their type.
 */
const LOADED_AS: Readonly<Record<string, DType>> = {
  F32: 'float32',
  F16: 'float32',
  BF16: 'float32',
  F64: 'float32',
  I64: 'int64',
  I32: 'int32',
  U8: 'uint8',
  I8: 'int8',
  BOOL: 'bool',
};

/** Our dtype -> the format's name, for writing. float16 and bfloat16 data are raw 16-bit patterns. */
const STORED_AS: Readonly<Record<DType, string>> = {
  float32: 'F32',
  float64: 'F64',
  float16: 'F16',
  bfloat16: 'BF16',
  int64: 'I64',
  int32: 'I32',
  uint8: 'U8',
  int8: 'I8',
  bool: 'BOOL',
};

/**
 * Position of each dtype in the Rust `Dtype` enum, which is declared in increasing alignment;
 * the writer sorts by it, descending. Only relative order matters, and newer crate versions that
 * add dtypes keep the relative order of these.
 */
const ALIGNMENT_RANK: Readonly<Record<string, number>> = {
  BOOL: 0,
  U8: 1,
  I8: 2,
  F16: 7,
  BF16: 8,
  I32: 9,
  F32: 11,
  F64: 12,
  I64: 13,
};

export interface SafetensorsEntry {
  readonly name: string;
  /** The format's dtype name, e.g. `F32`, `BF16`. */
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Absolute byte range in the file. */
  readonly begin: number;
  readonly end: number;
}

/** Whether a stored dtype is a floating-point one (a candidate for a trainable parameter). */
export const isFloatDtype = (dtype: string): boolean => dtype.startsWith('F') || dtype === 'BF16';

function requireLittleEndian(): void {
  if (endianness() !== 'LE') {
    throw new Error('safetensors data is little-endian and this machine is big-endian: it is not supported');
  }
}

/** Reads exactly `length` bytes at `position`, in chunks (one readSync is capped near 2 GB). */
function readExactly(fd: number, into: Uint8Array, position: number, file: string): void {
  let done = 0;
  while (done < into.length) {
    const chunk = Math.min(into.length - done, 1 << 30);
    const got = readSync(fd, into, done, chunk, position + done);
    if (got === 0)
      throw new Error(`${file}: file ends at byte ${position + done}, expected ${into.length - done} more`);
    done += got;
  }
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** An open safetensors file: the parsed header, and tensors read on demand. Call close(). */
export class SafetensorsFile {
  readonly entries: ReadonlyMap<string, SafetensorsEntry>;
  readonly metadata: Readonly<Record<string, string>>;
  private fd: number | undefined;

  private constructor(
    readonly file: string,
    fd: number,
    entries: Map<string, SafetensorsEntry>,
    metadata: Record<string, string>,
  ) {
    this.fd = fd;
    this.entries = entries;
    this.metadata = metadata;
  }

  static open(file: string): SafetensorsFile {
    requireLittleEndian();
    const fd = openSync(file, 'r');
    try {
      const { entries, metadata } = parseHeader(fd, file);
      return new SafetensorsFile(file, fd, entries, metadata);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  entry(name: string): SafetensorsEntry {
    const entry = this.entries.get(name);
    if (!entry) throw new Error(`${this.file}: no tensor named "${name}"`);
    return entry;
  }

  /** Reads one tensor; floats come back as float32 (see LOADED_AS). */
  read(name: string): TensorData {
    if (this.fd === undefined) throw new Error(`${this.file}: read("${name}") after close()`);
    const entry = this.entry(name);
    const dtype = LOADED_AS[entry.dtype];
    if (!dtype) {
      throw new Error(
        `${this.file}: tensor "${name}" has dtype ${entry.dtype}, which the engine cannot load ` +
          `(supported: ${Object.keys(LOADED_AS).join(', ')}); re-save the checkpoint in float32`,
      );
    }
    const n = numel(entry.shape);
    const dims = [...entry.shape];
    const bytesOf = (a: TensorArray) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const fd = this.fd;
    const readInto = <T extends TensorArray>(array: T): T => {
      readExactly(fd, bytesOf(array), entry.begin, this.file);
      return array;
    };
    switch (entry.dtype) {
      case 'F32':
        return { dtype, dims, data: readInto(new Float32Array(n)) };
      case 'F64':
        return { dtype, dims, data: Float32Array.from(readInto(new Float64Array(n))) };
      case 'F16':
      case 'BF16': {
        const bits = readInto(new Uint16Array(n));
        const out = new Float32Array(n);
        (entry.dtype === 'F16' ? f16ToF32 : bf16ToF32)(bits, out);
        return { dtype, dims, data: out };
      }
      case 'I64':
        return { dtype, dims, data: readInto(new BigInt64Array(n)) };
      case 'I32':
        return { dtype, dims, data: readInto(new Int32Array(n)) };
      case 'I8':
        return { dtype, dims, data: readInto(new Int8Array(n)) };
      default:
        return { dtype, dims, data: readInto(new Uint8Array(n)) };
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Reads and validates the header: every error names the file and, where it can, the tensor. */
function parseHeader(
  fd: number,
  file: string,
): { entries: Map<string, SafetensorsEntry>; metadata: Record<string, string> } {
  const size = fstatSync(fd).size;
  const prefix = new Uint8Array(Math.min(size, 64));
  readExactly(fd, prefix, 0, file);
  const start = Buffer.from(prefix).toString('latin1');
  if (start.startsWith('version https://git-lfs')) {
    throw new Error(
      `${file} is a Git LFS pointer, not the weights: the repository was cloned without Git LFS. ` +
        'Run `git lfs install && git lfs pull` in that folder, or use the Hub id so the file is downloaded',
    );
  }
  if (size < 8) throw new Error(`${file} is ${size} bytes: too short to be a safetensors file`);
  const headerLength = Number(Buffer.from(prefix).readBigUInt64LE(0));
  // Checked before anything is allocated for the header: its length comes from the file.
  if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > size) {
    const why =
      headerLength > MAX_HEADER_BYTES
        ? `over the format's limit of ${MAX_HEADER_BYTES} bytes`
        : `past the end of the file (${size} bytes)`;
    throw new Error(
      `${file} is not a safetensors file: its first 8 bytes give a header of ${headerLength} bytes, ${why}`,
    );
  }
  const headerBytes = new Uint8Array(headerLength);
  readExactly(fd, headerBytes, 8, file);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (error) {
    throw new Error(`${file}: the safetensors header is not valid UTF-8 JSON (${(error as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new Error(`${file}: the safetensors header is not a JSON object`);
  }
  const dataStart = 8 + headerLength;
  const entries = new Map<string, SafetensorsEntry>();
  const metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      for (const [k, v] of Object.entries((value ?? {}) as Record<string, unknown>)) {
        if (typeof v === 'string') metadata[k] = v;
      }
      continue;
    }
    const info = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    const where = `${file}: tensor "${name}"`;
    const bytes = typeof info?.dtype === 'string' ? DTYPE_BYTES[info.dtype] : undefined;
    if (!info || bytes === undefined) throw new Error(`${where} has unknown dtype ${JSON.stringify(info?.dtype)}`);
    const shape = info.shape;
    if (!Array.isArray(shape) || !shape.every(isCount)) {
      throw new Error(`${where} has an invalid shape ${JSON.stringify(shape)}`);
    }
    const offsets = info.data_offsets;
    // [1, 0] stands for "malformed" so that one check below reports every bad form.
    const [begin, end] = (
      Array.isArray(offsets) && offsets.length === 2 && offsets.every(isCount) ? offsets : [1, 0]
    ) as [number, number];
    if (end < begin) throw new Error(`${where} has invalid data_offsets ${JSON.stringify(offsets)}`);
    const expected = numel(shape) * bytes;
    if (end - begin !== expected) {
      throw new Error(
        `${where}: ${info.dtype} [${shape.join(', ')}] needs ${expected} bytes but data_offsets span ${end - begin}`,
      );
    }
    if (dataStart + end > size) {
      throw new Error(`${where} ends at byte ${dataStart + end} but the file has ${size}: the file is truncated`);
    }
    entries.set(name, { name, dtype: info.dtype as string, shape, begin: dataStart + begin, end: dataStart + end });
  }
  return { entries, metadata };
}

/** Reads a whole file (or only `names`) into memory. */
export function readSafetensors(
  file: string,
  names?: Iterable<string>,
): { tensors: Map<string, TensorData>; metadata: Record<string, string> } {
  const st = SafetensorsFile.open(file);
  try {
    const tensors = new Map<string, TensorData>();
    for (const name of names ?? st.entries.keys()) tensors.set(name, st.read(name));
    return { tensors, metadata: { ...st.metadata } };
  } finally {
    st.close();
  }
}

/** Byte comparison of UTF-8 names, as Rust's `String` ordering does. */
const compareNames = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** The bytes a tensor occupies in a safetensors file. */
export function storedBytes(tensor: TensorData): number {
  return tensor.data.byteLength;
}

/**
 * Serialises the header exactly as serde_json does for the Rust `Metadata`: `__metadata__`
 * first, then tensors in offset order, fields in the order dtype, shape, data_offsets, no
 * whitespace. Built by hand because a JS object would move integer-like names to the front.
 */
function headerJson(
  ordered: readonly (readonly [string, TensorData])[],
  metadata: Readonly<Record<string, string>> | null,
): string {
  const parts: string[] = [];
  if (metadata) {
    const fields = Object.entries(metadata).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
    parts.push(`"__metadata__":{${fields.join(',')}}`);
  }
  let offset = 0;
  for (const [name, tensor] of ordered) {
    const end = offset + storedBytes(tensor);
    const dtype = STORED_AS[tensor.dtype];
    parts.push(
      `${JSON.stringify(name)}:{"dtype":"${dtype}","shape":[${tensor.dims.join(',')}],"data_offsets":[${offset},${end}]}`,
    );
    offset = end;
  }
  return `{${parts.join(',')}}`;
}

/** Tensors in the order the Rust writer lays them out. */
export function writeOrder(tensors: Iterable<readonly [string, TensorData]>): (readonly [string, TensorData])[] {
  const rank = (t: TensorData) => ALIGNMENT_RANK[STORED_AS[t.dtype]] ?? 0;
  return [...tensors].sort(([an, at], [bn, bt]) => rank(bt) - rank(at) || compareNames(an, bn));
}

/** The complete header block (length prefix + padded JSON) for `tensors`, already ordered. */
function headerBlock(
  ordered: readonly (readonly [string, TensorData])[],
  metadata: Record<string, string> | null,
): Buffer {
  const json = Buffer.from(headerJson(ordered, metadata), 'utf8');
  const padded = Buffer.alloc(json.length + ((8 - (json.length % 8)) % 8), 0x20);
  json.copy(padded);
  const block = Buffer.alloc(8 + padded.length);
  block.writeBigUInt64LE(BigInt(padded.length), 0);
  padded.copy(block, 8);
  return block;
}

/**
 * Writes `tensors` to `file` atomically. `metadata` defaults to `{format: "pt"}`, which
 * transformers' `from_pretrained` requires (it rejects files whose format is missing or unknown).
 * Tensor bytes go straight from their typed arrays to the file, with no intermediate copy.
 */
export function writeSafetensors(
  file: string,
  tensors: Iterable<readonly [string, TensorData]>,
  metadata: Record<string, string> | null = { format: 'pt' },
): void {
  requireLittleEndian();
  const ordered = writeOrder(tensors);
  const seen = new Set<string>();
  for (const [name, tensor] of ordered) {
    if (name === '__metadata__') throw new Error(`${file}: "__metadata__" is reserved and cannot name a tensor`);
    if (seen.has(name)) throw new Error(`${file}: tensor "${name}" is given twice`);
    seen.add(name);
    if (tensor.data.length !== numel(tensor.dims)) {
      throw new Error(
        `${file}: tensor "${name}" has ${tensor.data.length} elements but shape [${tensor.dims.join(', ')}] needs ${numel(tensor.dims)}`,
      );
    }
  }
  const header = headerBlock(ordered, metadata);
  writeFileAtomic(file, (fd) => {
    writeAll(fd, header);
    for (const [, t] of ordered) writeAll(fd, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  });
}
