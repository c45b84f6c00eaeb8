import { tensorOf } from '../../engine/graph/types.js';
import { type EncoderConfig, encoderClassifier } from '../../engine/models/encoder-classifier.js';
import { initWeights } from '../../engine/models/init.js';
import type { TrainableModel, Weights } from '../../engine/models/model.js';
import type { Batch } from '../../engine/step/batch.js';
import { StepRunner } from '../../engine/train/step-runner.js';
import { rng } from '../../engine/util/random.js';
import { median, peakRssMb } from './suite.js';

/**
 * One engine measurement of a throughput case, meant to run alone in a child process so that its
 * peak RSS is its own: train steps alternating with eval-mode forward passes of the same batch
 * (medians after warm-up), wall and CPU time per step.
 */
export interface ThroughputCase {
  name: string;
  layers: number;
  hidden: number;
  heads: number;
  intermediate: number;
  vocab: number;
  seq: number;
  batch: number;
  threads: number;
}

/** The reference's shapes (shared/bench/torch_reference.py defaults), and the wider second case. */
const BASE = { layers: 4, vocab: 30522, seq: 128, batch: 16, threads: 2 };
export const THROUGHPUT_CASES: readonly ThroughputCase[] = [
  { name: 'bert-h256', ...BASE, hidden: 256, heads: 4, intermediate: 1024 },
  { name: 'bert-h512', ...BASE, hidden: 512, heads: 8, intermediate: 2048 },
];

export const WARMUP = 3;
export const DEFAULT_STEPS = 10;

export interface EngineResult {
  case: string;
  step_ms: number;
  forward_ms: number;
  /** Process CPU time (all threads) per train step: the work, less sensitive to a busy machine. */
  step_cpu_ms: number;
  tokens_per_s: number;
  rss_mb: number;
  loss: number;
}

export function caseModel(c: ThroughputCase): { model: TrainableModel; weights: Weights } {
  const cfg: EncoderConfig = {
    vocabSize: c.vocab,
    hidden: c.hidden,
    layers: c.layers,
    heads: c.heads,
    intermediate: c.intermediate,
    maxPositions: 512,
    numLabels: 2,
    dropout: 0.1,
    layerNormEps: 1e-12,
    initializerRange: 0.02,
  };
  const model = encoderClassifier(cfg);
  return { model, weights: initWeights(model.params, 0) };
}

/**
 * Random token ids and labels, each example right-padded to `seq` (id 0, attention mask 0). By
 * default every example is `c.seq` long, every position attended: what the PyTorch reference trains on.
 */
export function randomBatch(
  c: ThroughputCase,
  o: { lengths?: readonly number[]; seq?: number; rand?: () => number } = {},
): Batch {
  const lengths = o.lengths ?? new Array<number>(c.batch).fill(c.seq);
  const seq = o.seq ?? Math.max(...lengths);
  const rand = o.rand ?? rng(1);
  const B = lengths.length;
  const ids = new Array<number>(B * seq).fill(0);
  const mask = new Array<number>(B * seq).fill(0);
  lengths.forEach((len, b) => {
    for (let t = 0; t < len; t++) {
      ids[b * seq + t] = 1 + Math.floor(rand() * (c.vocab - 1));
      mask[b * seq + t] = 1;
    }
  });
  return {
    input_ids: tensorOf('int64', [B, seq], ids),
    attention_mask: tensorOf('int64', [B, seq], mask),
    position_ids: tensorOf(
      'int64',
      [B, seq],
      Array.from({ length: B * seq }, (_, i) => i % seq),
    ),
    labels: tensorOf(
      'int64',
      [B],
      lengths.map(() => Math.floor(rand() * 2)),
    ),
  };
}

/** A runner training every parameter of the case's model with AdamW; `profilePrefix` as in StepRunnerOptions. */
export async function createRunner(c: ThroughputCase, o: { profilePrefix?: string } = {}): Promise<StepRunner> {
  const { model, weights } = caseModel(c);
  return StepRunner.create({
    model,
    weights,
    trainable: new Set(model.params.map((p) => p.name)),
    optimizer: { kind: 'adamw', weightDecay: 0.01 },
    maxGradNorm: 1,
    device: 'cpu',
    threads: c.threads,
    ...(o.profilePrefix ? { profilePrefix: o.profilePrefix } : {}),
  });
}

const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

export async function measureEngine(c: ThroughputCase, steps = DEFAULT_STEPS): Promise<EngineResult> {
  const runner = await createRunner(c);
  const batch = randomBatch(c);
  const stepMs: number[] = [];
  const stepCpu: number[] = [];
  const forwardMs: number[] = [];
  let loss = Number.NaN;
  try {
    // Steps and eval forwards alternate, so that a change of machine load hits both alike.
    for (let i = 0; i < WARMUP + steps; i++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      loss = (await runner.step(batch, 2e-5)).loss;
      const cpu = cpuMs(process.cpuUsage(c0));
      const t1 = performance.now();
      await runner.evaluate(batch);
      if (i < WARMUP) continue;
      stepCpu.push(cpu);
      stepMs.push(t1 - t0);
      forwardMs.push(performance.now() - t1);
    }
  } finally {
    await runner.dispose();
  }
  const step = median(stepMs);
  return {
    case: c.name,
    step_ms: step,
    forward_ms: median(forwardMs),
    step_cpu_ms: median(stepCpu),
    tokens_per_s: (c.batch * c.seq) / (step / 1000),
    rss_mb: await peakRssMb(),
    loss,
  };
}
