import { type EncoderFamily, hiddenAct } from '../family.js';
import { pooledClassifier, tokenClassifier } from '../heads.js';

/**
 * ALBERT: factorised embeddings (embedding_size, projected by embedding_hidden_mapping_in) and one
 * layer shared by all num_hidden_layers (num_hidden_groups = 1): every use of the shared weights
 * adds its gradient, which autodiff accumulates.
 */
export const albert: EncoderFamily = {
  kind: 'encoder',
  name: 'albert',
  modelTypes: ['albert'],
  basePrefix: 'albert',
  loraTargets: ['query', 'value'],
  arch(cfg, dropout) {
    const groups = cfg.int('num_hidden_groups', 1);
    const inner = cfg.int('inner_group_num', 1);
    if (groups !== 1 || inner !== 1)
      throw new Error(`${cfg.source}: only num_hidden_groups = 1 and inner_group_num = 1 are supported`);
    return {
      basePrefix: 'albert',
      vocabSize: cfg.int('vocab_size'),
      padTokenId: cfg.nullableInt('pad_token_id', 0),
      embeddingSize: cfg.int('embedding_size', 128),
      hidden: cfg.int('hidden_size'),
      layers: cfg.int('num_hidden_layers'),
      heads: cfg.int('num_attention_heads'),
      intermediate: cfg.int('intermediate_size'),
      maxPositions: cfg.int('max_position_embeddings', 512),
      typeVocabSize: cfg.int('type_vocab_size', 2),
      eps: cfg.num('layer_norm_eps', 1e-12),
      act: hiddenAct(cfg, 'hidden_act', 'gelu_new'),
      hiddenDropout: dropout ?? cfg.num('hidden_dropout_prob', 0),
      attentionDropout: dropout ?? cfg.num('attention_probs_dropout_prob', 0),
      initializerRange: cfg.num('initializer_range', 0.02),
      positions: { kind: 'absolute' },
      dropoutSites: { attentionOutput: true, ffnOutput: false },
      names: {
        word: 'embeddings.word_embeddings',
        position: 'embeddings.position_embeddings',
        tokenType: 'embeddings.token_type_embeddings',
        embeddingNorm: 'embeddings.LayerNorm',
        projection: 'encoder.embedding_hidden_mapping_in',
        layer: () => 'encoder.albert_layer_groups.0.albert_layers.0',
        layerNames: {
          query: 'attention.query',
          key: 'attention.key',
          value: 'attention.value',
          attentionOut: 'attention.dense',
          attentionNorm: 'attention.LayerNorm',
          ffnIn: 'ffn',
          ffnOut: 'ffn_output',
          ffnNorm: 'full_layer_layer_norm',
        },
        pooler: 'pooler',
      },
    };
  },
  sequenceHead: pooledClassifier,
  tokenHead: tokenClassifier,
  headDropout: (cfg, task, override) => (task === 'qa' ? 0 : (override ?? cfg.num('classifier_dropout_prob', 0.1))),
  // AlbertMLMHead: dense (hidden -> embedding_size) -> ACT2FN[hidden_act] -> LayerNorm -> decoder + bias.
  maskedLmHead: {
    architecture: 'AlbertForMaskedLM',
    dense: 'predictions.dense',
    norm: 'predictions.LayerNorm',
    bias: 'predictions.bias',
    act: 'config',
    tied: ['predictions.decoder.weight', 'predictions.decoder.bias'],
  },
  architectures: () => ({
    sequence: 'AlbertForSequenceClassification',
    token: 'AlbertForTokenClassification',
    qa: 'AlbertForQuestionAnswering',
  }),
};
