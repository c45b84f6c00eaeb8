import type { DecoderFamily } from '../family.js';
import { qwenSlidingWindow } from '../llama/arch.js';
import { LLAMA_BASE_PREFIX, llamaLikeDecoder } from '../llama/model.js';

/** Qwen2 / Qwen2.5 (`Qwen2ForCausalLM`): Llama's graph with biases on q_proj, k_proj, v_proj only. */
export const qwen2: DecoderFamily = {
  kind: 'decoder',
  name: 'qwen2',
  modelTypes: ['qwen2'],
  basePrefix: LLAMA_BASE_PREFIX,
  loraTargets: ['q_proj', 'v_proj'],
  causalLmArchitecture: 'Qwen2ForCausalLM',
  decoder: llamaLikeDecoder('qwen2', (cfg) => ({
    qkvBias: true,
    oBias: false,
    mlpBias: false,
    qkNorm: false,
    fused: false,
    slidingWindow: qwenSlidingWindow(cfg),
    residDropout: 0,
  })),
};
