import type { GraphBuilder } from '../../graph/builder.js';
import type { Value } from '../../graph/types.js';
import { HfConfigReader } from '../hf-config.js';

/**
 * Rotary position embeddings as transformers' modeling_rope_utils computes them: inverse
 * frequencies inv_freq[i] = 1 / θ^(2i/d) over the rotated dims d (head_dim · partial_rotary_factor),
 * θ = `rope_theta`, rescaled by `rope_scaling` of type `linear` or `llama3`; then
 * cos/sin(position · inv_freq) duplicated over both halves, applied with `rotate_half`.
 *
 * The frequencies are computed here in float32 step by step (Math.fround after each operation), as
 * PyTorch computes them in float32 tensors, so the graph's constant holds the same bits transformers'
 * `inv_freq` buffer does.
 */

const f32 = Math.fround;

/** The rope_scaling types built here; any other is refused (config.json names it). */
export const ROPE_SCALING_TYPES = ['linear', 'llama3'] as const;

/** The rotation's parameters, from config.json. */
export interface RopeSpec {
  /** Rotated dims at the start of each head (head_dim, or less with partial_rotary_factor). */
  dims: number;
  /** [dims / 2] float32 inverse frequencies, scaling applied. */
  invFreq: Float32Array;
}

/** transformers' default inv_freq: 1 / (θ ** (arange(0, d, 2) / d)) in float32. */
function defaultInvFreq(theta: number, dims: number): Float32Array {
  const out = new Float32Array(dims / 2);
  for (let i = 0; i < out.length; i++) out[i] = f32(1 / f32(f32(theta) ** f32((2 * i) / dims)));
  return out;
}

/** `_compute_llama3_parameters`: low frequencies divided by `factor`, a smooth ramp between. */
function llama3InvFreq(inv: Float32Array, scaling: Record<string, unknown>, where: string): Float32Array {
  const num = (key: string): number => {
    const v = scaling[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${where}.${key} must be a number`);
    return v;
  };
  const factor = f32(num('factor'));
  const low = num('low_freq_factor');
  const high = num('high_freq_factor');
  const oldContext = num('original_max_position_embeddings');
  const lowWavelen = f32(oldContext / low);
  const highWavelen = f32(oldContext / high);
  return inv.map((freq) => {
    const wavelen = f32(f32(2 * Math.PI) / freq);
    const scaled = wavelen > lowWavelen ? f32(freq / factor) : freq;
    const medium = !(wavelen < highWavelen) && !(wavelen > lowWavelen);
    if (!medium) return scaled;
    const smooth = f32(f32(f32(f32(oldContext) / wavelen) - f32(low)) / f32(high - low));
    return f32(f32(f32(f32(1 - smooth) * scaled) / factor) + f32(smooth * scaled));
  });
}

/**
 * The rotation of a config.json: `rope_theta` (default 10000), `partial_rotary_factor` (default
 * 1), `rope_scaling` (null, or `{rope_type | type: linear | llama3, ...}`).
 */
export function ropeSpec(cfg: HfConfigReader, headDim: number): RopeSpec {
  // transformers 5 writes `rope_parameters: {rope_type, rope_theta, ...}` instead of rope_theta and
  // rope_scaling: read from it when present, so its theta is never silently replaced by the default.
  const params = cfg.raw.rope_parameters;
  const nested =
    typeof params === 'object' && params !== null && !Array.isArray(params) ? (params as Record<string, unknown>) : {};
  const inner = new HfConfigReader(nested, `${cfg.source} (rope_parameters)`);
  const factor = inner.has('partial_rotary_factor')
    ? inner.num('partial_rotary_factor')
    : cfg.num('partial_rotary_factor', 1);
  const dims = Math.trunc(headDim * factor);
  if (dims < 2 || dims % 2 !== 0) {
    throw new Error(
      `${cfg.source}: partial_rotary_factor gives ${dims} rotated dims of head_dim ${headDim}; need an even number >= 2`,
    );
  }
  const theta = inner.has('rope_theta') ? inner.num('rope_theta') : cfg.num('rope_theta', 10000);
  const inv = defaultInvFreq(theta, dims);
  const key = cfg.has('rope_scaling') ? 'rope_scaling' : 'rope_parameters';
  const scaling = cfg.raw[key];
  if (scaling === undefined || scaling === null) return { dims, invFreq: inv };
  if (typeof scaling !== 'object' || Array.isArray(scaling)) {
    throw new Error(`${cfg.source}: key '${key}' must be an object or null`);
  }
  const s = scaling as Record<string, unknown>;
  const type = s.rope_type ?? s.type ?? 'default';
  if (type === 'default') return { dims, invFreq: inv };
  if (type === 'linear') {
    const factor = s.factor;
    if (typeof factor !== 'number' || !(factor > 0))
      throw new Error(`${cfg.source}: ${key}.factor must be a positive number`);
    return { dims, invFreq: inv.map((f) => f32(f / f32(factor))) };
  }
  if (type === 'llama3') return { dims, invFreq: llama3InvFreq(inv, s, `${cfg.source}: ${key}`) };
  throw new Error(
    `${cfg.source}: key '${key}' has type ${JSON.stringify(type)}, which is not supported (supported: ${ROPE_SCALING_TYPES.join(', ')}, or null)`,
  );
}

/** cos and sin of position · inv_freq, both halves. // [B, T] int64 -> [B, 1, T, dims] each */
export function rotaryTables(g: GraphBuilder, rope: RopeSpec, positions: Value): { cos: Value; sin: Value } {
  const inv = g.constant(rope.invFreq, [rope.invFreq.length]);
  const freqs = g.mul(g.unsqueeze(g.cast(positions, g.floatType), [2]), inv); // [B, T, dims/2]
  const angles = g.unsqueeze(g.concat([freqs, freqs], -1), [1]); // [B, 1, T, dims]
  return { cos: g.cos(angles), sin: g.sin(angles) };
}

/**
 * `apply_rotary_pos_emb` on one of q, k: x·cos + rotate_half(x)·sin over the first `dims` of each
 * head, the rest passed through (partial rotary). // [B, heads, T, headDim]
 */
export function rotate(
  g: GraphBuilder,
  x: Value,
  tables: { cos: Value; sin: Value },
  dims: number,
  headDim: number,
): Value {
  const [rot, pass] = dims < headDim ? g.split(x, [dims, headDim - dims], -1) : [x];
  const [x1, x2] = g.split(rot as Value, [dims / 2, dims / 2], -1) as [Value, Value];
  const half = g.concat([g.neg(x2), x1], -1); // rotate_half
  const out = g.add(g.mul(rot as Value, tables.cos), g.mul(half, tables.sin));
  return pass ? g.concat([out, pass], -1) : out;
}
