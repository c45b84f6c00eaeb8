import type { Seq2SeqFamily } from '../family.js';
import { t5Seq2Seq } from './model.js';

/**
 * T5 (`T5ForConditionalGeneration`: t5-small … t5-11b, T5 v1.1, flan-T5) and mT5
 * (`MT5ForConditionalGeneration`, the same graph): see model.ts. The weights carry no base prefix
 * (`shared`, `encoder.block.N…`, `decoder.block.N…`); PEFT's default LoRA targets for both are q and v.
 */
export const t5: Seq2SeqFamily = {
  kind: 'seq2seq',
  name: 't5',
  modelTypes: ['t5', 'mt5'],
  basePrefix: '',
  loraTargets: ['q', 'v'],
  conditionalGenerationArchitecture: (modelType) =>
    modelType === 'mt5' ? 'MT5ForConditionalGeneration' : 'T5ForConditionalGeneration',
  seq2seq: t5Seq2Seq,
};
