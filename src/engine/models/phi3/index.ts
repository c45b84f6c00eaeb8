import type { DecoderFamily } from '../family.js';
import { slidingWindowOf } from '../llama/arch.js';
import { LLAMA_BASE_PREFIX, llamaLikeDecoder } from '../llama/model.js';

/**
 * Phi-3 (`Phi3ForCausalLM`): Llama's graph with fused `qkv_proj` and `gate_up_proj` (split in the
 * graph, so names and layouts stay Hugging Face's), `partial_rotary_factor`, `resid_pdrop` after
 * o_proj and down_proj, no biases; `sliding_window` bounds the accepted sequences as for Mistral.
 */
export const phi3: DecoderFamily = {
  kind: 'decoder',
  name: 'phi3',
  modelTypes: ['phi3'],
  basePrefix: LLAMA_BASE_PREFIX,
  loraTargets: ['qkv_proj'],
  causalLmArchitecture: 'Phi3ForCausalLM',
  decoder: llamaLikeDecoder('phi3', (cfg) => ({
    qkvBias: false,
    oBias: false,
    mlpBias: false,
    qkNorm: false,
    fused: true,
    slidingWindow: slidingWindowOf(cfg),
    residDropout: cfg.num('resid_pdrop', 0),
  })),
};
