import type { DecoderFamily } from '../family.js';
import { GPT2_BASE_PREFIX, gpt2Decoder } from './model.js';

/** GPT-2 (`GPT2LMHeadModel`): see model.ts for the graph. */
export const gpt2: DecoderFamily = {
  kind: 'decoder',
  name: 'gpt2',
  modelTypes: ['gpt2'],
  basePrefix: GPT2_BASE_PREFIX,
  loraTargets: ['c_attn'],
  causalLmArchitecture: 'GPT2LMHeadModel',
  decoder: gpt2Decoder,
};
