import type { GraphBuilder } from '../graph/builder.js';
import type { Value } from '../graph/types.js';
import {
  additiveMask,
  BERT_LAYER_NAMES,
  blockContext,
  dropout,
  layerNorm,
  linear,
  transformerLayer,
} from './layers.js';
import type { ForwardMode, ParamSpec, TrainableModel } from './model.js';

/**
 * A BERT-shaped transformer encoder with a sequence-classification head, built from scratch with
 * Hugging Face's parameter names (without the `bert.` prefix). The selftest and the benchmark use it.
 */
export interface EncoderConfig {
  vocabSize: number;
  hidden: number; // H
  layers: number;
  heads: number;
  intermediate: number; // feed-forward width, usually 4 H
  maxPositions: number;
  numLabels: number;
  dropout: number; // hidden and attention dropout
  layerNormEps: number;
  initializerRange: number; // std of normal init
}

export function encoderParamSpecs(cfg: EncoderConfig): ParamSpec[] {
  const normal = { kind: 'normal', std: cfg.initializerRange } as const;
  const H = cfg.hidden;
  const linearSpec = (name: string, out: number, inp: number): ParamSpec[] => [
    { name: `${name}.weight`, shape: [out, inp], init: normal },
    { name: `${name}.bias`, shape: [out], init: { kind: 'zeros' } },
  ];
  const norm = (name: string): ParamSpec[] => [
    { name: `${name}.weight`, shape: [H], init: { kind: 'ones' } },
    { name: `${name}.bias`, shape: [H], init: { kind: 'zeros' } },
  ];
  const specs: ParamSpec[] = [
    { name: 'embeddings.word_embeddings.weight', shape: [cfg.vocabSize, H], init: normal },
    { name: 'embeddings.position_embeddings.weight', shape: [cfg.maxPositions, H], init: normal },
    ...norm('embeddings.LayerNorm'),
  ];
  const n = BERT_LAYER_NAMES;
  for (let i = 0; i < cfg.layers; i++) {
    const p = `encoder.layer.${i}`;
    specs.push(
      ...linearSpec(`${p}.${n.query}`, H, H),
      ...linearSpec(`${p}.${n.key}`, H, H),
      ...linearSpec(`${p}.${n.value}`, H, H),
      ...linearSpec(`${p}.${n.attentionOut}`, H, H),
      ...norm(`${p}.${n.attentionNorm}`),
      ...linearSpec(`${p}.${n.ffnIn}`, cfg.intermediate, H),
      ...linearSpec(`${p}.${n.ffnOut}`, H, cfg.intermediate),
      ...norm(`${p}.${n.ffnNorm}`),
    );
  }
  specs.push(...linearSpec('pooler.dense', H, H), ...linearSpec('classifier', cfg.numLabels, H));
  return specs;
}

export function encoderClassifier(cfg: EncoderConfig): TrainableModel {
  return {
    params: encoderParamSpecs(cfg),
    batchInputs: [
      { name: 'input_ids', dtype: 'int64', shape: ['batch', 'seq'] },
      { name: 'attention_mask', dtype: 'int64', shape: ['batch', 'seq'] },
      { name: 'position_ids', dtype: 'int64', shape: ['batch', 'seq'] },
      { name: 'labels', dtype: 'int64', shape: ['batch'] },
    ],
    inferenceInputs: ['input_ids', 'attention_mask', 'position_ids'],
    forward(g: GraphBuilder, param, inputs, mode: ForwardMode) {
      const ctx = blockContext(g, param, mode, { hidden: cfg.dropout, attention: cfg.dropout });
      const input = (name: string) => inputs[name] as Value;
      const shape = { heads: cfg.heads, eps: cfg.layerNormEps, act: 'gelu' } as const;
      let h = g.scope('embeddings', () => {
        const words = g.gather(param('embeddings.word_embeddings.weight'), input('input_ids')); // [B, T, H]
        const positions = g.gather(param('embeddings.position_embeddings.weight'), input('position_ids'));
        return dropout(ctx, layerNorm(ctx, g.add(words, positions), 'embeddings.LayerNorm', cfg.layerNormEps));
      });
      const mask = additiveMask(g, input('attention_mask')); // [B, 1, 1, T]
      for (let i = 0; i < cfg.layers; i++) {
        const p = `encoder.layer.${i}`;
        // The head reads h[:, 0] only: the last layer computes that token alone (same result).
        const o = i === cfg.layers - 1 ? { ...shape, firstTokenOnly: true } : shape;
        h = g.scope(p, () => transformerLayer(ctx, h, mask, p, BERT_LAYER_NAMES, o));
      }
      const logits = g.scope('head', () => {
        const cls = g.squeeze(g.slice(h, [0], [1], [1]), [1]); // [B, H]
        const pooled = g.tanh(linear(ctx, cls, 'pooler.dense'));
        return linear(ctx, dropout(ctx, pooled), 'classifier'); // [B, numLabels]
      });
      const { loss } = g.softmaxCrossEntropy(logits, input('labels'));
      return { loss, logits };
    },
  };
}
