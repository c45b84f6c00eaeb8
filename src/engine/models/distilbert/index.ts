import { type EncoderFamily, hiddenAct } from '../family.js';
import { distilClassifier, tokenClassifier } from '../heads.js';

/**
 * DistilBERT: its own weight names (q_lin, sa_layer_norm, ffn.lin1, ...), no token types, no
 * pooler; the sequence head is pre_classifier + ReLU. Sinusoidal positions are not supported.
 */
export const distilbert: EncoderFamily = {
  kind: 'encoder',
  name: 'distilbert',
  modelTypes: ['distilbert'],
  basePrefix: 'distilbert',
  loraTargets: ['q_lin', 'v_lin'],
  arch(cfg, dropout) {
    if (cfg.raw.sinusoidal_pos_embds === true) throw new Error(`${cfg.source}: sinusoidal_pos_embds is not supported`);
    const dim = cfg.int('dim');
    return {
      basePrefix: 'distilbert',
      vocabSize: cfg.int('vocab_size'),
      padTokenId: cfg.nullableInt('pad_token_id', 0),
      embeddingSize: dim,
      hidden: dim,
      layers: cfg.int('n_layers'),
      heads: cfg.int('n_heads'),
      intermediate: cfg.int('hidden_dim'),
      maxPositions: cfg.int('max_position_embeddings'),
      typeVocabSize: 0,
      eps: 1e-12, // fixed in DistilBERT's modeling code
      act: hiddenAct(cfg, 'activation'),
      hiddenDropout: dropout ?? cfg.num('dropout', 0.1),
      attentionDropout: dropout ?? cfg.num('attention_dropout', 0.1),
      initializerRange: cfg.num('initializer_range', 0.02),
      positions: { kind: 'absolute' },
      dropoutSites: { attentionOutput: false, ffnOutput: true },
      names: {
        word: 'embeddings.word_embeddings',
        position: 'embeddings.position_embeddings',
        embeddingNorm: 'embeddings.LayerNorm',
        layer: (i) => `transformer.layer.${i}`,
        layerNames: {
          query: 'attention.q_lin',
          key: 'attention.k_lin',
          value: 'attention.v_lin',
          attentionOut: 'attention.out_lin',
          attentionNorm: 'sa_layer_norm',
          ffnIn: 'ffn.lin1',
          ffnOut: 'ffn.lin2',
          ffnNorm: 'output_layer_norm',
        },
      },
    };
  },
  sequenceHead: distilClassifier,
  tokenHead: tokenClassifier,
  // The only family with a dropout before qa_outputs (qa_dropout).
  headDropout: (cfg, task, override) =>
    override ??
    (task === 'sequence'
      ? cfg.num('seq_classif_dropout', 0.2)
      : task === 'qa'
        ? cfg.num('qa_dropout', 0.1)
        : cfg.num('dropout', 0.1)),
  // DistilBertForMaskedLM: vocab_transform -> activation (config.activation) -> vocab_layer_norm
  // (eps 1e-12) -> vocab_projector (weight tied, bias its own).
  maskedLmHead: {
    architecture: 'DistilBertForMaskedLM',
    dense: 'vocab_transform',
    norm: 'vocab_layer_norm',
    bias: 'vocab_projector.bias',
    act: 'config',
    eps: 1e-12,
    tied: ['vocab_projector.weight'],
  },
  architectures: () => ({
    sequence: 'DistilBertForSequenceClassification',
    token: 'DistilBertForTokenClassification',
    qa: 'DistilBertForQuestionAnswering',
  }),
};
