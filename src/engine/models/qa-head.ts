import type { Head } from './heads.js';
import { dropout, linear } from './layers.js';

/**
 * The extractive question-answering head of the encoder families, as their *ForQuestionAnswering
 * classes build it: `qa_outputs` (Linear hidden -> 2) on every token of the sequence output, the
 * two columns being the start and end logits. The dropout before it is the family's
 * (`headDropout(cfg, 'qa')`: DistilBERT's `qa_dropout`, none in the others).
 */
export const QA_OUTPUTS = 'qa_outputs';

/** dropout(sequence) -> qa_outputs. // [B, T, H] -> [B, T, 2] */
export const qaHead: Head = {
  params: (arch, n) => [
    { name: `${QA_OUTPUTS}.weight`, shape: [n, arch.hidden], init: { kind: 'normal', std: arch.initializerRange } },
    { name: `${QA_OUTPUTS}.bias`, shape: [n], init: { kind: 'zeros' } },
  ],
  forward: (ctx, out, ratio) => linear(ctx, dropout(ctx, out.sequence, ratio), QA_OUTPUTS),
};
