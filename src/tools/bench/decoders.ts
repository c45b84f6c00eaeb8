import { tensorOf } from '../../engine/graph/types.js';
import { ALL_LINEAR, Lora } from '../../engine/methods/lora.js';
import { causalLmModel } from '../../engine/models/decoder.js';
import { HfConfigReader } from '../../engine/models/hf-config.js';
import { initWeights } from '../../engine/models/init.js';
import type { TrainableModel, Weights } from '../../engine/models/model.js';
import { decoderFamilyOf } from '../../engine/models/registry.js';
import { ortBackend } from '../../engine/runtime.js';
import type { Batch } from '../../engine/step/batch.js';
import { buildForward, buildTrainStep, type StepGraphOptions } from '../../engine/step/step-graph.js';
import { StepRunner } from '../../engine/train/step-runner.js';
import { rng } from '../../engine/util/random.js';
import { CASE_OPTIMIZER } from './engine-case.js';
import { formatLiveness, type LivenessOrder, liveness } from './liveness.js';
import { type BenchSuite, median, peakRssMb, runCaseChild } from './suite.js';
import { runTorchScript, torchPeer, torchUnavailable } from './torch-ref.js';

/**
 * `--only decoders`: a Llama-shaped causal LM at SmolLM2-135M's shape (hidden 576, 30 layers, 9
 * heads, 3 KV heads, intermediate 1536, vocab 49152, tied head), seq 256, batch 4, trained with
 * LoRA r=16 on every linear layer of the blocks and in full, side by side with the same step in
 * PyTorch (bench/torch/decoder_reference.py). Each measurement runs in its own process.
 */
const SHAPE = { layers: 30, hidden: 576, heads: 9, kvHeads: 3, intermediate: 1536, vocab: 49152 };
const SEQ = 256;
const BATCH = 4;
const THREADS = 2;
const WARMUP = 2;
const DEFAULT_STEPS = 5;
const LORA = { r: 16, alpha: 32 };

export type DecoderMethod = 'lora' | 'full';
export const DECODER_CASES: readonly { name: string; method: DecoderMethod }[] = [
  { name: 'smollm2-lora', method: 'lora' },
  { name: 'smollm2-full', method: 'full' },
];

export interface DecoderResult {
  case: string;
  step_ms: number;
  forward_ms: number;
  tokens_per_s: number;
  rss_mb: number;
  trainable: number;
}

function caseModel(method: DecoderMethod): { model: TrainableModel; weights: Weights; trainable: Set<string> } {
  const config = {
    model_type: 'llama',
    vocab_size: SHAPE.vocab,
    hidden_size: SHAPE.hidden,
    num_hidden_layers: SHAPE.layers,
    num_attention_heads: SHAPE.heads,
    num_key_value_heads: SHAPE.kvHeads,
    intermediate_size: SHAPE.intermediate,
    max_position_embeddings: 2048,
    rms_norm_eps: 1e-5,
    rope_theta: 100000,
    tie_word_embeddings: true,
    hidden_act: 'silu',
  };
  const cfg = new HfConfigReader(config, 'bench:smollm2-135m/config.json');
  const family = decoderFamilyOf(cfg);
  if (method === 'full') {
    const model = causalLmModel(family, { config: cfg });
    return { model, weights: initWeights(model.params, 0), trainable: new Set(model.params.map((p) => p.name)) };
  }
  const lora = new Lora({ r: LORA.r, alpha: LORA.alpha, dropout: 0, targetModules: ALL_LINEAR, useRslora: false });
  const base = causalLmModel(family, { config: cfg, adapters: lora.hook });
  lora.plan(base, new Set());
  const weights = new Map([...initWeights(base.params, 0), ...lora.initWeights(1)]);
  return { model: lora.wrap(base), weights, trainable: new Set(lora.specs().map((s) => s.name)) };
}

function randomLmBatch(): Batch {
  const rand = rng(1);
  const ids = Array.from({ length: BATCH * SEQ }, () => Math.floor(rand() * SHAPE.vocab));
  const labels = ids.map((_, i) => ((i + 1) % SEQ === 0 ? -100 : (ids[i + 1] as number)));
  return {
    input_ids: tensorOf('int64', [BATCH, SEQ], ids),
    attention_mask: tensorOf('int64', [BATCH, SEQ], new Array<number>(BATCH * SEQ).fill(1)),
    labels: tensorOf('int64', [BATCH, SEQ], labels),
  };
}

/** A decoder case's model, weights and trained names with the bench's optimizer settings. */
function caseSetup(name: string) {
  const c = DECODER_CASES.find((x) => x.name === name);
  if (!c) throw new Error(`no decoder case '${name}'`);
  return { ...caseModel(c.method), ...CASE_OPTIMIZER };
}

/**
 * `--case <decoder case> --liveness [--order ort|index] [--top N]`: the static peak live set of the
 * case's train step and eval forward, built as StepRunner builds them (frozen weights fed, AdamW
 * on the host where ORT's backend puts it), at the bench's batch and sequence length.
 */
