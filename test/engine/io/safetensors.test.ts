import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type TensorData, tensorOf } from '../../../src/engine/graph/types.js';
import { bf16ToF32, f16ToF32 } from '../../../src/engine/io/half.js';
import { readSafetensors, SafetensorsFile, writeSafetensors } from '../../../src/engine/io/safetensors.js';

const dir = mkdtempSync(join(tmpdir(), 'safetensors-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A safetensors file built byte by byte: 8-byte length, JSON, data. */
function handBuilt(name: string, header: object, data: Uint8Array): string {
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat([length, json, data]));
  return path;
}

const u16 = (...values: number[]) => new Uint8Array(new Uint16Array(values).buffer);

test('float32 round trip keeps names, shapes, values and metadata', () => {
  const weights = new Map<string, TensorData>([
    ['encoder.layer.0.weight', tensorOf('float32', [2, 3], [1, -2, 0.5, 3.25, -0, 1e-8])],
    ['bias', tensorOf('float32', [3], [0.1, 0.2, 0.3])],
    ['scalar', tensorOf('float32', [], [7])],
    ['empty', tensorOf('float32', [0, 4], [])],
    ['10', tensorOf('float32', [1], [10])],
  ]);
  const path = join(dir, 'round.safetensors');
  writeSafetensors(path, weights);
  const { tensors, metadata } = readSafetensors(path);
  assert.deepEqual(metadata, { format: 'pt' });
  assert.deepEqual([...tensors.keys()].sort(), [...weights.keys()].sort());
  for (const [name, t] of weights) {
    const got = tensors.get(name) as TensorData;
    assert.equal(got.dtype, 'float32', name);
    assert.deepEqual(got.dims, t.dims, name);
    assert.deepEqual(Array.from(got.data as Float32Array), Array.from(t.data as Float32Array), name);
  }
});

test('header bytes match the Rust writer (its own test vectors)', () => {
  // From safetensors' tensor.rs tests: serialize({"attn.0": F32 [1,2,3] = 0..5}) and the
  // "forced alignment" case {"attn0": F32 [1,1,2,3]}, whose JSON needs 7 spaces of padding.
  const values = [0, 1, 2, 3, 4, 5];
  const expectAttn = `{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}`;
  const a = join(dir, 'attn.safetensors');
  writeSafetensors(a, [['attn.0', tensorOf('float32', [1, 2, 3], values)]], null);
  const bytesA = readFileSync(a);
  assert.equal(bytesA.readBigUInt64LE(0), 64n);
  assert.equal(bytesA.subarray(8, 72).toString(), expectAttn.padEnd(64, ' '));
  assert.deepEqual(
    Array.from(new Float32Array(bytesA.buffer.slice(bytesA.byteOffset + 72, bytesA.byteOffset + 96))),
    values,
  );

  const b = join(dir, 'attn0.safetensors');
  writeSafetensors(b, [['attn0', tensorOf('float32', [1, 1, 2, 3], values)]], null);
  const bytesB = readFileSync(b);
  const json = `{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}`;
  assert.equal(json.length, 65);
  assert.equal(bytesB.readBigUInt64LE(0), 72n);
  assert.equal(bytesB.subarray(8, 80).toString(), `${json}       `);
  assert.equal(bytesB.length, 8 + 72 + 24);
});

test('__metadata__ comes first and the header stays 8-byte aligned', () => {
  const path = join(dir, 'meta.safetensors');
  for (let n = 1; n <= 9; n++) {
    writeSafetensors(path, [['x'.repeat(n), tensorOf('float32', [1], [1])]]);
    const bytes = readFileSync(path);
    const length = Number(bytes.readBigUInt64LE(0));
    assert.equal(length % 8, 0, `name of ${n} chars`);
    assert.ok(
      bytes
        .subarray(8, 8 + length)
        .toString()
        .startsWith('{"__metadata__":{"format":"pt"},"x'),
    );
    assert.equal(bytes.length, 8 + length + 4);
  }
});

test('tensors are laid out by descending dtype alignment, then by name bytes', () => {
  const path = join(dir, 'order.safetensors');
  writeSafetensors(path, [
    ['b', tensorOf('float32', [1], [1])],
    ['mask', tensorOf('uint8', [2], [1, 0])],
    ['a', tensorOf('float32', [1], [2])],
    ['ids', tensorOf('int64', [2], [3, 4])],
    ['B', tensorOf('float32', [1], [3])],
    ['half', { dtype: 'float16', dims: [1], data: new Uint16Array([0x3c00]) }],
  ]);
  const st = SafetensorsFile.open(path);
  try {
    const byOffset = [...st.entries.values()].sort((x, y) => x.begin - y.begin).map((e) => `${e.name}:${e.dtype}`);
    assert.deepEqual(byOffset, ['ids:I64', 'B:F32', 'a:F32', 'b:F32', 'half:F16', 'mask:U8']);
    assert.deepEqual(tensorNumbersOf(st.read('ids')), [3, 4]);
    assert.deepEqual(tensorNumbersOf(st.read('half')), [1]);
  } finally {
    st.close();
  }
});

const tensorNumbersOf = (t: TensorData) => Array.from(t.data as ArrayLike<number | bigint>, Number);

test('hand-built F16, BF16, F64, I64 and I32 tensors load with the right values', () => {
  // F16: 1.0, -2.0, 0.5, 2^-24 (smallest subnormal), -inf.  BF16: 1.0, 3.140625, -0.5.
  const f16 = u16(0x3c00, 0xc000, 0x3800, 0x0001, 0xfc00);
  const bf16 = u16(0x3f80, 0x4049, 0xbf00);
  const f64 = new Uint8Array(new Float64Array([0.25, -1e10]).buffer);
  const i64 = new Uint8Array(new BigInt64Array([0n, 511n]).buffer);
  const i32 = new Uint8Array(new Int32Array([-7, 9]).buffer);
  const data = Buffer.concat([f64, i64, i32, f16, bf16]);
  const path = handBuilt(
    'mixed.safetensors',
    {
      __metadata__: { format: 'pt' },
      d: { dtype: 'F64', shape: [2], data_offsets: [0, 16] },
      position_ids: { dtype: 'I64', shape: [1, 2], data_offsets: [16, 32] },
      i: { dtype: 'I32', shape: [2], data_offsets: [32, 40] },
      h: { dtype: 'F16', shape: [5], data_offsets: [40, 50] },
      b: { dtype: 'BF16', shape: [3], data_offsets: [50, 56] },
    },
    data,
  );
  const { tensors } = readSafetensors(path);
  const get = (n: string) => tensors.get(n) as TensorData;
  assert.equal(get('h').dtype, 'float32');
  assert.deepEqual(Array.from(get('h').data as Float32Array), [1, -2, 0.5, 2 ** -24, -Infinity]);
  assert.deepEqual(Array.from(get('b').data as Float32Array), [1, 3.140625, -0.5]);
  assert.deepEqual(Array.from(get('d').data as Float32Array), [0.25, Math.fround(-1e10)]);
  assert.equal(get('position_ids').dtype, 'int64');
  assert.deepEqual(get('position_ids').dims, [1, 2]);
  assert.deepEqual(Array.from(get('position_ids').data as BigInt64Array), [0n, 511n]);
  assert.equal(get('i').dtype, 'int32');
  assert.deepEqual(Array.from(get('i').data as Int32Array), [-7, 9]);
});

test('f16 decoding agrees with the IEEE formula on all 65536 bit patterns', () => {
  const bits = new Uint16Array(65536).map((_, i) => i);
  const out = new Float32Array(65536);
  f16ToF32(bits, out);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    const want =
      e === 31
        ? m
          ? Number.NaN
          : sign * Infinity
        : e === 0
          ? sign * m * 2 ** -24
          : sign * (1 + m / 1024) * 2 ** (e - 15);
    assert.ok(
      Object.is(out[h], want) || (Number.isNaN(want) && Number.isNaN(out[h] as number)),
      `0x${h.toString(16)}: ${out[h]} vs ${want}`,
    );
  }
  const bf = new Float32Array(1);
  bf16ToF32(new Uint16Array([0xc2f7]), bf);
  assert.equal(bf[0], -123.5);
});

