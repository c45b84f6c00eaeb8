import { tensorOf } from '../../engine/graph/types.js';
import { Lora } from '../../engine/methods/lora.js';
import { bert } from '../../engine/models/bert/index.js';
import { causalLmModel } from '../../engine/models/decoder.js';
import { type EncoderConfig, encoderClassifier } from '../../engine/models/encoder-classifier.js';
import { gpt2 } from '../../engine/models/gpt2/index.js';
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
   * The model: BERT's sequence classifier (the default; shared/bench/torch_reference.py),
   * XLNetForSequenceClassification (bench/torch/xlnet_reference.py) or GPT2LMHeadModel, a causal
   * LM on its own next tokens (bench/torch/gpt2_reference.py).
   */
  family?: 'bert' | 'xlnet' | 'gpt2';
  /**
   * LoRA on the family's default targets (BERT: query and value), everything else frozen but the
   * classifier head, as PEFT's task_type SEQ_CLS trains it; BertForSequenceClassification through
   * the engine's BERT family (bench/torch/bert_lora_reference.py). Omitted: full fine-tuning.
   */
  lora?: { r: number; alpha: number };
}

/** The reference's shapes (shared/bench/torch_reference.py defaults), and the wider second case. */
const BASE = { layers: 4, vocab: 30522, seq: 128, batch: 16, threads: 2 };
export const THROUGHPUT_CASES: readonly ThroughputCase[] = [
  { name: 'bert-h256', ...BASE, hidden: 256, heads: 4, intermediate: 1024 },
  { name: 'bert-h512', ...BASE, hidden: 512, heads: 8, intermediate: 2048 },
  // xlnet-base-cased's vocabulary (32000) at the bert-h256 shapes.
  { name: 'xlnet-h256', ...BASE, family: 'xlnet', vocab: 32000, hidden: 256, heads: 4, intermediate: 1024 },
];

/** Real sizes (`--only real-size`): bert-base-uncased and gpt2 (small), 12 layers, hidden 768. */
const BERT_BASE = {
  layers: 12,
  hidden: 768,
  heads: 12,
  intermediate: 3072,
  vocab: 30522,
  seq: 128,
  batch: 8,
  threads: 2,
};
export const REAL_SIZE_CASES: readonly ThroughputCase[] = [
  { name: 'bert-base', ...BERT_BASE },
  { name: 'bert-base-lora', ...BERT_BASE, lora: { r: 8, alpha: 16 } },
  {
    name: 'gpt2-small',
    family: 'gpt2',
    layers: 12,
    hidden: 768,
    heads: 12,
    intermediate: 3072,
    vocab: 50257,
    seq: 256,
    batch: 4,
    threads: 2,
  },
];

/**
 * `--only scaling`: the bert-h256 case at every sequence × batch, named `bert-h256-s<seq>-b<batch>`
 * so that a child process finds its shape from the name.
 */
export const SCALING_SEQS = [64, 128, 256, 512] as const;
export const SCALING_BATCHES = [4, 16, 64] as const;
export function scalingCase(seq: number, batch: number): ThroughputCase {
  const base = THROUGHPUT_CASES[0] as ThroughputCase;
  return { ...base, name: `${base.name}-s${seq}-b${batch}`, seq, batch };
}

/** The case of a name: a throughput or real-size case, or a scaling one. */
export function findCase(name: string): ThroughputCase | undefined {
  const known = [...THROUGHPUT_CASES, ...REAL_SIZE_CASES].find((c) => c.name === name);
  if (known) return known;
  const m = /^bert-h256-s(\d+)-b(\d+)$/.exec(name);
  return m ? scalingCase(Number(m[1]), Number(m[2])) : undefined;
}

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

/** GPT2LMHeadModel at the case's shapes (n_positions 1024, GELU-tanh, dropout 0.1 as gpt2's config). */
function gpt2CaseModel(c: ThroughputCase): TrainableModel {
  const config = new HfConfigReader(
    {
      model_type: 'gpt2',
      vocab_size: c.vocab,
      n_embd: c.hidden,
      n_layer: c.layers,
      n_head: c.heads,
      n_inner: c.intermediate,
      n_positions: 1024,
      activation_function: 'gelu_new',
      resid_pdrop: 0.1,
      embd_pdrop: 0.1,
      attn_pdrop: 0.1,
      layer_norm_epsilon: 1e-5,
      initializer_range: 0.02,
      tie_word_embeddings: true,
    },
    `${c.name}/config.json`,
  );
  return causalLmModel(gpt2, { config });
}

/**
 * BertForSequenceClassification through the engine's BERT family with LoRA adapters on its
 * default targets (query, value): the adapters and the pooler-classifier head trained.
 */
