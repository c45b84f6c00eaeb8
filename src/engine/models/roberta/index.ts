import { bertLikeArch, bertLikeHeadDropout } from '../bert/index.js';
import type { EncoderFamily } from '../family.js';
import { clsMlpHead, tokenClassifier } from '../heads.js';

/**
 * RoBERTa: BERT's layers, no pooler in the task models, positions counted from padding_idx + 1
 * over non-padding tokens, and a dense + tanh classification head.
 */
/** `architectures[0]` of a fine-tuned QA model, by `model_type`. */
const QA_ARCHITECTURES: Readonly<Record<string, string>> = {
  roberta: 'RobertaForQuestionAnswering',
  'xlm-roberta': 'XLMRobertaForQuestionAnswering',
  camembert: 'CamembertForQuestionAnswering',
};

export const roberta: EncoderFamily = {
  kind: 'encoder',
  name: 'roberta',
  modelTypes: ['roberta', 'xlm-roberta', 'camembert'],
  basePrefix: 'roberta',
  loraTargets: ['query', 'value'],
  arch(cfg, dropout) {
    const arch = bertLikeArch(cfg, 'roberta', dropout);
    return {
      ...arch,
      padTokenId: cfg.nullableInt('pad_token_id', 1),
      typeVocabSize: cfg.int('type_vocab_size', 1),
      positions: { kind: 'padding-offset', paddingIdx: cfg.int('pad_token_id', 1) },
      names: { ...arch.names, pooler: undefined },
    };
  },
  sequenceHead: clsMlpHead('tanh'),
  tokenHead: tokenClassifier,
  headDropout: bertLikeHeadDropout,
  // RobertaLMHead: dense -> gelu (fixed, not hidden_act) -> layer_norm -> decoder + bias.
  maskedLmHead: {
    architecture: 'RobertaForMaskedLM',
    dense: 'lm_head.dense',
    norm: 'lm_head.layer_norm',
    bias: 'lm_head.bias',
    act: 'gelu',
    tied: ['lm_head.decoder.weight', 'lm_head.decoder.bias'],
  },
  architectures: (modelType) => ({
    sequence: 'RobertaForSequenceClassification',
    token: 'RobertaForTokenClassification',
    qa: QA_ARCHITECTURES[modelType] ?? 'RobertaForQuestionAnswering',
  }),
};
