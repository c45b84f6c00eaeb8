import type { Seq2SeqFamily } from '../family.js';
import type { BartVariant } from './arch.js';
import { bartSeq2Seq } from './model.js';

/**
 * BART (`BartForConditionalGeneration`: facebook/bart-*), mBART (`MBartForConditionalGeneration`:
 * mbart-large-cc25, mbart-large-50) and Marian (`MarianMTModel`: Helsinki-NLP/opus-mt-*): one
 * folder, as transformers copies mBART and Marian from BART and the three differ only in the
 * switches arch.ts reads (norm placement, embedding LayerNorm, positions, mBART's shift). Weights
 * sit under the base prefix `model` (`model.shared`, `model.encoder.layers.N…`) with `lm_head` and
 * `final_logits_bias` outside it; PEFT's default LoRA targets for all three are q_proj and v_proj.
 */
function bartFamily(variant: BartVariant, architecture: string): Seq2SeqFamily {
  return {
    kind: 'seq2seq',
    name: variant,
    modelTypes: [variant],
    basePrefix: 'model',
    loraTargets: ['q_proj', 'v_proj'],
    conditionalGenerationArchitecture: () => architecture,
    seq2seq: (cfg, o) => bartSeq2Seq(variant, cfg, o),
  };
}

export const bart = bartFamily('bart', 'BartForConditionalGeneration');
export const mbart = bartFamily('mbart', 'MBartForConditionalGeneration');
export const marian = bartFamily('marian', 'MarianMTModel');