function bertLoraCaseModel(c: ThroughputCase, lora: { r: number; alpha: number }): CaseSetup {
  const config = new HfConfigReader(
    {
      model_type: 'bert',
      vocab_size: c.vocab,
      hidden_size: c.hidden,
      num_hidden_layers: c.layers,
      num_attention_heads: c.heads,
      intermediate_size: c.intermediate,
      max_position_embeddings: 512,
      type_vocab_size: 2,
      hidden_act: 'gelu',
      hidden_dropout_prob: 0.1,
      attention_probs_dropout_prob: 0.1,
      layer_norm_eps: 1e-12,
      initializer_range: 0.02,
    },
    `${c.name}/config.json`,
  );
  const adapters = new Lora({ ...lora, dropout: 0.1, targetModules: [...bert.loraTargets], useRslora: false });
  const base = sequenceClassificationModel({
    family: bert,
    config,
    numLabels: 2,
    problemType: 'single_label_classification',
    adapters: adapters.hook,
  });
  // The head (pooler and classifier) is trained in full, as PEFT's modules_to_save does for SEQ_CLS.
  const head = new Set(
    base.params
      .filter((p) => !p.name.startsWith('bert.encoder') && !p.name.startsWith('bert.embeddings'))
      .map((p) => p.name),
  );
  adapters.plan(base, head);
  const weights = new Map([...initWeights(base.params, 0), ...adapters.initWeights(1)]);
  const trainable = new Set([...head, ...adapters.specs().map((p) => p.name)]);
  return { model: adapters.wrap(base), weights, trainable };
}

export interface CaseSetup {
  model: TrainableModel;
  weights: Weights;
  /** The parameters the case trains (every one but under LoRA). */
  trainable: Set<string>;
}

export function caseSetup(c: ThroughputCase): CaseSetup {
  if (c.lora) {
    if (c.family && c.family !== 'bert') throw new Error(`case ${c.name}: LoRA cases are BERT's only`);
    return bertLoraCaseModel(c, c.lora);
  }
  const model = c.family === 'xlnet' ? xlnetCaseModel(c) : c.family === 'gpt2' ? gpt2CaseModel(c) : bertCaseModel(c);
  return { model, weights: initWeights(model.params, 0), trainable: new Set(model.params.map((p) => p.name)) };
}

function bertCaseModel(c: ThroughputCase): TrainableModel {
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
  return encoderClassifier(cfg);
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
  const tokenTypes = { token_type_ids: tensorOf('int64', [B, seq], new Array<number>(B * seq).fill(0)) };
  // The engine's own BERT classifier takes position_ids; the BERT family's (LoRA case) token types.
  const positions: Batch = xlnetCase
    ? tokenTypes
    : {
        ...tokenTypes,
        position_ids: tensorOf(
          'int64',
          [B, seq],
          Array.from({ length: B * seq }, (_, i) => i % seq),
        ),
      };
  // A causal LM learns its own next tokens, shifted here as the engine's collator does (labels[t] =
  // ids[t + 1]; -100, ignored, at each example's last position and on padding).
  const labels =
    c.family === 'gpt2'
      ? tensorOf(
          'int64',
          [B, seq],
          ids.map((_, i) => ((i + 1) % seq !== 0 && mask[i] && mask[i + 1] ? (ids[i + 1] as number) : -100)),
        )
      : tensorOf(
          'int64',
          [B],
          lengths.map(() => Math.floor(rand() * 2)),
        );
  return {
    input_ids: tensorOf('int64', [B, seq], ids),
    attention_mask: tensorOf('int64', [B, seq], mask),
    ...positions,
    labels,
  };
}

/** The optimizer settings of every case. */
export const CASE_OPTIMIZER = { optimizer: { kind: 'adamw', weightDecay: 0.01 }, maxGradNorm: 1 } as const;

/** A runner training the case's parameters with AdamW; `profilePrefix` as in StepRunnerOptions. */
export async function createRunner(c: ThroughputCase, o: { profilePrefix?: string } = {}): Promise<StepRunner> {
  const { model, weights, trainable } = caseSetup(c);
  return trainingRunner(model, weights, trainable, c.threads, o.profilePrefix);
}

/** The benches' training step: the `trainable` parameters with CASE_OPTIMIZER, on the CPU. */
export function trainingRunner(
  model: TrainableModel,
  weights: Weights,
  trainable: ReadonlySet<string>,
  threads: number,
  profilePrefix?: string,
): Promise<StepRunner> {
  return StepRunner.create({
    model,
    weights,
    trainable,
    ...CASE_OPTIMIZER,
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
