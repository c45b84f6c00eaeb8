import { bertLikeArch, bertLikeHeadDropout } from '../bert/index.js';
import type { EncoderFamily } from '../family.js';
import { clsMlpHead, tokenClassifier } from '../heads.js';

/**
 * ELECTRA discriminator: BERT's layers with a separate embedding width projected to the hidden
 * size (`embeddings_project`), no pooler, and a dense + GELU classification head.
 */
export const electra: EncoderFamily = {
  kind: 'encoder',
  name: 'electra',
  modelTypes: ['electra'],
  basePrefix: 'electra',
  loraTargets: ['query', 'value'],
  arch(cfg, dropout) {
    const arch = bertLikeArch(cfg, 'electra', dropout);
    const projection = arch.embeddingSize !== arch.hidden ? 'embeddings_project' : undefined;
    return { ...arch, names: { ...arch.names, pooler: undefined, projection } };
  },
  sequenceHead: clsMlpHead('gelu'),
  tokenHead: tokenClassifier,
  headDropout: bertLikeHeadDropout,
  // ElectraForMaskedLM: generator_predictions (dense hidden -> embedding_size, get_activation("gelu"),
  // LayerNorm) -> generator_lm_head (weight tied to the word embeddings, bias its own).
  maskedLmHead: {
    architecture: 'ElectraForMaskedLM',
    dense: 'generator_predictions.dense',
    norm: 'generator_predictions.LayerNorm',
    bias: 'generator_lm_head.bias',
    act: 'gelu',
    tied: ['generator_lm_head.weight'],
  },
  architectures: () => ({
    sequence: 'ElectraForSequenceClassification',
    token: 'ElectraForTokenClassification',
    qa: 'ElectraForQuestionAnswering',
  }),
};
