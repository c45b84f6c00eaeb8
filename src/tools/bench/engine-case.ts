import { tensorOf } from '../../engine/graph/types.js';
import { type EncoderConfig, encoderClassifier } from '../../engine/models/encoder-classifier.js';
import { HfConfigReader } from '../../engine/models/hf-config.js';
import { initWeights } from '../../engine/models/init.js';
import type { TrainableModel, Weights } from '../../engine/models/model.js';
import { xlnet } from '../../engine/models/xlnet/index.js';
import type { Batch } from '../../engine/step/batch.js';
import { sequenceClassificationModel } from '../../engine/tasks/encoder/task-models.js';
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
  /**
   * The model: BERT's sequence classifier (the default; shared/bench/torch_reference.py) or
   * XLNetForSequenceClassification (bench/torch/xlnet_reference.py).
   */
  family?: 'bert' | 'xlnet';
}

/** The reference's shapes (shared/bench/torch_reference.py defaults), and the wider second case. */
const BASE = { layers: 4, vocab: 30522, seq: 128, batch: 16, threads: 2 };
export const THROUGHPUT_CASES: readonly ThroughputCase[] = [
  { name: 'bert-h256', ...BASE, hidden: 256, heads: 4, intermediate: 1024 },
  { name: 'bert-h512', ...BASE, hidden: 512, heads: 8, intermediate: 2048 },
  // xlnet-base-cased's vocabulary (32000) at the bert-h256 shapes.
  { name: 'xlnet-h256', ...BASE, family: 'xlnet', vocab: 32000, hidden: 256, heads: 4, intermediate: 1024 },
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

/** XLNetForSequenceClassification at the case's shapes, from an in-memory XLNetConfig. */
function xlnetCaseModel(c: ThroughputCase): TrainableModel {
  const config = new HfConfigReader(
    {
      model_type: 'xlnet',
      vocab_size: c.vocab,
      d_model: c.hidden,
      n_layer: c.layers,
      n_head: c.heads,
      d_head: c.hidden / c.heads,
      d_inner: c.intermediate,
      ff_activation: 'gelu',
      dropout: 0.1,
      layer_norm_eps: 1e-12,
      initializer_range: 0.02,
    },
    `${c.name}/config.json`,
  );
  return sequenceClassificationModel({
    family: xlnet,
    config,
    numLabels: 2,
    problemType: 'single_label_classification',
  });
}

export function caseModel(c: ThroughputCase): { model: TrainableModel; weights: Weights } {
  if (c.family === 'xlnet') {
    const model = xlnetCaseModel(c);
    return { model, weights: initWeights(model.params, 0) };
  }
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
 * Random token ids and labels, each example padded to `seq` (id 0, attention mask 0; on the right,
 * or on the left for XLNet). By default every example is `c.seq` long, every position attended:
 * what the PyTorch reference trains on. BERT's batch carries position_ids, XLNet's token_type_ids.
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
  const xlnetCase = c.family === 'xlnet';
  lengths.forEach((len, b) => {
    const first = b * seq + (xlnetCase ? seq - len : 0);
    for (let t = 0; t < len; t++) {
      ids[first + t] = 1 + Math.floor(rand() * (c.vocab - 1));
      mask[first + t] = 1;
    }
  });
  const positions: Batch = xlnetCase
    ? { token_type_ids: tensorOf('int64', [B, seq], new Array<number>(B * seq).fill(0)) }
    : {
        position_ids: tensorOf(
          'int64',
          [B, seq],
          Array.from({ length: B * seq }, (_, i) => i % seq),
        ),
      };
  return {
    input_ids: tensorOf('int64', [B, seq], ids),
    attention_mask: tensorOf('int64', [B, seq], mask),
    ...positions,
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
  return fullTrainingRunner(model, weights, c.threads, o.profilePrefix);
}

/** The benches' full fine-tuning step: every parameter trained, AdamW (weight decay 0.01), clipping at 1, CPU. */
export function fullTrainingRunner(
  model: TrainableModel,
  weights: Weights,
  threads: number,
  profilePrefix?: string,
): Promise<StepRunner> {
  return StepRunner.create({
    model,
    weights,
    trainable: new Set(model.params.map((p) => p.name)),
    optimizer: { kind: 'adamw', weightDecay: 0.01 },
    maxGradNorm: 1,
    device: 'cpu',
    threads,
    ...(profilePrefix ? { profilePrefix } : {}),
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
