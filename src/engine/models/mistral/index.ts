import type { DecoderFamily } from '../family.js';
import { slidingWindowOf } from '../llama/arch.js';
import { LLAMA_BASE_PREFIX, llamaLikeDecoder } from '../llama/model.js';

/**
 * Mistral (`MistralForCausalLM`): Llama's graph without biases, `head_dim` from config.json. Its
 * `sliding_window` (null in Mistral v0.2+) bounds the sequences the engine accepts: past the window
 * transformers masks old keys, which the shared decoder does not.
 */
export const mistral: DecoderFamily = {
  kind: 'decoder',
  name: 'mistral',
  modelTypes: ['mistral'],
  basePrefix: LLAMA_BASE_PREFIX,
  loraTargets: ['q_proj', 'v_proj'],
  causalLmArchitecture: 'MistralForCausalLM',
  decoder: llamaLikeDecoder('mistral', (cfg) => ({
    qkvBias: false,
    oBias: false,
    mlpBias: false,
    qkNorm: false,
    fused: false,
    slidingWindow: slidingWindowOf(cfg),
    residDropout: 0,
  })),
};
