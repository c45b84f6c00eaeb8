import type { EncoderArch } from './encoder.js';
import type { Head } from './heads.js';
import type { HfConfigReader } from './hf-config.js';
import { dropout, linear } from './layers.js';

/**
 * The extractive question-answering head of the encoder families, as their *ForQuestionAnswering
 * classes build it: `qa_outputs` (Linear hidden -> 2) on every token of the sequence output, the
 * two columns being the start and end logits. Only DistilBERT puts a dropout (`qa_dropout`) before
 * it; BERT, RoBERTa, ALBERT and ELECTRA apply `qa_outputs` to the sequence output directly.
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

/** `architectures[0]` of a fine-tuned QA model, by config.json `model_type`. */
const QA_ARCHITECTURES: Readonly<Record<string, string>> = {
  bert: 'BertForQuestionAnswering',
  roberta: 'RobertaForQuestionAnswering',
  'xlm-roberta': 'XLMRobertaForQuestionAnswering',
  camembert: 'CamembertForQuestionAnswering',
  distilbert: 'DistilBertForQuestionAnswering',
  albert: 'AlbertForQuestionAnswering',
  electra: 'ElectraForQuestionAnswering',
};

export function qaArchitecture(arch: EncoderArch): string {
  const name = QA_ARCHITECTURES[arch.family];
  if (!name) {
    const known = Object.keys(QA_ARCHITECTURES).join(', ');
    throw new Error(`question answering is not supported for model_type '${arch.family}' (supported: ${known})`);
  }
  return name;
}

/** Dropout before qa_outputs: DistilBERT's qa_dropout (default 0.1), none elsewhere; training.dropout overrides. */
export function qaDropout(arch: EncoderArch, cfg: HfConfigReader, override?: number): number {
  if (arch.family !== 'distilbert') return 0;
  return override ?? cfg.num('qa_dropout', 0.1);
}
