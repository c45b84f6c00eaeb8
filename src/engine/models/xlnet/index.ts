import type { Value } from '../../graph/types.js';
import { type AnyEncoderArch, isCustomArch } from '../encoder.js';
import type { EncoderFamily } from '../family.js';
import { type Head, linearSpecs, tokenClassifier } from '../heads.js';
import { activation, dropout, linear } from '../layers.js';
import { type XlnetArch, xlnetArch } from './arch.js';

function xlnetOf(arch: AnyEncoderArch): XlnetArch {
  if (!isCustomArch(arch) || !('summary' in arch)) throw new Error('the sequence summary head needs an XLNet encoder');
  return arch as XlnetArch;
}

/** h[:, -1] as a one-hot sum over the tokens (a differentiable pick of the last one). // [B, T, H] -> [B, H] */
function lastToken(h: Value, g: Parameters<Head['forward']>[0]['g']): Value {
  const T = g.gather(g.shape(h), g.scalar(1, 'int64'));
  const tokens = g.op('Range', [g.scalar(0, 'int64'), T, g.scalar(1, 'int64')])[0] as Value;
  const last = g.cast(g.equal(tokens, g.sub(T, g.scalar(1, 'int64'))), g.floatType); // [T]
  return g.reduceSum(g.mul(h, g.unsqueeze(last, [1])), [1], false);
}

/**
 * XLNetForSequenceClassification: XLNetSequenceSummary (summary_type 'last': the last token, which
 * the tokenizer's left padding makes <cls>; summary_first_dropout, the `summary` projection,
 * summary_activation, summary_last_dropout = the head dropout), then logits_proj.
 */
export const sequenceSummaryHead: Head = {
  params: (arch, n) => [
    ...(xlnetOf(arch).summary.useProj ? linearSpecs(arch, 'sequence_summary.summary', arch.hidden, arch.hidden) : []),
    ...linearSpecs(arch, 'logits_proj', n, arch.hidden),
  ],
  forward(ctx, out, ratio, arch) {
    const { summary } = xlnetOf(arch);
    let x = dropout(ctx, lastToken(out.sequence, ctx.g), summary.firstDropout);
    if (summary.useProj) x = linear(ctx, x, 'sequence_summary.summary');
    if (summary.activation) x = activation(ctx.g, x, summary.activation, ctx.mode);
    return linear(ctx, dropout(ctx, x, ratio), 'logits_proj');
  },
};

/**
 * XLNet (model_type 'xlnet'): relative positional attention with learned biases and relative
 * segment encodings, left padding, the summary at the last token. PEFT has no default LoRA
 * targets for it and cannot wrap q/k/v/o/r (einsum nn.Parameters, not Linear): the feed-forward
 * Linears are what an XLNet LoRA config names.
 */
export const xlnet: EncoderFamily = {
  kind: 'encoder',
  name: 'xlnet',
  modelTypes: ['xlnet'],
  basePrefix: 'transformer',
  loraTargets: ['layer_1', 'layer_2'],
  arch: xlnetArch,
  sequenceHead: sequenceSummaryHead,
  // XLNetForTokenClassification and …ForQuestionAnsweringSimple apply their Linear directly.
  tokenHead: tokenClassifier,
  headDropout: (cfg, task, override) => (task === 'sequence' ? (override ?? cfg.num('summary_last_dropout', 0.1)) : 0),
  architectures: () => ({
    sequence: 'XLNetForSequenceClassification',
    token: 'XLNetForTokenClassification',
    qa: 'XLNetForQuestionAnsweringSimple',
  }),
};
