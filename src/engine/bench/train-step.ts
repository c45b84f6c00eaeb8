import { tensorOf } from '../graph/types.js';
import { type EncoderConfig, encoderClassifier } from '../models/encoder-classifier.js';
import { initWeights } from '../models/init.js';
import { StepRunner } from '../train/step-runner.js';
import { rng } from '../util/random.js';
import { type BenchSuite, median, peakRssMb } from './suite.js';

/**
 * Train-step throughput of the BERT-shaped classifier at the reference shapes of
 * shared/bench/torch_reference.py (the PyTorch comparison is the throughput issue's work).
 */
interface Case {
  name: string;
  hidden: number;
  heads: number;
  intermediate: number;
}

const CASES: readonly Case[] = [{ name: 'bert-h256', hidden: 256, heads: 4, intermediate: 1024 }];
const LAYERS = 4;
const VOCAB = 30522;
const SEQ = 128;
const BATCH = 16;
const THREADS = 2;
const WARMUP = 3;
const STEPS = 10;

async function runCase(c: Case, log: (line: string) => void): Promise<Record<string, unknown>> {
  const cfg: EncoderConfig = {
    vocabSize: VOCAB,
    hidden: c.hidden,
    layers: LAYERS,
    heads: c.heads,
    intermediate: c.intermediate,
    maxPositions: 512,
    numLabels: 2,
    dropout: 0.1,
    layerNormEps: 1e-12,
    initializerRange: 0.02,
  };
  const model = encoderClassifier(cfg);
  const runner = await StepRunner.create({
    model,
    weights: initWeights(model.params, 0),
    trainable: new Set(model.params.map((p) => p.name)),
    optimizer: { kind: 'adamw', weightDecay: 0.01 },
    maxGradNorm: 1,
    device: 'cpu',
    threads: THREADS,
  });
  const rand = rng(1);
  const n = BATCH * SEQ;
  const batch = {
    input_ids: tensorOf(
      'int64',
      [BATCH, SEQ],
      Array.from({ length: n }, () => Math.floor(rand() * VOCAB)),
    ),
    attention_mask: tensorOf('int64', [BATCH, SEQ], new Array(n).fill(1)),
    position_ids: tensorOf(
      'int64',
      [BATCH, SEQ],
      Array.from({ length: n }, (_, i) => i % SEQ),
    ),
    labels: tensorOf(
      'int64',
      [BATCH],
      Array.from({ length: BATCH }, () => Math.floor(rand() * 2)),
    ),
  };
  const time = async (fn: () => Promise<unknown>) => {
    const t0 = performance.now();
    await fn();
    return performance.now() - t0;
  };
  const stepMs: number[] = [];
  const forwardMs: number[] = [];
  try {
    for (let i = 0; i < WARMUP + STEPS; i++) {
      const ms = await time(() => runner.step(batch, 2e-5));
      if (i >= WARMUP) stepMs.push(ms);
    }
    for (let i = 0; i < WARMUP + STEPS; i++) {
      const ms = await time(() => runner.evaluate(batch));
      if (i >= WARMUP) forwardMs.push(ms);
    }
  } finally {
    await runner.dispose();
  }
  const step = median(stepMs);
  const forward = median(forwardMs);
  const rss = await peakRssMb();
  const tokensPerSec = (BATCH * SEQ) / (step / 1000);
  log(
    `${c.name.padEnd(10)} step ${step.toFixed(0)} ms  forward ${forward.toFixed(0)} ms  ${tokensPerSec.toFixed(0)} tokens/s  peak RSS ${rss.toFixed(0)} MiB`,
  );
  return {
    case: c.name,
    engine_tokens_per_s: Math.round(tokensPerSec),
    engine_step_ms: Math.round(step),
    engine_rss_mb: Math.round(rss),
    step_over_forward: Number((step / forward).toFixed(2)),
  };
}

export const trainStepSuite: BenchSuite = {
  name: 'throughput',
  summary: `train step, ${LAYERS} layers, seq ${SEQ}, batch ${BATCH}, ${THREADS} threads`,
  async run(log) {
    const out: Record<string, unknown>[] = [];
    for (const c of CASES) out.push(await runCase(c, log));
    return out;
  },
};
