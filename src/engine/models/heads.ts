import type { Value } from '../graph/types.js';
import { type AnyEncoderArch, type EncoderOutput, firstToken } from './encoder.js';
import { type Activation, activation, type BlockContext, dropout, linear } from './layers.js';
import type { ParamSpec } from './model.js';

/**
 * Task heads as the families' PyTorch classes build them. Head weights carry no base prefix
 * (`classifier.weight`), as Hugging Face's task models name them.
 */
export interface Head {
  params(arch: AnyEncoderArch, outputs: number): ParamSpec[];
  /** Logits from the encoder output (`arch`: what the head reads of the config). // [B, outputs] or [B, T, outputs] */
  forward(ctx: BlockContext, out: EncoderOutput, dropoutRatio: number, arch: AnyEncoderArch): Value;
  /** The head reads h[:, 0] only: the encoder may compute its last layer for that token alone. */
  firstTokenOnly?: boolean;
}

export const linearSpecs = (arch: AnyEncoderArch, name: string, out: number, inp: number): ParamSpec[] => [
  { name: `${name}.weight`, shape: [out, inp], init: { kind: 'normal', std: arch.initializerRange } },
  { name: `${name}.bias`, shape: [out], init: { kind: 'zeros' } },
];

/** BERT/ALBERT: dropout(pooled) -> classifier. */
export const pooledClassifier: Head = {
  firstTokenOnly: true,
  params: (arch, n) => linearSpecs(arch, 'classifier', n, arch.hidden),
  forward(ctx, out, ratio) {
    if (!out.pooled) throw new Error('this family has no pooler for a pooled classification head');
    return linear(ctx, dropout(ctx, out.pooled, ratio), 'classifier');
  },
};

/** RoBERTa (tanh) and ELECTRA (gelu): h[:,0] -> dropout -> dense -> act -> dropout -> out_proj. */
export function clsMlpHead(act: Activation): Head {
  return {
    firstTokenOnly: true,
    params: (arch, n) => [
      ...linearSpecs(arch, 'classifier.dense', arch.hidden, arch.hidden),
      ...linearSpecs(arch, 'classifier.out_proj', n, arch.hidden),
    ],
    forward(ctx, out, ratio) {
      const x = dropout(ctx, firstToken(ctx.g, out.sequence), ratio);
      const hidden = activation(ctx.g, linear(ctx, x, 'classifier.dense'), act, ctx.mode);
      return linear(ctx, dropout(ctx, hidden, ratio), 'classifier.out_proj');
    },
  };
}

/** DistilBERT: h[:,0] -> pre_classifier -> ReLU -> dropout -> classifier. */
export const distilClassifier: Head = {
  firstTokenOnly: true,
  params: (arch, n) => [
    ...linearSpecs(arch, 'pre_classifier', arch.hidden, arch.hidden),
    ...linearSpecs(arch, 'classifier', n, arch.hidden),
  ],
  forward(ctx, out, ratio) {
    const pooled = ctx.g.relu(linear(ctx, firstToken(ctx.g, out.sequence), 'pre_classifier'));
    return linear(ctx, dropout(ctx, pooled, ratio), 'classifier');
  },
};

/** Every family's token classification: dropout(sequence) -> classifier. */
export const tokenClassifier: Head = {
  params: (arch, n) => linearSpecs(arch, 'classifier', n, arch.hidden),
  forward: (ctx, out, ratio) => linear(ctx, dropout(ctx, out.sequence, ratio), 'classifier'),
};
