import type { GraphBuilder } from '../../graph/builder.js';
import type { Value } from '../../graph/types.js';
import { encode, encoderBaseSpecs, encoderInputs } from '../../models/encoder.js';
import type { EncoderFamily } from '../../models/family.js';
import type { HfConfigReader } from '../../models/hf-config.js';
import type { AdapterHook } from '../../models/layers.js';
import type { ForwardMode } from '../../models/model.js';
import { qaHead } from '../../models/qa-head.js';
import { type EncoderTaskModel, encoderBlockContext } from '../encoder/task-models.js';

/**
 * An encoder with the extractive QA head and the loss of Hugging Face's *ForQuestionAnswering:
 * logits [B, T, 2] split into start and end logits [B, T]; positions are clamped to [0, T] and T is
 * ignored (CrossEntropyLoss(ignore_index=T)); loss = (CE(start) + CE(end)) / 2. The batch feeds
 * `start_positions` and `end_positions` ([B], Hugging Face's names); the export's outputs are
 * `start_logits` and `end_logits`.
 */
export interface QaModelOptions {
  family: EncoderFamily;
  config: HfConfigReader;
  /** training.dropout: overrides hidden, attention and head dropout. */
  dropout?: number;
  /** LoRA adapters (method lora), handed to the linear layers. */
  adapters?: AdapterHook;
}

/**
 * Mean cross-entropy of start (or end) logits [B, T] against positions [B], as PyTorch's
 * CrossEntropyLoss(ignore_index=T) after HF's clamp(0, T): a negative position counts as 0 and a
 * position >= T is ignored. Written with LogSoftmax and a one-hot mask because the class axis (the
 * sequence) is dynamic, which SoftmaxCrossEntropyLoss's gradient does not take.
 */
function positionCrossEntropy(g: GraphBuilder, scores: Value, positions: Value): Value {
  const T = g.gather(g.shape(scores), g.scalar(1, 'int64')); // int64 scalar
  const zero = g.scalar(0, 'int64');
  const clamped = g.where(g.op('Less', [positions, zero])[0] as Value, zero, positions); // >= T matches no token
  const tokens = g.op('Range', [zero, T, g.scalar(1, 'int64')])[0] as Value; // [T]
  const oneHot = g.cast(g.equal(g.unsqueeze(clamped, [1]), g.unsqueeze(tokens, [0])), g.floatType); // [B, T]
  const picked = g.reduceSum(g.mul(g.logSoftmax(scores, 1), oneHot), undefined, false);
  return g.neg(g.div(picked, g.reduceSum(oneHot, undefined, false)));
}

export function questionAnsweringModel(o: QaModelOptions): EncoderTaskModel {
  const arch = o.family.arch(o.config, o.dropout);
  const inputs = encoderInputs(arch);
  const headDropout = o.family.headDropout(o.config, 'qa', o.dropout);
  return {
    arch,
    params: [...encoderBaseSpecs(arch), ...qaHead.params(arch, 2)],
    batchInputs: [
      ...inputs,
      { name: 'start_positions', dtype: 'int64', shape: ['batch'] },
      { name: 'end_positions', dtype: 'int64', shape: ['batch'] },
    ],
    inferenceInputs: inputs.map((i) => i.name),
    forward(g: GraphBuilder, param, values, mode: ForwardMode) {
      const ctx = encoderBlockContext(g, param, mode, arch, o.adapters);
      const out = encode(ctx, arch, values);
      const logits = g.scope('head', () => qaHead.forward(ctx, out, headDropout, arch)); // [B, T, 2]
      const [startLogits, endLogits] = g.scope('split', () =>
        g.split(logits, [1, 1], 2).map((v) => g.squeeze(v, [2])),
      ) as [Value, Value]; // [B, T] each
      const loss = g.scope('loss', () => {
        const start = positionCrossEntropy(g, startLogits, values.start_positions as Value);
        const end = positionCrossEntropy(g, endLogits, values.end_positions as Value);
        return g.mul(g.add(start, end), 0.5);
      });
      return { loss, logits, inferenceOutputs: { start_logits: startLogits, end_logits: endLogits } };
    },
  };
}