test('reading only some tensors leaves the others unread', () => {
  const path = join(dir, 'subset.safetensors');
  writeSafetensors(path, [
    ['keep', tensorOf('float32', [2], [1, 2])],
    ['skip', tensorOf('float32', [2], [3, 4])],
  ]);
  const { tensors } = readSafetensors(path, ['keep']);
  assert.deepEqual([...tensors.keys()], ['keep']);
});

test('damaged files fail with the file name and what is wrong', () => {
  const good = join(dir, 'good.safetensors');
  writeSafetensors(good, [['w', tensorOf('float32', [4], [1, 2, 3, 4])]]);
  const bytes = readFileSync(good);
  const truncated = join(dir, 'truncated.safetensors');
  writeFileSync(truncated, bytes.subarray(0, bytes.length - 4));
  assert.throws(
    () => SafetensorsFile.open(truncated),
    (e: Error) => e.message.includes(truncated) && /truncated/.test(e.message),
  );

  const lfs = join(dir, 'lfs.safetensors');
  writeFileSync(lfs, 'version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n');
  assert.throws(() => SafetensorsFile.open(lfs), /Git LFS pointer.*git lfs pull/s);

  const pickle = join(dir, 'pickle.safetensors');
  writeFileSync(pickle, Buffer.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8]));
  assert.throws(() => SafetensorsFile.open(pickle), /is not a safetensors file/);

  const badSize = handBuilt(
    'bad-size.safetensors',
    { w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } },
    new Uint8Array(8),
  );
  assert.throws(() => SafetensorsFile.open(badSize), /tensor "w": F32 \[3\] needs 12 bytes but data_offsets span 8/);

  const badDtype = handBuilt(
    'bad-dtype.safetensors',
    { w: { dtype: 'F128', shape: [1], data_offsets: [0, 16] } },
    new Uint8Array(16),
  );
  assert.throws(() => SafetensorsFile.open(badDtype), /tensor "w" has unknown dtype "F128"/);

  const fp8 = handBuilt(
    'fp8.safetensors',
    { w: { dtype: 'F8_E4M3', shape: [2], data_offsets: [0, 2] } },
    new Uint8Array(2),
  );
  const st = SafetensorsFile.open(fp8);
  try {
    assert.throws(() => st.read('w'), /tensor "w" has dtype F8_E4M3, which the engine cannot load/);
  } finally {
    st.close();
  }
});

