import type { CustomEncoderArch } from '../encoder.js';
import { hiddenAct } from '../family.js';
import type { HfConfigReader } from '../hf-config.js';
import type { Activation } from '../layers.js';
import type { ParamSpec } from '../model.js';
import { xlnetEncode } from './attention.js';

/**
 * XLNet's config.json (transformers' XLNetConfig names) as the fine-tuning graph reads it: the
 * content stream only (no mems, no target_mapping), bidirectional relative attention.
 */
export interface XlnetArch extends CustomEncoderArch {
  vocabSize: number;
  heads: number; // n_head
  headSize: number; // d_head
  inner: number; // d_inner
  act: Activation; // ff_activation
  eps: number;
  /** Relative distances beyond it share its encoding (clamp_len; <= 0: no clamping). */
  clampLen: number;
  /** XLNetSequenceSummary of the sequence head: the last token, optional projection and activation. */
  summary: { useProj: boolean; activation: Activation | null; firstDropout: number };
}

/**
 * XLNet has no position table: relative sinusoids cover any length. The bound is what the
 * pretrained models were trained with (xlnet-base-cased: 512), the tokenizers' model_max_length.
 */
const XLNET_MAX_LENGTH = 512;

/** XLNetConfig's summary_activation: 'tanh' when absent, none when null or empty (nn.Identity). */
function summaryActivation(cfg: HfConfigReader): Activation | null {
  if (cfg.raw.summary_activation === null || cfg.raw.summary_activation === '') return null;
  return hiddenAct(cfg, 'summary_activation', 'tanh');
}

export function xlnetArch(cfg: HfConfigReader, dropoutOverride?: number): XlnetArch {
  const hidden = cfg.int('d_model');
  const heads = cfg.int('n_head');
  if (hidden % heads !== 0) throw new Error(`${cfg.source}: d_model ${hidden} is not a multiple of n_head ${heads}`);
  const headSize = cfg.int('d_head', hidden / heads);
  if (headSize !== hidden / heads)
    throw new Error(`${cfg.source}: d_head ${headSize} must be d_model / n_head = ${hidden / heads} (XLNetConfig)`);
  const attnType = cfg.str('attn_type', 'bi');
  if (attnType !== 'bi') throw new Error(`${cfg.source}: attn_type '${attnType}' is not supported (only 'bi')`);
  if (cfg.bool('bi_data', false)) throw new Error(`${cfg.source}: bi_data true is not supported (pretraining only)`);
  const summaryType = cfg.str('summary_type', 'last');
  if (summaryType !== 'last')
    throw new Error(`${cfg.source}: summary_type '${summaryType}' is not supported (only 'last', XLNet's)`);
  if (cfg.bool('summary_proj_to_labels', false))
    throw new Error(`${cfg.source}: summary_proj_to_labels true is not supported (logits_proj reads d_model features)`);
  const dropout = dropoutOverride ?? cfg.num('dropout', 0.1);
  const arch: XlnetArch = {
    kind: 'custom',
    basePrefix: 'transformer',
    vocabSize: cfg.int('vocab_size'),
    hidden,
    layers: cfg.int('n_layer'),
    heads,
    headSize,
    inner: cfg.int('d_inner'),
    act: hiddenAct(cfg, 'ff_activation', 'gelu'),
    eps: cfg.num('layer_norm_eps', 1e-12),
    clampLen: cfg.int('clamp_len', -1),
    hiddenDropout: dropout,
    attentionDropout: dropout,
    initializerRange: cfg.num('initializer_range', 0.02),
    summary: {
      useProj: cfg.bool('summary_use_proj', true),
      activation: summaryActivation(cfg),
      firstDropout: cfg.num('summary_first_dropout', 0),
    },
    maxLength: XLNET_MAX_LENGTH,
    layerPrefix: (i) => `layer.${i}`,
    params: () => xlnetBaseSpecs(arch),
    inputs: () => [
      { name: 'input_ids', dtype: 'int64', shape: ['batch', 'seq'] },
      { name: 'attention_mask', dtype: 'int64', shape: ['batch', 'seq'] },
      { name: 'token_type_ids', dtype: 'int64', shape: ['batch', 'seq'] },
    ],
    encode: (ctx, inputs) => xlnetEncode(ctx, arch, inputs),
  };
  return arch;
}

/**
 * XLNetModel's parameters. q, k, v, o and r are einsum tensors [d_model, n_head, d_head], not
 * Linear weights, and keep that layout here and in every export. mask_emb feeds only the query
 * stream of the permutation LM (two-stream.ts); fine-tuning keeps it, untouched, so a fine-tuned
 * folder loads in transformers without a missing weight.
 */
export function xlnetBaseSpecs(a: XlnetArch): ParamSpec[] {
  const normal = { kind: 'normal', std: a.initializerRange } as const;
  const p = (name: string) => `${a.basePrefix}.${name}`;
  const H = a.hidden;
  const heads = [a.heads, a.headSize];
  const norm = (name: string): ParamSpec[] => [
    { name: p(`${name}.weight`), shape: [H], init: { kind: 'ones' } },
    { name: p(`${name}.bias`), shape: [H], init: { kind: 'zeros' } },
  ];
  const lin = (name: string, out: number, inp: number): ParamSpec[] => [
    { name: p(`${name}.weight`), shape: [out, inp], init: normal },
    { name: p(`${name}.bias`), shape: [out], init: { kind: 'zeros' } },
  ];
  const specs: ParamSpec[] = [
    { name: p('word_embedding.weight'), shape: [a.vocabSize, H], init: normal },
    { name: p('mask_emb'), shape: [1, 1, H], init: normal },
  ];
  for (let i = 0; i < a.layers; i++) {
    const l = `layer.${i}`;
    for (const w of ['q', 'k', 'v', 'o', 'r'])
      specs.push({ name: p(`${l}.rel_attn.${w}`), shape: [H, ...heads], init: normal });
    for (const b of ['r_r_bias', 'r_s_bias', 'r_w_bias'])
      specs.push({ name: p(`${l}.rel_attn.${b}`), shape: heads, init: normal });
    specs.push(
      { name: p(`${l}.rel_attn.seg_embed`), shape: [2, ...heads], init: normal },
      ...norm(`${l}.rel_attn.layer_norm`),
      ...norm(`${l}.ff.layer_norm`),
      ...lin(`${l}.ff.layer_1`, a.inner, H),
      ...lin(`${l}.ff.layer_2`, H, a.inner),
    );
  }
  return specs;
}
