/**
 * How much memory a training run will need at its peak, from the model's tensor shapes and the
 * config, for the editor's "estimated peak memory" diagnostic (src/shared/node/model-memory.ts
 * reads the shapes and the machine's free memory). Pure arithmetic, browser-safe.
 *
 * The engine computes in float32 whatever the checkpoint's dtype, so every number is 4 bytes:
 *
 *   weights     = P × 4                     P: every parameter (safetensors shapes, exact)
 *   optimizer   full / freeze: 6 × P × 4    a gradient and AdamW's m and v per trained weight, and
 *                                           the updated weight, m and v the training step returns
 *                                           beside the ones it was given (freeze counted as full:
 *                                           an upper bound)
 *               lora: 7 × L × 4             the same for the L adapter parameters, plus the adapters
 *   activations B × T × layers × (ACT_HIDDEN × h + ACT_INTERMEDIATE × I + ACT_SCORES × heads × T) × 4
 *               + lora: B × T × (ACT_LORA_INPUT [+ ACT_LORA_DROPOUT when lora.dropout > 0])
 *                       × (the input sizes of every adapted linear layer) × 4
 *               + causal LM: B × T × V × 4 × 2   the logits and their gradient
 *   runtime     RUNTIME_BYTES                Node, onnxruntime and the tokenizer (a tiny run's peak)
 *
 * B batch_size, T max_length, h hidden size, I intermediate (MLP) size, V vocabulary.
 *
 * The factors are measured, not derived: peak RSS (GNU time's "Maximum resident set size") of
 * `finetune train` on CPU, one thread, a random Llama (h 512, I 1408, 8 layers, 8 heads, 4 key/value
 * heads, 24.0 M parameters), every row truncated to max_length. A count of the float32 tensors a
 * Llama layer keeps for its backward pass gives about 12 h + 4 I + 2 heads × T per token; the
 * engine keeps about 1.75 times that in the h and I terms and 1.5 heads × T for the attention
 * scores. README ("Memory estimate") has the table of measured and estimated peaks.
 */
export const ACT_HIDDEN = 21;
export const ACT_INTERMEDIATE = 7;
export const ACT_SCORES = 1.5;
/** LoRA's adapters keep their input, and with dropout its dropped copy, per adapted layer. */
export const ACT_LORA_INPUT = 3.75;
export const ACT_LORA_DROPOUT = 1.25;
export const RUNTIME_BYTES = 120 * 2 ** 20;
const F32 = 4;

/** A tensor by its Hugging Face name and shape, as a safetensors header lists it. */
export type TensorShape = readonly [name: string, shape: readonly number[]];

/**
 * The families' default LoRA targets (each family's `loraTargets` in src/engine/models/, which a
 * test keeps inside this set): a model has the names of its own family only.
 */
export const DEFAULT_LORA_TARGETS: ReadonlySet<string> = new Set([
  'q_proj',
  'v_proj',
  'qkv_proj',
  'c_attn',
  'query',
  'value',
  'q_lin',
  'v_lin',
  'layer_1',
  'layer_2',
  'q', // T5's attention projections (PEFT's default for T5 is q and v)
  'v',
]);

/** Weights that are embeddings or the output head: never LoRA targets, even under all-linear. */
const NOT_LINEAR =
  /(^|\.)(embed_tokens|wte|wpe|lm_head|word_embeddings|position_embeddings|token_type_embeddings|shared|relative_attention_bias)\./;

export function parameterCount(tensors: readonly TensorShape[]): number {
  return tensors.reduce((sum, [, shape]) => sum + shape.reduce((a, b) => a * b, 1), 0);
}

/**
 * The adapter parameters LoRA adds: r × (in + out) for each targeted linear weight, a 2-D
 * `<module>.weight` whose module name's last part is a target (PEFT's matching of a list), or any
 * linear weight but embeddings and the head for `all-linear`.
 */
export function loraParameterCount(
  tensors: readonly TensorShape[],
  r: number,
  targets: readonly string[] | 'all-linear' | undefined,
): number {
  return loraTargets(tensors, targets).reduce((sum, [out, inp]) => sum + r * (out + inp), 0);
}

/** The [out, in] shapes of the linear weights LoRA adapts (nn.Linear stores [out, in]). */
function loraTargets(
  tensors: readonly TensorShape[],
  targets: readonly string[] | 'all-linear' | undefined,
): (readonly [number, number])[] {
  const wanted = targets === undefined ? DEFAULT_LORA_TARGETS : targets === 'all-linear' ? undefined : new Set(targets);
  const found: (readonly [number, number])[] = [];
  for (const [name, shape] of tensors) {
    if (shape.length !== 2 || !name.endsWith('.weight') || NOT_LINEAR.test(name)) continue;
    const module = name.slice(0, -'.weight'.length).split('.').pop() ?? '';
    if (!wanted || wanted.has(module)) found.push([shape[0] as number, shape[1] as number]);
  }
  return found;
}

/** The sizes the activation term needs, from config.json. */
export interface ModelDims {
  hidden: number;
  intermediate: number;
  layers: number;
  heads: number;
  vocab: number;
}