test('a header length past the end of the file or over 100 MB is an error naming the file', () => {
  const withLength = (name: string, length: bigint, rest: number) => {
    const prefix = Buffer.alloc(8);
    prefix.writeBigUInt64LE(length);
    const path = join(dir, name);
    writeFileSync(path, Buffer.concat([prefix, Buffer.from('{}'.padEnd(rest, ' '))]));
    return path;
  };
  // 2^60: a buffer of that length would fail to allocate, or take the machine's memory.
  for (const [name, length, why] of [
    ['past-end.safetensors', 4096n, /header of 4096 bytes, past the end of the file \(72 bytes\)/],
    ['huge.safetensors', 2n ** 60n, /header of \d+ bytes, over the format's limit of 100000000 bytes/],
    ['just-over.safetensors', 100_000_001n, /over the format's limit/],
  ] as const) {
    const path = withLength(name, length, 64);
    assert.throws(
      () => SafetensorsFile.open(path),
      (e: Error) => e.message.startsWith(`${path} is not a safetensors file`) && why.test(e.message),
    );
  }
  // The same header length with the bytes there is read.
  const fits = withLength('fits.safetensors', 64n, 64);
  SafetensorsFile.open(fits).close();
});

test('writing rejects a reserved name and data that does not fill the shape', () => {
  const path = join(dir, 'reject.safetensors');
  assert.throws(() => writeSafetensors(path, [['__metadata__', tensorOf('float32', [1], [1])]]), /reserved/);
  const short: TensorData = { dtype: 'float32', dims: [2, 2], data: new Float32Array(3) };
  assert.throws(() => writeSafetensors(path, [['w', short]]), /"w" has 3 elements but shape \[2, 2\] needs 4/);
});
