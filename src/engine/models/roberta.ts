import { bertHeadDropout, bertLikeArch } from './bert.js';
import type { ModelFamily } from './family.js';
import { clsMlpHead, tokenClassifier } from './heads.js';

/**
 * RoBERTa: BERT's layers, no pooler in the task models, positions counted from padding_idx + 1
 * over non-padding tokens, and a dense + tanh classification head.
 */
export const roberta: ModelFamily = {
  modelTypes: ['roberta', 'xlm-roberta', 'camembert'],
  arch(cfg, dropout) {
    const arch = bertLikeArch(cfg, 'roberta', dropout);
    return {
      ...arch,
      typeVocabSize: cfg.int('type_vocab_size', 1),
      positions: { kind: 'padding-offset', paddingIdx: cfg.int('pad_token_id', 1) },
      names: { ...arch.names, pooler: undefined },
    };
  },
  sequenceHead: clsMlpHead('tanh'),
  tokenHead: tokenClassifier,
  headDropout: (cfg, _task, override) => bertHeadDropout(cfg, override),
  architectures: { sequence: 'RobertaForSequenceClassification', token: 'RobertaForTokenClassification' },
};
