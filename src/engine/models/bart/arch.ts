import { hiddenAct } from '../family.js';
import type { HfConfigReader } from '../hf-config.js';
import type { Activation } from '../layers.js';
import type { Seq2SeqArch } from '../seq2seq.js';

/** The three model types built from this folder: the same blocks, configured apart. */
export type BartVariant = 'bart' | 'mbart' | 'marian';

/**
 * The shape of a BART, mBART or Marian model, read from config.json with the defaults of
 * BartConfig / MBartConfig / MarianConfig: d_model, encoder_layers, decoder_layers,
 * encoder_attention_heads, decoder_attention_heads, encoder_ffn_dim, decoder_ffn_dim,
 * max_position_embeddings, dropout, attention_dropout, activation_dropout, activation_function,
 * init_std, scale_embedding, tie_word_embeddings, pad/eos/bos/decoder_start_token_id.
 *
 * What tells the variants apart is fixed by the model type, not read from the config (transformers
 * ignores the `normalize_before` / `add_final_layer_norm` keys old BART configs still carry):
 * - bart: post-LN layers, `layernorm_embedding`, learned positions offset by 2;
 * - mbart: pre-LN layers, `layernorm_embedding`, learned positions offset by 2, a final
 *   `layer_norm` on each stack, and its own shift_tokens_right (the decoder starts with the
 *   label row's last non-pad token, the target language code);
 * - marian: post-LN layers, no embedding LayerNorm, sinusoidal positions (no weights, no offset).
 */
export interface BartArch extends Seq2SeqArch {
  modelType: BartVariant;
  /** encoder_attention_heads (`heads` is the decoder's, whose keys/values the generation cache holds). */
  encoderHeads: number;
  encoderFfn: number;
  decoderFfn: number;
  maxPositions: number;
  dropout: number;
  attentionDropout: number;
  activationDropout: number;
  act: Activation;
  initStd: number;
  /** sqrt(d_model) with scale_embedding, else 1: multiplies the token embeddings. */
  embedScale: number;
  /** mBART: LayerNorm before each sub-layer, plus a final `layer_norm` per stack. */
  preNorm: boolean;
  /** bart, mbart: `layernorm_embedding` after embeddings + positions. */
  layernormEmbedding: boolean;
  positions: 'learned' | 'sinusoidal';
  /** The LM head is `model.shared` (tie_word_embeddings), else its own `lm_head.weight`. */
  tied: boolean;
  /** nn.LayerNorm's default: none of the three configs has an epsilon key. */
  eps: number;
}

/** BartLearnedPositionalEmbedding's offset: position p reads row p + 2. */
export const LEARNED_POSITION_OFFSET = 2;

const DEFAULTS: Record<BartVariant, { vocab: number; pad: number; eos: number; start?: number }> = {
  bart: { vocab: 50265, pad: 1, eos: 2, start: 2 },
  mbart: { vocab: 50265, pad: 1, eos: 2 },
  marian: { vocab: 58101, pad: 58100, eos: 0, start: 58100 },
};

export function bartArch(cfg: HfConfigReader, variant: BartVariant, dropoutOverride?: number): BartArch {
  const positive = (key: string, dflt: number) => {
    const v = cfg.int(key, dflt);
    if (!(v >= 1)) throw new Error(`${cfg.source}: key '${key}' must be at least 1, got ${v}`);
    return v;
  };
  const d = DEFAULTS[variant];
  const hidden = positive('d_model', 1024);
  const heads = positive('decoder_attention_heads', 16);
  const encoderHeads = positive('encoder_attention_heads', 16);
  for (const [key, n] of [
    ['decoder_attention_heads', heads],
    ['encoder_attention_heads', encoderHeads],
  ] as const) {
    if (hidden % n !== 0)
      throw new Error(`${cfg.source}: d_model ${hidden} must be divisible by ${key} (${n}), as BartAttention requires`);
  }
  const vocabSize = positive('vocab_size', d.vocab);
  if (variant === 'marian') {
    // Separate source and target vocabularies (opus-mt-tc-big and similar) need two embeddings and a
    // decoder-sized head: not built, so refused rather than read wrongly.
    const shared = cfg.bool('share_encoder_decoder_embeddings', true);
    const decoderVocab = cfg.has('decoder_vocab_size') ? cfg.int('decoder_vocab_size') : vocabSize;
    if (!shared || decoderVocab !== vocabSize)
      throw new Error(
        `${cfg.source}: a Marian model with separate source and target embeddings (share_encoder_decoder_embeddings false or decoder_vocab_size ${decoderVocab} ≠ vocab_size ${vocabSize}) is not supported; models with one shared vocabulary (most Helsinki-NLP/opus-mt-*) are`,
      );
  }
  const pad = cfg.nullableInt('pad_token_id', d.pad);
  if (pad === undefined) throw new Error(`${cfg.source}: key 'pad_token_id' must be set: labels are padded with it`);
  // generate() falls back to bos_token_id when a config has no decoder_start_token_id (mBART's case).
  const start = cfg.nullableInt('decoder_start_token_id', d.start ?? cfg.nullableInt('bos_token_id', 0) ?? 0);
  const dropout = (key: string, dflt: number) => dropoutOverride ?? cfg.num(key, dflt);
  const scale = cfg.bool('scale_embedding', false);
  return {
    modelType: variant,
    vocabSize,
    hidden,
    encoderLayers: positive('encoder_layers', 12),
    decoderLayers: positive('decoder_layers', 12),
    heads,
    encoderHeads,
    headDim: hidden / heads,
    encoderFfn: positive('encoder_ffn_dim', 4096),
    decoderFfn: positive('decoder_ffn_dim', 4096),
    maxPositions: positive('max_position_embeddings', 1024),
    dropout: dropout('dropout', 0.1),
    attentionDropout: dropout('attention_dropout', 0),
    activationDropout: dropout('activation_dropout', 0),
    act: hiddenAct(cfg, 'activation_function', 'gelu'),
    initStd: cfg.num('init_std', 0.02),
    embedScale: scale ? Math.sqrt(hidden) : 1,
    preNorm: variant === 'mbart',
    layernormEmbedding: variant !== 'marian',
    positions: variant === 'marian' ? 'sinusoidal' : 'learned',
    tied: cfg.bool('tie_word_embeddings', true),
    eps: 1e-5,
    padTokenId: pad,
    eosTokenId: cfg.nullableInt('eos_token_id', d.eos) ?? null,
    decoderStartTokenId: start ?? pad,
    ...(variant === 'mbart' ? { startFromLastLabel: true } : {}),
  };
}
