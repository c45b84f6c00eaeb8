import type { DecoderFamily } from '../family.js';
import { LLAMA_BASE_PREFIX, llamaLikeDecoder } from './model.js';

/**
 * Llama (`LlamaForCausalLM`: Llama 2, 3, 3.1, 3.2, SmolLM, TinyLlama): see model.ts for the graph.
 * `attention_bias` puts biases on q/k/v/o_proj, `mlp_bias` on the MLP's projections.
 */
export const llama: DecoderFamily = {
  kind: 'decoder',
  name: 'llama',
  modelTypes: ['llama'],
  basePrefix: LLAMA_BASE_PREFIX,
  loraTargets: ['q_proj', 'v_proj'],
  causalLmArchitecture: 'LlamaForCausalLM',
  decoder: llamaLikeDecoder('llama', (cfg) => {
    const attentionBias = cfg.bool('attention_bias', false);
    const mlpBias = cfg.bool('mlp_bias', false);
    return {
      qkvBias: attentionBias,
      oBias: attentionBias,
      mlpBias,
      qkNorm: false,
      fused: false,
      slidingWindow: null,
      residDropout: 0,
    };
  }),
};
