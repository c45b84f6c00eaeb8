import type { DecoderFamily } from '../family.js';
import { qwenSlidingWindow } from '../llama/arch.js';
import { LLAMA_BASE_PREFIX, llamaLikeDecoder } from '../llama/model.js';

/**
 * Qwen3 (`Qwen3ForCausalLM`): Llama's graph with `q_norm` / `k_norm` (RMSNorm over head_dim, per
 * head, before the rotation) and `head_dim` from config.json; biases only with `attention_bias`.
 */
export const qwen3: DecoderFamily = {
  kind: 'decoder',
  name: 'qwen3',
  modelTypes: ['qwen3'],
  basePrefix: LLAMA_BASE_PREFIX,
  loraTargets: ['q_proj', 'v_proj'],
  causalLmArchitecture: 'Qwen3ForCausalLM',
  decoder: llamaLikeDecoder('qwen3', (cfg) => {
    const attentionBias = cfg.bool('attention_bias', false);
    return {
      qkvBias: attentionBias,
      oBias: attentionBias,
      mlpBias: false,
      qkNorm: true,
      fused: false,
      slidingWindow: qwenSlidingWindow(cfg),
      residDropout: 0,
    };
  }),
};