function num(config: Record<string, unknown>, ...keys: string[]): number | undefined {
  for (const k of keys) {
    const v = config[k];
    if (typeof v === 'number' && Number.isFinite(v) && v > 0) return v;
  }
  return undefined;
}

/** The dims of a Llama-like, GPT-2 or BERT-like config.json; undefined when a size is missing. */
export function modelDims(config: Record<string, unknown>): ModelDims | undefined {
  const hidden = num(config, 'hidden_size', 'n_embd', 'd_model', 'dim');
  const layers = num(config, 'num_hidden_layers', 'n_layer', 'num_layers', 'n_layers');
  const heads = num(config, 'num_attention_heads', 'n_head', 'n_heads', 'num_heads');
  const vocab = num(config, 'vocab_size');
  if (!hidden || !layers || !heads || !vocab) return undefined;
  const intermediate = num(config, 'intermediate_size', 'n_inner', 'hidden_dim', 'd_ff') ?? 4 * hidden;
  return { hidden, intermediate, layers, heads, vocab };
}

/**
 * The tensors of a Llama-like config.json (Llama, Mistral, Qwen2/3), by their Hugging Face names,
 * for when the weights' headers can't be read: embeddings, per layer q/k/v/o (grouped-query k and v),
 * gate/up/down, two RMSNorms, the final norm, and lm_head unless tie_word_embeddings.
 */
export function llamaTensors(config: Record<string, unknown>): TensorShape[] | undefined {
  const dims = modelDims(config);
  if (!dims) return undefined;
  const { hidden: h, intermediate: I, layers, heads, vocab: V } = dims;
  const kv = num(config, 'num_key_value_heads') ?? heads;
  const hd = num(config, 'head_dim') ?? h / heads;
  const out: TensorShape[] = [['model.embed_tokens.weight', [V, h]]];
  for (let l = 0; l < layers; l++) {
    const p = `model.layers.${l}`;
    out.push(
      [`${p}.self_attn.q_proj.weight`, [heads * hd, h]],
      [`${p}.self_attn.k_proj.weight`, [kv * hd, h]],
      [`${p}.self_attn.v_proj.weight`, [kv * hd, h]],
      [`${p}.self_attn.o_proj.weight`, [h, heads * hd]],
      [`${p}.mlp.gate_proj.weight`, [I, h]],
      [`${p}.mlp.up_proj.weight`, [I, h]],
      [`${p}.mlp.down_proj.weight`, [h, I]],
      [`${p}.input_layernorm.weight`, [h]],
      [`${p}.post_attention_layernorm.weight`, [h]],
    );
  }
  out.push(['model.norm.weight', [h]]);
  if (config.tie_word_embeddings !== true) out.push(['lm_head.weight', [V, h]]);
  return out;
}

export interface MemoryInputs {
  tensors: readonly TensorShape[];
  dims: ModelDims;
  method: 'full' | 'freeze' | 'lora';
  lora?: { r: number; targets: readonly string[] | 'all-linear' | undefined; dropout?: number };
  batchSize: number;
  maxLength: number;
  /** causal-lm: the logits over the vocabulary for every token. */
  causalLm: boolean;
}

export interface MemoryEstimate {
  weights: number;
  optimizer: number;
  activations: number;
  runtime: number;
  total: number;
}

/** The estimate in bytes (the formula is in this file's header). */
export function estimateTrainingMemory(m: MemoryInputs): MemoryEstimate {
  const params = parameterCount(m.tensors);
  const weights = params * F32;
  const lora = m.method === 'lora';
  const optimizer = lora ? 7 * loraParameterCount(m.tensors, m.lora?.r ?? 8, m.lora?.targets) * F32 : 6 * params * F32;
  const adapterInputs = lora ? loraTargets(m.tensors, m.lora?.targets).reduce((sum, [, inp]) => sum + inp, 0) : 0;
  const { hidden, intermediate, layers, heads, vocab } = m.dims;
  const tokens = m.batchSize * m.maxLength;
  const perToken = ACT_HIDDEN * hidden + ACT_INTERMEDIATE * intermediate + ACT_SCORES * heads * m.maxLength;
  const logits = m.causalLm ? tokens * vocab * F32 * 2 : 0;
  const perInput = ACT_LORA_INPUT + ((m.lora?.dropout ?? 0) > 0 ? ACT_LORA_DROPOUT : 0);
  const activations = tokens * (layers * perToken + perInput * adapterInputs) * F32 + logits;
  const runtime = RUNTIME_BYTES;
  return { weights, optimizer, activations, runtime, total: weights + optimizer + activations + runtime };
}

export function gib(bytes: number): string {
  const v = bytes / 2 ** 30;
  return v >= 10 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toFixed(2);
}

/** The diagnostic's sentence. */
export function describeEstimate(e: MemoryEstimate, freeBytes: number): string {
  return `Estimated peak memory ≈ ${gib(e.total)} GiB (weights ${gib(e.weights)}, optimizer ${gib(e.optimizer)}, activations ${gib(e.activations)}, runtime ${gib(e.runtime)}); free RAM ${gib(freeBytes)} GiB.`;
}
