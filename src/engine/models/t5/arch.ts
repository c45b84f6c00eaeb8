import type { HfConfigReader } from '../hf-config.js';
import { ACTIVATIONS, type Activation } from '../layers.js';
import type { Seq2SeqArch } from '../seq2seq.js';

/**
 * The shape of a T5 / mT5 / flan-T5 model, read from config.json with T5Config's defaults:
 * d_model, d_kv (per head, not necessarily d_model / num_heads), d_ff, num_layers,
 * num_decoder_layers (default num_layers), num_heads, relative_attention_num_buckets (32),
 * relative_attention_max_distance (128), dropout_rate (0.1), layer_norm_epsilon (1e-6),
 * initializer_factor (1.0), feed_forward_proj ('relu'), tie_word_embeddings (true),
 * pad_token_id (0), eos_token_id (1), decoder_start_token_id (pad).
 */
export interface T5Arch extends Seq2SeqArch {
  /** The family folder's name and the config's model_type, for messages and exports. */
  modelType: string;
  dFf: number;
  buckets: number;
  maxDistance: number;
  dropout: number;
  eps: number;
  initializerFactor: number;
  /** The feed-forward's activation (T5Config.dense_act_fn). */
  act: Activation;
  /** `gated-<act>`: wi_0 (gate, through act) times wi_1, as T5DenseGatedActDense. */
  gated: boolean;
  /** The LM head is `shared.weight`, applied to the decoder output scaled by d_model^-0.5. */
  tied: boolean;
}

/**
 * T5Config's reading of `feed_forward_proj`: `<act>` or `gated-<act>`, anything else refused;
 * `gated-gelu` means gelu_new (the tanh approximation), as T5Config rewrites it.
 */
export function feedForwardProj(cfg: HfConfigReader): { act: Activation; gated: boolean } {
  const value = cfg.str('feed_forward_proj', 'relu');
  const parts = value.split('-');
  const gated = parts[0] === 'gated';
  const act = value === 'gated-gelu' ? 'gelu_new' : (parts.at(-1) as string);
  if ((parts.length > 1 && !gated) || parts.length > 2 || !(ACTIVATIONS as readonly string[]).includes(act)) {
    throw new Error(
      `${cfg.source}: feed_forward_proj '${value}' is not supported: T5 takes '<act>' or 'gated-<act>' with <act> one of ${ACTIVATIONS.join(', ')}`,
    );
  }
  return { act: act as Activation, gated };
}

export function t5Arch(cfg: HfConfigReader, dropoutOverride?: number): T5Arch {
  const layers = cfg.int('num_layers', 6);
  const pad = cfg.int('pad_token_id', 0);
  const ffn = feedForwardProj(cfg);
  const positive = (key: string, v: number) => {
    if (!(v >= 1)) throw new Error(`${cfg.source}: key '${key}' must be at least 1, got ${v}`);
    return v;
  };
  const buckets = positive('relative_attention_num_buckets', cfg.int('relative_attention_num_buckets', 32));
  // The bidirectional encoder halves the buckets and each half keeps max_exact = half / 2 exact ones.
  if (buckets < 4) throw new Error(`${cfg.source}: relative_attention_num_buckets must be at least 4, got ${buckets}`);
  return {
    modelType: cfg.str('model_type', 't5'),
    vocabSize: cfg.int('vocab_size', 32128),
    hidden: positive('d_model', cfg.int('d_model', 512)),
    headDim: positive('d_kv', cfg.int('d_kv', 64)),
    dFf: positive('d_ff', cfg.int('d_ff', 2048)),
    encoderLayers: positive('num_layers', layers),
    decoderLayers: positive('num_decoder_layers', cfg.int('num_decoder_layers', layers)),
    heads: positive('num_heads', cfg.int('num_heads', 8)),
    buckets,
    maxDistance: positive('relative_attention_max_distance', cfg.int('relative_attention_max_distance', 128)),
    dropout: dropoutOverride ?? cfg.num('dropout_rate', 0.1),
    eps: cfg.num('layer_norm_epsilon', 1e-6),
    initializerFactor: cfg.num('initializer_factor', 1),
    ...ffn,
    tied: cfg.bool('tie_word_embeddings', true),
    padTokenId: pad,
    eosTokenId: cfg.nullableInt('eos_token_id', 1) ?? null,
    decoderStartTokenId: cfg.int('decoder_start_token_id', pad),
  };
}
