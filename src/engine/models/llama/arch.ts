import type { DecoderArch } from '../decoder.js';
import { hiddenAct } from '../family.js';
import type { HfConfigReader } from '../hf-config.js';
import type { Activation } from '../layers.js';
import { type RopeSpec, ropeSpec } from './rope.js';

/**
 * What distinguishes the Llama-like families from Llama itself, read from each family's config.json
 * by its folder (mistral/, qwen2/, qwen3/, phi3/): which projections carry biases, Qwen3's per-head
 * q/k norms, Phi-3's fused projections, a sliding attention window.
 */
export interface LlamaLayout {
  /** Bias on q_proj, k_proj, v_proj (Qwen2: always; Llama: attention_bias). */
  qkvBias: boolean;
  /** Bias on o_proj (Llama: attention_bias; Qwen2: never). */
  oBias: boolean;
  /** Bias on gate_proj, up_proj, down_proj (Llama: mlp_bias). */
  mlpBias: boolean;
  /** Qwen3: RMSNorm over head_dim of each query and key head (`q_norm`, `k_norm`) before the rotation. */
  qkNorm: boolean;
  /** Phi-3: `qkv_proj` ([q; k; v] output rows) and `gate_up_proj` ([gate; up] rows) instead of separate projections. */
  fused: boolean;
  /** Sliding-window attention span and the key that set it, or null (full causal attention). */
  slidingWindow: { tokens: number; source: string } | null;
  /** Dropout after o_proj and down_proj (Phi-3's `resid_pdrop`; the others have none). */
  residDropout: number;
}

export interface LlamaArch extends DecoderArch {
  /** The family folder's name, for messages. */
  family: string;
  intermediate: number;
  eps: number;
  act: Activation;
  attnDropout: number;
  residDropout: number;
  initializerRange: number;
  tied: boolean;
  rope: RopeSpec;
  layout: LlamaLayout;
}

/**
 * `eos_token_id` may be a list (Llama 3.1: [128001, 128008, 128009]); the arch keeps the first, which
 * is what the model's own text ends with.
 */
function tokenIdOf(cfg: HfConfigReader, key: string): number | null {
  const v = cfg.raw[key];
  if (!Array.isArray(v)) return cfg.has(key) ? cfg.int(key) : null;
  const first = v[0];
  if (first === undefined) return null;
  if (typeof first !== 'number' || !Number.isInteger(first)) {
    throw new Error(`${cfg.source}: key '${key}' must be an integer or a list of integers, got ${JSON.stringify(v)}`);
  }
  return first;
}

/**
 * The arch of a LlamaConfig-like config.json (hidden_size, intermediate_size, num_hidden_layers,
 * num_attention_heads, num_key_value_heads, head_dim, rms_norm_eps, rope_*, hidden_act,
 * attention_dropout, tie_word_embeddings), with `training.dropout` overriding the dropouts.
 */
export function llamaArch(
  cfg: HfConfigReader,
  family: string,
  layout: LlamaLayout,
  dropoutOverride?: number,
): LlamaArch {
  const hidden = cfg.int('hidden_size');
  const heads = cfg.int('num_attention_heads');
  const kvHeads = cfg.int('num_key_value_heads', heads);
  if (heads % kvHeads !== 0) {
    throw new Error(`${cfg.source}: num_attention_heads ${heads} is not a multiple of num_key_value_heads ${kvHeads}`);
  }
  if (!cfg.has('head_dim') && hidden % heads !== 0) {
    throw new Error(`${cfg.source}: hidden_size ${hidden} is not a multiple of num_attention_heads ${heads}`);
  }
  const headDim = cfg.int('head_dim', hidden / heads);
  return {
    family,
    vocabSize: cfg.int('vocab_size'),
    hidden,
    layers: cfg.int('num_hidden_layers'),
    heads,
    kvHeads,
    headDim,
    intermediate: cfg.int('intermediate_size'),
    maxPositions: cfg.int('max_position_embeddings', 2048),
    eps: cfg.num('rms_norm_eps', 1e-6),
    act: hiddenAct(cfg, 'hidden_act', 'silu'),
    attnDropout: dropoutOverride ?? cfg.num('attention_dropout', 0),
    residDropout: dropoutOverride ?? layout.residDropout,
    initializerRange: cfg.num('initializer_range', 0.02),
    tied: cfg.bool('tie_word_embeddings', false),
    rope: ropeSpec(cfg, headDim),
    layout,
    eosTokenId: tokenIdOf(cfg, 'eos_token_id'),
    bosTokenId: tokenIdOf(cfg, 'bos_token_id'),
    ...(layout.slidingWindow ? { attentionWindow: layout.slidingWindow } : {}),
  };
}

/** A family's `sliding_window` (null or absent: none), named by the key it came from. */
export function slidingWindowOf(cfg: HfConfigReader): LlamaLayout['slidingWindow'] {
  if (!cfg.has('sliding_window')) return null;
  return { tokens: cfg.int('sliding_window'), source: `${cfg.source}: sliding_window` };
}

/** Qwen2/Qwen3: `sliding_window` applies only with `use_sliding_window: true` (false in released checkpoints). */
export function qwenSlidingWindow(cfg: HfConfigReader): LlamaLayout['slidingWindow'] {
  if (!cfg.bool('use_sliding_window', false)) return null;
  const window = slidingWindowOf(cfg);
  return window && { ...window, source: `${window.source} with use_sliding_window: true` };
}
