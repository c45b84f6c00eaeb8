import type { GraphBuilder } from '../../graph/builder.js';
import type { Value } from '../../graph/types.js';
import { type AnyEncoderArch, encode, encoderBaseSpecs, encoderInputs } from '../../models/encoder.js';
import type { EncoderFamily } from '../../models/family.js';
import type { Head } from '../../models/heads.js';
import type { HfConfigReader } from '../../models/hf-config.js';
import { type AdapterHook, type BlockContext, blockContext } from '../../models/layers.js';
import type { BatchInput, ForwardMode, TrainableModel } from '../../models/model.js';

/**
 * Encoder models with a task head and its loss, as Hugging Face's *ForSequenceClassification and
 * *ForTokenClassification compute them.
 */
export type ProblemType = 'single_label_classification' | 'multi_label_classification' | 'regression';

export interface EncoderTaskOptions {
  family: EncoderFamily;
  config: HfConfigReader;
  /** Classes (or 1 for regression). */
  numLabels: number;
  /** training.dropout: overrides hidden, attention and head dropout. */
  dropout?: number;
  /** LoRA adapters (method lora), handed to the blocks' linear layers. */
  adapters?: AdapterHook;
}

export interface EncoderTaskModel extends TrainableModel {
  readonly arch: AnyEncoderArch;
}

/** The block context of an encoder task model: the arch's dropouts, fresh salts, LoRA adapters. */
export function encoderBlockContext(
  g: GraphBuilder,
  param: (name: string) => Value,
  mode: ForwardMode,
  arch: AnyEncoderArch,
  adapters?: AdapterHook,
): BlockContext {
  return blockContext(g, param, mode, { hidden: arch.hiddenDropout, attention: arch.attentionDropout }, adapters);
}

function buildModel(
  o: EncoderTaskOptions,
  head: Head,
  headDropout: number,
  labels: BatchInput,
  loss: (g: GraphBuilder, logits: Value, labels: Value) => Value,
): EncoderTaskModel {
  const arch = o.family.arch(o.config, o.dropout);
  const inputs = encoderInputs(arch);
  return {
    arch,
    params: [...encoderBaseSpecs(arch), ...head.params(arch, o.numLabels)],
    batchInputs: [...inputs, labels],
    inferenceInputs: inputs.map((i) => i.name),
    forward(g: GraphBuilder, param, values, mode: ForwardMode) {
      const ctx = encoderBlockContext(g, param, mode, arch, o.adapters);
      const out = encode(ctx, arch, values, { firstTokenOnly: head.firstTokenOnly });
      const logits = g.scope('head', () => head.forward(ctx, out, headDropout, arch));
      const taskLoss = g.scope('loss', () => loss(g, logits, values.labels as Value));
      return { loss: taskLoss, logits, hidden: out.sequence };
    },
  };
}

/** Mean binary cross-entropy with logits, in the overflow-free form max(x,0) - x y + log(1 + e^-|x|). */
export function bceWithLogits(g: GraphBuilder, x: Value, y: Value): Value {
  const absX = g.add(g.relu(x), g.relu(g.neg(x)));
  const perElement = g.add(g.sub(g.relu(x), g.mul(x, y)), g.log(g.add(g.exp(g.neg(absX)), 1)));
  return g.reduceMean(perElement, undefined, false);
}

export function sequenceClassificationModel(o: EncoderTaskOptions & { problemType: ProblemType }): EncoderTaskModel {
  const dropout = o.family.headDropout(o.config, 'sequence', o.dropout);
  const head = o.family.sequenceHead;
  switch (o.problemType) {
    case 'single_label_classification':
      return buildModel(
        o,
        head,
        dropout,
        { name: 'labels', dtype: 'int64', shape: ['batch'] },
        (g, logits, labels) => g.softmaxCrossEntropy(logits, labels).loss,
      );
    case 'multi_label_classification':
      return buildModel(
        o,
        head,
        dropout,
        { name: 'labels', dtype: 'float32', shape: ['batch', o.numLabels] },
        bceWithLogits,
      );
    case 'regression':
      if (o.numLabels !== 1) throw new Error(`regression needs exactly one output, got num_labels ${o.numLabels}`);
      return buildModel(
        o,
        head,
        dropout,
        { name: 'labels', dtype: 'float32', shape: ['batch'] },
        (g, logits, labels) => {
          const diff = g.sub(g.squeeze(logits, [1]), labels);
          return g.reduceMean(g.mul(diff, diff), undefined, false);
        },
      );
  }
}

/** Index that marks sub-tokens and special tokens without a label (PyTorch's CrossEntropyLoss default). */
export const IGNORE_INDEX = -100;

export function tokenClassificationModel(o: EncoderTaskOptions): EncoderTaskModel {
  const dropout = o.family.headDropout(o.config, 'token', o.dropout);
  return buildModel(
    o,
    o.family.tokenHead,
    dropout,
    { name: 'labels', dtype: 'int64', shape: ['batch', 'seq'] },
    (g, logits, labels) => {
      const flat = g.reshape(logits, [-1, o.numLabels]); // [B*T, L]
      return g.softmaxCrossEntropy(flat, g.reshape(labels, [-1]), { ignoreIndex: IGNORE_INDEX }).loss;
    },
  );
}
