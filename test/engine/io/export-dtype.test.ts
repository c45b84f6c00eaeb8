import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { exportCommand } from '../../../src/engine/commands/model-commands.js';
import { encodeModel } from '../../../src/engine/graph/onnx-codec.js';
import { type TensorData, tensorNumbers } from '../../../src/engine/graph/types.js';
import { loadCausalLm } from '../../../src/engine/inference/causal-lm-model.js';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from '../../../src/engine/io/half.js';
import { SafetensorsFile, writeSafetensors } from '../../../src/engine/io/safetensors.js';
import { createSession } from '../../../src/engine/runtime.js';
import { buildInference } from '../../../src/engine/step/step-graph.js';
import { collateLm } from '../../../src/engine/tasks/causal-lm/recipe.js';
import { writeTinyDecoder } from '../../fixtures/tiny-decoders.js';

const root = mkdtempSync(join(tmpdir(), 'export-dtype-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** float32 values given by their bit patterns. */
const fromBits = (bits: number[]) => new Float32Array(new Uint32Array(bits).buffer);
const hex = (xs: Iterable<number>) => [...xs].map((x) => `0x${x.toString(16).padStart(4, '0')}`);

test('float32 -> bfloat16: round to nearest even on the bits, NaN quiet, overflow to infinity', () => {
  // Expected patterns by hand from torch's c10 round_to_nearest_even: (u + 0x7fff + lsb) >> 16, NaN -> 0x7fc0.
  const cases: [number, number][] = [
    [0x3f800000, 0x3f80], // 1
    [0x3f808000, 0x3f80], // 1 + 2^-8: a tie, 0x3f80 is even -> down
    [0x3f818000, 0x3f82], // 1 + 3·2^-8: a tie, 0x3f81 is odd -> up
    [0x3f808001, 0x3f81], // just above the tie -> up
    [0x3f807fff, 0x3f80], // just below -> down
    [0xc0200000, 0xc020], // -2.5
    [0x00000000, 0x0000], // +0
    [0x80000000, 0x8000], // -0
    [0x7f800000, 0x7f80], // +inf
    [0xff800000, 0xff80], // -inf
    [0x7f7fffff, 0x7f80], // FLT_MAX rounds up past the largest bfloat16: inf
    [0x7fc00000, 0x7fc0], // NaN
    [0xffc00001, 0x7fc0], // a negative NaN with payload: torch's canonical NaN
    [0x7f800001, 0x7fc0], // a signalling NaN must not round to inf
  ];
  const got = f32ToBf16(fromBits(cases.map(([x]) => x)));
  assert.deepEqual(hex(got), hex(cases.map(([, y]) => y)));
  // Widening back is exact: bfloat16 values survive the round trip bit for bit.
  const widened = new Float32Array(got.length);
  bf16ToF32(got, widened);
  assert.deepEqual(hex(f32ToBf16(widened)), hex(got));
  assert.ok(Number.isNaN(widened[11]));
});

test('float32 -> float16: round to nearest even, subnormals, overflow to infinity, NaN kept', () => {
  // Expected patterns by hand (IEEE binary16: 1 sign, 5 exponent bits biased by 15, 10 mantissa bits).
  const cases: [number, number][] = [
    [1, 0x3c00],
    [-2, 0xc000],
    [0.1, 0x2e66], // 0.0999755859375, the nearest half
    [1 + 2 ** -11, 0x3c00], // a tie, even mantissa -> down
    [1 + 3 * 2 ** -11, 0x3c02], // a tie, odd mantissa 1 -> up to 2
    [65504, 0x7bff], // the largest half
    [65519, 0x7bff], // below the midpoint to 65536
    [65520, 0x7c00], // the midpoint: ties to even, 65536, which overflows to inf
    [1e6, 0x7c00],
    [-1e6, 0xfc00],
    [2 ** -14, 0x0400], // the smallest normal
    [2 ** -24, 0x0001], // the smallest subnormal
    [2 ** -25, 0x0000], // a tie between 0 and 2^-24: even -> 0
    [3 * 2 ** -25, 0x0002], // a tie between 1 and 2 (·2^-24): even -> 2
    [-(2 ** -26), 0x8000], // underflow keeps the sign
    [Number.POSITIVE_INFINITY, 0x7c00],
    [Number.NEGATIVE_INFINITY, 0xfc00],
    [Number.NaN, 0x7e00],
  ];
  const got = f32ToF16(new Float32Array(cases.map(([x]) => x)));
  assert.deepEqual(hex(got), hex(cases.map(([, y]) => y)));
  assert.equal(f32ToF16(fromBits([0xffc00000]))[0], 0xfe00, 'a negative NaN keeps its sign');
  // Every finite half survives float32 and back.
  const all = new Uint16Array(0x7c00).map((_, i) => i);
  const widened = new Float32Array(all.length);
  f16ToF32(all, widened);
  assert.deepEqual(f32ToF16(widened), all);
});

test('the safetensors writer stores bfloat16 and float16 tensors; the reader widens them back', () => {
  const file = join(root, 'half.safetensors');
  const values = new Float32Array([1, -2.5, 0.1, 3e38]);
  writeSafetensors(file, [
    ['a', { dtype: 'bfloat16', dims: [4], data: f32ToBf16(values) }],
    ['b', { dtype: 'float16', dims: [2, 2], data: f32ToF16(values) }],
    ['c', { dtype: 'float32', dims: [4], data: values }],
  ]);
  const st = SafetensorsFile.open(file);
  try {
    assert.equal(st.entries.get('a')?.dtype, 'BF16');
    assert.equal(st.entries.get('b')?.dtype, 'F16');
    // bfloat16 keeps 8 significant bits, by hand: 0.1 = 1.6·2^-4 -> (205/128)·2^-4; 3e38 = 1.763·2^127 -> (226/128)·2^127
    assert.deepEqual([...(st.read('a').data as Float32Array)], [1, -2.5, 0.10009765625, (226 / 128) * 2 ** 127]);
    assert.deepEqual([...(st.read('b').data as Float32Array)], [1, -2.5, 0.0999755859375, Number.POSITIVE_INFINITY]);
    // the Rust writer's order: descending dtype alignment (F32 > BF16 > F16), then by name
    assert.deepEqual([...st.entries.keys()], ['c', 'a', 'b']);
  } finally {
    st.close();
  }
});

async function logitsOf(folder: string, texts: readonly string[]): Promise<number[]> {
  const lm = await loadCausalLm(folder, { threads: 1 });
  try {
    const batch = collateLm(
      texts.map((t) => ({ inputIds: lm.tokenizer.encode(t, null).ids })),
      lm.padId,
    );
    const session = await createSession(encodeModel(buildInference(lm.model, lm.weights)), {
      device: 'cpu',
      threads: 1,
    });
    try {
      const out = await session.run({
        input_ids: batch.input_ids as TensorData,
        attention_mask: batch.attention_mask as TensorData,
      });
      return tensorNumbers(out.logits as TensorData);
    } finally {
      await session.dispose();
    }
  } finally {
    await lm.dispose();
  }
}

test('finetune export --dtype: bfloat16 / float16 llama folders reload with logits close to the float32 one', async () => {
  const source = join(root, 'llama');
  mkdirSync(source);
  writeTinyDecoder(source, 'llama', { dtype: 'float32', config: { dtype: 'float32' } });
  const texts = ['the cat sees the dog', 'a bird'];
  const run = (dtype: string | undefined) => {
    const out = join(root, `out-${dtype ?? 'default'}`);
    const flags = dtype ? ['--dtype', dtype] : [];
    return exportCommand.run([source, '--format', 'safetensors', '--out', out, ...flags]).then((code) => {
      assert.equal(code, 0);
      return out;
    });
  };
  const f32 = await run(undefined);
  const bf16 = await run('bfloat16');
  const f16 = await run('float16');
  const config = (dir: string) => JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  const dtypes = (dir: string) => {
    const st = SafetensorsFile.open(join(dir, 'model.safetensors'));
    try {
      return new Set([...st.entries.values()].map((e) => e.dtype));
    } finally {
      st.close();
    }
  };
  // the default stays float32
  assert.deepEqual([config(f32).torch_dtype, config(f32).dtype], ['float32', 'float32']);
  assert.deepEqual(dtypes(f32), new Set(['F32']));
  assert.deepEqual([config(bf16).torch_dtype, config(bf16).dtype], ['bfloat16', 'bfloat16']);
  assert.deepEqual(dtypes(bf16), new Set(['BF16']));
  assert.deepEqual([config(f16).torch_dtype, config(f16).dtype], ['float16', 'float16']);
  assert.deepEqual(dtypes(f16), new Set(['F16']));
  // the stored bits are exactly the float32 weights rounded
  const st32 = SafetensorsFile.open(join(f32, 'model.safetensors'));
  const st16 = SafetensorsFile.open(join(bf16, 'model.safetensors'));
  try {
    const name = 'model.layers.0.self_attn.q_proj.weight';
    const want = f32ToBf16(st32.read(name).data as Float32Array);
    const widened = st16.read(name).data as Float32Array;
    assert.deepEqual(f32ToBf16(widened), want);
  } finally {
    st32.close();
    st16.close();
  }

  const reference = await logitsOf(f32, texts);
  const scale = Math.max(...reference.map(Math.abs));
  for (const [dir, tolerance] of [
    [bf16, 0.05],
    [f16, 0.005],
  ] as const) {
    const got = await logitsOf(dir, texts);
    assert.equal(got.length, reference.length);
    let maxDiff = 0;
    for (let i = 0; i < got.length; i++)
      maxDiff = Math.max(maxDiff, Math.abs((got[i] as number) - (reference[i] as number)));
    console.log(
      `export --dtype ${dir.split('-').at(-1)}: max |Δlogit| ${maxDiff.toExponential(2)} (max |logit| ${scale.toFixed(3)})`,
    );
    assert.ok(maxDiff > 0, 'the weights were rounded');
    assert.ok(maxDiff < tolerance * scale, `max |Δlogit| ${maxDiff} vs ${tolerance} × ${scale}`);
  }
  await assert.rejects(
    exportCommand.run([source, '--format', 'safetensors', '--out', f32, '--dtype', 'int8']),
    /--dtype must be one of float32, float16, bfloat16/,
  );
});
