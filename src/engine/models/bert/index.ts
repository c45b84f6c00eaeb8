import type { EncoderArch } from '../encoder.js';
import { type EncoderFamily, hiddenAct } from '../family.js';
import { pooledClassifier, tokenClassifier } from '../heads.js';
import type { HfConfigReader } from '../hf-config.js';
import { BERT_LAYER_NAMES } from '../layers.js';

/** BERT layout; RoBERTa and ELECTRA reuse it with their own prefix and positions. */
export function bertLikeArch(cfg: HfConfigReader, basePrefix: string, dropoutOverride?: number): EncoderArch {
  const hidden = cfg.int('hidden_size');
  return {
    basePrefix,
    vocabSize: cfg.int('vocab_size'),
    padTokenId: cfg.nullableInt('pad_token_id', 0),
    embeddingSize: cfg.int('embedding_size', hidden),
    hidden,
    layers: cfg.int('num_hidden_layers'),
    heads: cfg.int('num_attention_heads'),
    intermediate: cfg.int('intermediate_size'),
    maxPositions: cfg.int('max_position_embeddings'),
    typeVocabSize: cfg.int('type_vocab_size', 2),
    eps: cfg.num('layer_norm_eps', 1e-12),
    act: hiddenAct(cfg),
    hiddenDropout: dropoutOverride ?? cfg.num('hidden_dropout_prob', 0.1),
    attentionDropout: dropoutOverride ?? cfg.num('attention_probs_dropout_prob', 0.1),
    initializerRange: cfg.num('initializer_range', 0.02),
    positions: { kind: 'absolute' },
    names: {
      word: 'embeddings.word_embeddings',
      position: 'embeddings.position_embeddings',
      tokenType: 'embeddings.token_type_embeddings',
      embeddingNorm: 'embeddings.LayerNorm',
      layer: (i) => `encoder.layer.${i}`,
      layerNames: BERT_LAYER_NAMES,
      pooler: 'pooler.dense',
    },
  };
}

/** classifier_dropout when set, else hidden_dropout_prob (BertForSequenceClassification). */
export const bertHeadDropout = (cfg: HfConfigReader, override?: number): number =>
  override ?? (cfg.has('classifier_dropout') ? cfg.num('classifier_dropout') : cfg.num('hidden_dropout_prob', 0.1));

/**
 * Head dropout of the BERT-like families: classifier_dropout or hidden_dropout_prob before the
 * sequence and token heads; none before the QA head (their *ForQuestionAnswering apply qa_outputs
 * to the sequence output directly).
 */
export const bertLikeHeadDropout: EncoderFamily['headDropout'] = (cfg, task, override) =>
  task === 'qa' ? 0 : bertHeadDropout(cfg, override);

export const bert: EncoderFamily = {
  kind: 'encoder',
  name: 'bert',
  modelTypes: ['bert'],
  basePrefix: 'bert',
  loraTargets: ['query', 'value'],
  arch: (cfg, dropout) => bertLikeArch(cfg, 'bert', dropout),
  sequenceHead: pooledClassifier,
  tokenHead: tokenClassifier,
  headDropout: bertLikeHeadDropout,
  maskedLmHead: {
    architecture: 'BertForMaskedLM',
    dense: 'cls.predictions.transform.dense',
    norm: 'cls.predictions.transform.LayerNorm',
    bias: 'cls.predictions.bias',
    act: 'config', // BertPredictionHeadTransform: ACT2FN[config.hidden_act]
    tied: ['cls.predictions.decoder.weight', 'cls.predictions.decoder.bias'],
  },
  architectures: () => ({
    sequence: 'BertForSequenceClassification',
    token: 'BertForTokenClassification',
    qa: 'BertForQuestionAnswering',
  }),
};