export function decoderLiveness(name: string, order: LivenessOrder = 'ort', top = 20): string[] {
  const opts: StepGraphOptions = {
    ...caseSetup(name),
    frozenAsInputs: true,
    placeOptimizer: (p, o) => ortBackend.placeOptimizer(p, o),
  };
  const dims = { batch: BATCH, seq: SEQ };
  return [
    ...formatLiveness(`${name} train step (${order} order)`, liveness(buildTrainStep(opts).graph, dims, order), top),
    ...formatLiveness(`${name} eval forward (${order} order)`, liveness(buildForward(opts).graph, dims, order), top),
  ];
}

/** One engine measurement in this process: train steps alternating with eval forwards, medians after warm-up. */
export async function measureDecoder(name: string, steps = DEFAULT_STEPS): Promise<DecoderResult> {
  const setup = caseSetup(name);
  const { weights, trainable } = setup;
  const runner = await StepRunner.create({
    ...setup,
    device: 'cpu',
    threads: THREADS,
  });
  const batch = randomLmBatch();
  const stepMs: number[] = [];
  const forwardMs: number[] = [];
  try {
    for (let i = 0; i < WARMUP + steps; i++) {
      const t0 = performance.now();
      await runner.step(batch, 2e-4);
      const t1 = performance.now();
      // The causal-LM trainer's evaluation (tasks/causal-lm): the loss, the logits left inside ORT.
      await runner.evaluateLoss(batch);
      if (i < WARMUP) continue;
      stepMs.push(t1 - t0);
      forwardMs.push(performance.now() - t1);
    }
  } finally {
    await runner.dispose();
  }
  const step = median(stepMs);
  let trained = 0;
  for (const n of trainable) trained += weights.get(n)?.data.length ?? 0;
  return {
    case: name,
    step_ms: step,
    forward_ms: median(forwardMs),
    tokens_per_s: (BATCH * SEQ) / (step / 1000),
    rss_mb: await peakRssMb(),
    trainable: trained,
  };
}

interface TorchDecoder {
  tokens_per_s: number;
  step_ms_median: number;
  forward_ms_median: number;
  rss_mb: number;
}

/** The PyTorch peer for a method, with its peak RSS read by the wrapping interpreter. */
async function torchDecoder(method: DecoderMethod, steps: number): Promise<TorchDecoder> {
  const args = { layers: SHAPE.layers, hidden: SHAPE.hidden, heads: SHAPE.heads, 'kv-heads': SHAPE.kvHeads };
  const more = { intermediate: SHAPE.intermediate, vocab: SHAPE.vocab, seq: SEQ, batch: BATCH, r: LORA.r };
  const { objects, rssMb } = await runTorchScript(
    torchPeer('decoder_reference.py'),
    { ...args, ...more, alpha: LORA.alpha, steps, 'warmup-steps': WARMUP, threads: THREADS },
    'PyTorch decoder peer',
    ['--method', method],
  );
  const result = objects.find((l) => 'tokens_per_s' in l);
  if (!result) throw new Error(`PyTorch decoder peer printed no result: ${JSON.stringify(objects)}`);
  return { ...(result as unknown as TorchDecoder), rss_mb: rssMb };
}

const fix = (x: number | null, d = 0) => (x === null ? '-' : x.toFixed(d));

export const decodersSuite: BenchSuite = {
  name: 'decoders',
  comparesWithTorch: true,
  summary: `SmolLM2-135M-shaped Llama, seq ${SEQ}, batch ${BATCH}, ${THREADS} threads: LoRA r=${LORA.r} all-linear and full fine-tuning vs PyTorch`,
  async run(log, args) {
    const steps = args.steps ?? DEFAULT_STEPS;
    const noTorch = args.noTorch ? '--no-torch' : torchUnavailable();
    if (noTorch) log(`PyTorch peer skipped (${noTorch}): torch fields are null`);
    log('case           engine tok/s  torch tok/s  ratio  step/fwd  RSS MiB (torch)');
    const out: Record<string, unknown>[] = [];
    for (const c of DECODER_CASES) {
      const engine = await runCaseChild<DecoderResult>(c.name, ['--steps', String(steps)]);
      const torch = noTorch ? null : await torchDecoder(c.method, steps);
      const ratio = torch ? engine.tokens_per_s / torch.tokens_per_s : null;
      log(
        `${c.name.padEnd(14)} ${fix(engine.tokens_per_s).padStart(12)} ${fix(torch?.tokens_per_s ?? null).padStart(12)} ${fix(ratio, 2).padStart(6)} ${fix(engine.step_ms / engine.forward_ms, 2).padStart(9)}  ${fix(engine.rss_mb)} (${fix(torch?.rss_mb ?? null)})`,
      );
      out.push({
        suite: 'decoders',
        ...engine,
        step_over_forward: engine.step_ms / engine.forward_ms,
        torch_tokens_per_s: torch?.tokens_per_s ?? null,
        torch_step_over_forward: torch ? torch.step_ms_median / torch.forward_ms_median : null,
        torch_rss_mb: torch?.rss_mb ?? null,
        speedup: ratio,
      });
    }
    return out;
  },
};
