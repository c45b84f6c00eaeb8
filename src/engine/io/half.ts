/**
 * 16-bit float decoding. Checkpoints on the Hub are often stored in float16 or bfloat16 to halve
 * their size; the engine trains in float32, so both are widened on load. Both conversions are
 * exact (every half and bfloat16 value is representable in float32).
 *
 * They work on the bit patterns through a Uint32Array view of the destination: one integer
 * expression per element instead of Math.pow, which matters for 100M-element checkpoints.
 */

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
