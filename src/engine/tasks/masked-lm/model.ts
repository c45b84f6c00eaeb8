import type { GraphBuilder } from '../../graph/builder.js';
import type { Value } from '../../graph/types.js';
import { type EncoderArch, encode, encoderBaseSpecs, encoderInputs, isCustomArch } from '../../models/encoder.js';
import type { EncoderFamily } from '../../models/family.js';
import type { HfConfigReader } from '../../models/hf-config.js';
import type { AdapterHook } from '../../models/layers.js';
import { type MaskedLmHead, maskedLmHeadParams, maskedLmLogits } from '../../models/mlm-head.js';
import type { ForwardMode } from '../../models/model.js';
import { type EncoderTaskModel, encoderBlockContext } from '../encoder/task-models.js';
import { MLM_IGNORE_INDEX } from './masking.js';

export interface MaskedLmModel extends EncoderTaskModel {
  readonly arch: EncoderArch;
  readonly head: MaskedLmHead;
}

/**
 * An encoder family's *ForMaskedLM: the base model without its pooler (add_pooling_layer=False, as
 * BertForMaskedLM, RobertaForMaskedLM and AlbertForMaskedLM build it), the family's head, and the
 * mean cross-entropy over the selected tokens. A batch with no selected token has loss 0, not the
 * 0/0 that CrossEntropyLoss would give. In eval mode `logits` is the predicted id of each position.
 */
export function maskedLmModel(o: {
  family: EncoderFamily;
  config: HfConfigReader;
  dropout?: number;
  adapters?: AdapterHook;
}): MaskedLmModel {
  const head = o.family.maskedLmHead;
  const withHeads = ['bert', 'roberta', 'distilbert', 'albert', 'electra'];
  if (!head) {
    throw new Error(
      `${o.config.source}: model_type '${o.config.str('model_type', '')}' has no masked-LM head (task masked-lm: ${withHeads.join(', ')})`,
    );
  }
  const full = o.family.arch(o.config, o.dropout);
  if (isCustomArch(full)) throw new Error(`${o.config.source}: the ${o.family.name} encoder has no masked-LM head`);
  const arch: EncoderArch = { ...full, names: { ...full.names, pooler: undefined } };
  const inputs = encoderInputs(arch);
  return {
    arch,
    head,
    params: [...encoderBaseSpecs(arch), ...maskedLmHeadParams(head, arch)],
    batchInputs: [...inputs, { name: 'labels', dtype: 'int64', shape: ['batch', 'seq'] }],
    inferenceInputs: inputs.map((i) => i.name),
    forward(g: GraphBuilder, param, values, mode: ForwardMode) {
      const ctx = encoderBlockContext(g, param, mode, arch, o.adapters);
      const out = encode(ctx, arch, values);
      const logits = g.scope('head', () => maskedLmLogits(ctx, head, arch, out.sequence)); // [B, T, V]
      const loss = g.scope('loss', () => {
        const labels = g.reshape(values.labels as Value, [-1]);
        const flat = g.reshape(logits, [-1, arch.vocabSize]);
        const sum = g.softmaxCrossEntropy(flat, labels, { ignoreIndex: MLM_IGNORE_INDEX, reduction: 'sum' }).loss;
        // Selected tokens, at least 1 (labels carry no gradient: Max needs none).
        const selected = g.reduceSum(g.cast(g.greater(labels, MLM_IGNORE_INDEX), g.floatType), undefined, false);
        return g.div(sum, g.max(selected, 1));
      });
      // Evaluation reads one prediction per position, not the [B, T, V] logits (at a 30k vocabulary,
      // 500 MB for a batch of 32 × 128): the eval graph's `logits` output is the argmax id (int64
      // [B, T]); the exported model (inferenceOutputs) gives the vocabulary logits.
      if (mode !== 'eval') return { loss, logits };
      return { loss, logits: g.argMax(logits, -1), inferenceOutputs: { logits } };
    },
  };
}
