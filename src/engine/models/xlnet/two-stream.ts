import type { GraphBuilder } from '../../graph/builder.js';
import type { Value } from '../../graph/types.js';
import type { HfConfigReader } from '../hf-config.js';
import { type AdapterHook, type BlockContext, blockContext, dropout } from '../layers.js';
import type { BatchInput, ForwardMode, ParamSpec, TrainableModel } from '../model.js';
import { type XlnetArch, xlnetArch, xlnetBaseSpecs } from './arch.js';
import { attentionCore, attentionInputs, feedForward, heads, postAttention } from './attention.js';

/**
 * XLNetLMHeadModel for the permutation language model, as transformers' modeling_xlnet.py computes
 * it with `perm_mask` and `target_mapping` (no mems, attn_type 'bi'), batch-first:
 *
 * - the content stream h starts from the word embeddings and sees every token but the padding
 *   (attention_mask 0) and what perm_mask hides, always itself (non_tgt_mask);
 * - the query stream g starts from `mask_emb` at each of the M predicted positions; its queries
 *   are moved onto the tokens by target_mapping ("mbnd,mlb->lbnd"), attend to the content stream's
 *   keys and values under perm_mask without the self exception (attn_mask), and are moved back
 *   ("lbnd,mlb->mbnd") before post_attention; both streams share every weight of a layer;
 * - the output is g, through lm_loss: the word embedding (tied) plus `lm_loss.bias`;
 * - the loss is the mean cross-entropy over labels that are not -100.
 */
export const PLM_IGNORE_INDEX = -100;

/** One layer on both streams. h [B, T, H], g [B, M, H], target mapping [B, M, T]. */
function twoStreamLayer(
  ctx: BlockContext,
  a: XlnetArch,
  streams: { h: Value; g: Value },
  at: ReturnType<typeof attentionInputs>,
  mapping: Value,
  prefix: string,
): { h: Value; g: Value } {
  const { g: gb } = ctx;
  const p = (n: string) => `${prefix}.rel_attn.${n}`;
  const k = heads(ctx, a, streams.h, p('k'));
  const v = heads(ctx, a, streams.h, p('v'));
  const vecH = attentionCore(ctx, a, { q: heads(ctx, a, streams.h, p('q')), k, v }, at, at.mask, p);
  const h = postAttention(ctx, a, vecH, streams.h, p);
  // The query stream's queries [B, N, M, D] onto the tokens [B, N, T, D], and its result back.
  const map = gb.unsqueeze(mapping, [1]); // [B, 1, M, T]
  const qG = gb.matmul(gb.transpose(map, [0, 1, 3, 2]), heads(ctx, a, streams.g, p('q')));
  const vecG = gb.matmul(map, attentionCore(ctx, a, { q: qG, k, v }, at, at.gMask as Value, p));
  const g = postAttention(ctx, a, vecG, streams.g, p);
  return { h: feedForward(ctx, a, h, prefix), g: feedForward(ctx, a, g, prefix) };
}

/** XLNetModel's query-stream output for the permutation LM. // [B, M, H] */
export function xlnetTwoStream(ctx: BlockContext, a: XlnetArch, inputs: Readonly<Record<string, Value>>): Value {
  const { g } = ctx;
  const P = (n: string) => `${a.basePrefix}.${n}`;
  const mapping = inputs.target_mapping as Value;
  const at = g.scope('relative', () => attentionInputs(ctx, a, inputs));
  let streams = g.scope('embeddings', () => {
    const h = dropout(ctx, g.gather(ctx.param(P('word_embedding.weight')), inputs.input_ids as Value));
    // word_emb_q = mask_emb.expand(M, B, H): [B, M, H] from the mapping's first two sizes.
    const size = g.concat([g.slice(g.shape(mapping), [0], [2]), g.ints([a.hidden])], 0);
    return { h, g: dropout(ctx, g.expand(ctx.param(P('mask_emb')), size)) };
  });
  for (let i = 0; i < a.layers; i++) {
    const prefix = P(a.layerPrefix(i));
    const current = streams;
    streams = g.scope(`layer.${i}`, () => twoStreamLayer(ctx, a, current, at, mapping, prefix));
  }
  return dropout(ctx, streams.g);
}

export interface PlmModel extends TrainableModel {
  readonly arch: XlnetArch;
}

/** XLNetLMHeadModel's parameters: the base model and lm_loss.bias (lm_loss.weight is the tied word embedding). */
export function plmParams(a: XlnetArch): ParamSpec[] {
  return [...xlnetBaseSpecs(a), { name: 'lm_loss.bias', shape: [a.vocabSize], init: { kind: 'zeros' } }];
}

export function xlnetLmModel(config: HfConfigReader, o: { dropout?: number; adapters?: AdapterHook } = {}): PlmModel {
  const arch = xlnetArch(config, o.dropout);
  // DataCollatorForPermutationLanguageModeling's batch, no token_type_ids (so no segment term),
  // and the attention_mask that hides padding (permutation.ts: all ones for full blocks).
  const inputs: BatchInput[] = [
    { name: 'input_ids', dtype: 'int64', shape: ['batch', 'seq'] },
    { name: 'attention_mask', dtype: 'int64', shape: ['batch', 'seq'] },
    { name: 'perm_mask', dtype: 'float32', shape: ['batch', 'seq', 'seq'] },
    { name: 'target_mapping', dtype: 'float32', shape: ['batch', 'num_predict', 'seq'] },
  ];
  return {
    arch,
    params: plmParams(arch),
    batchInputs: [...inputs, { name: 'labels', dtype: 'int64', shape: ['batch', 'num_predict'] }],
    inferenceInputs: inputs.map((i) => i.name),
    forward(g: GraphBuilder, param, values, mode: ForwardMode) {
      const dropouts = { hidden: arch.hiddenDropout, attention: arch.attentionDropout };
      const ctx = blockContext(g, param, mode, dropouts, o.adapters);
      const out = xlnetTwoStream(ctx, arch, values);
      const logits = g.scope('lm_loss', () =>
        g.add(
          g.matmul(out, g.transpose(param(`${arch.basePrefix}.word_embedding.weight`), [1, 0])),
          param('lm_loss.bias'),
        ),
      ); // [B, M, V]
      const loss = g.scope('loss', () => {
        const flat = g.reshape(logits, [-1, arch.vocabSize]);
        const labels = g.reshape(values.labels as Value, [-1]);
        return g.softmaxCrossEntropy(flat, labels, { ignoreIndex: PLM_IGNORE_INDEX }).loss;
      });
      return { loss, logits };
    },
  };
}
