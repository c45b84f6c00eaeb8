/**
 * 16-bit floats. Checkpoints on the Hub are often stored in float16 or bfloat16 to halve their
 * size; the engine trains in float32, so both are widened on load. Both widenings are exact
 * (every half and bfloat16 value is representable in float32); the narrowings that `export
 * --dtype` uses round as torch does.
 *
 * They work on the bit patterns through a Uint32Array view of the destination: one integer
 * expression per element instead of Math.pow, which matters for 100M-element checkpoints.
 */
import type { TensorData } from '../graph/types.js';

/** IEEE 754 binary16 bit patterns -> float32 values, element by element into `out`. */
export function f16ToF32(bits: Uint16Array, out: Float32Array): void {
  const raw = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i] as number;
    const sign = (h & 0x8000) << 16;
    const exponent = h & 0x7c00;
    const mantissa = h & 0x03ff;
    if (exponent === 0x7c00) {
      // Infinity (mantissa 0) or NaN (payload kept).
      raw[i] = sign | 0x7f800000 | (mantissa << 13);
    } else if (exponent !== 0) {
      // Normal number: rebias the exponent from 15 to 127 (add 112 << 10 before the shift).
      raw[i] = sign | ((exponent + 0x1c000) << 13) | (mantissa << 13);
    } else if (mantissa === 0) {
      raw[i] = sign; // signed zero
    } else {
      // Subnormal half: a normal float32, simplest computed arithmetically (rare in weights).
      out[i] = (sign ? -1 : 1) * mantissa * 2 ** -24;
    }
  }
}

/** bfloat16 bit patterns -> float32: bfloat16 is the top half of a float32. */
export function bf16ToF32(bits: Uint16Array, out: Float32Array): void {
  const raw = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < bits.length; i++) raw[i] = (bits[i] as number) << 16;
}

/**
 * float32 -> bfloat16 bit patterns, rounding to nearest even as torch's `.to(torch.bfloat16)`
 * does (c10::detail::round_to_nearest_even): NaN becomes the quiet NaN 0x7FC0, finite values
 * past the largest bfloat16 round to infinity.
 */
export function f32ToBf16(values: Float32Array, out: Uint16Array = new Uint16Array(values.length)): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i] as number;
    const nan = (b & 0x7fffffff) >>> 0 > 0x7f800000;
    out[i] = nan ? 0x7fc0 : (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
  }
  return out;
}

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);
const f32Bits = (x: number): number => {
  scratch[0] = x;
  return scratchBits[0] as number;
};
const f32FromBits = (b: number): number => {
  scratchBits[0] = b;
  return scratch[0] as number;
};

/**
 * float32 -> IEEE binary16 bit patterns as torch's `.to(torch.float16)` converts on CPU
 * (c10::detail::fp16_ieee_from_fp32_value, from the FP16 library): round to nearest even,
 * subnormals rounded too, overflow to ±infinity, NaN to a quiet NaN with its sign. The float32
 * arithmetic of the original is reproduced with Math.fround (a double result rounded to float32
 * is the float32 result for one addition or multiplication).
 */
export function f32ToF16(values: Float32Array, out: Uint16Array = new Uint16Array(values.length)): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < bits.length; i++) {
    const w = bits[i] as number;
    const shl1 = (w << 1) >>> 0;
    const sign = (w >>> 16) & 0x8000;
    if (shl1 > 0xff000000) {
      out[i] = sign | 0x7e00; // NaN
      continue;
    }
    // |f| * 2^112 overflows float32 to infinity exactly when f rounds to an infinite half.
    let base = Math.fround(Math.fround(Math.abs(values[i] as number) * 2 ** 112) * 2 ** -110);
    let bias = (shl1 & 0xff000000) >>> 0;
    if (bias < 0x71000000) bias = 0x71000000;
    base = Math.fround(f32FromBits(((bias >>> 1) + 0x07800000) >>> 0) + base);
    const b = f32Bits(base);
    out[i] = sign | (((b >>> 13) & 0x7c00) + (b & 0x0fff));
  }
  return out;
}

/** The dtypes a model folder's float weights can be saved in (`finetune export --dtype`). */
export type SavedFloatDtype = 'float32' | 'float16' | 'bfloat16';
export const SAVED_FLOAT_DTYPES: readonly SavedFloatDtype[] = ['float32', 'float16', 'bfloat16'];

/** A float32 tensor rounded to `dtype` (float32: the tensor itself); other dtypes are returned as they are. */
export function toStoredDtype(t: TensorData, dtype: SavedFloatDtype): TensorData {
  if (t.dtype !== 'float32' || dtype === 'float32') return t;
  const data = t.data as Float32Array;
  return { dtype, dims: t.dims, data: dtype === 'bfloat16' ? f32ToBf16(data) : f32ToF16(data) };
}
