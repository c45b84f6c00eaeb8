import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tensorOf } from '../../engine/graph/types.js';
import { loadSeq2Seq, type Seq2SeqGenerationOptions } from '../../engine/inference/seq2seq-model.js';
import { savePretrained } from '../../engine/io/pretrained.js';
import { HfConfigReader } from '../../engine/models/hf-config.js';
import { initWeights } from '../../engine/models/init.js';
import { seq2seqFamilyOf } from '../../engine/models/registry.js';
import { seq2seqLmModel, shiftRight } from '../../engine/models/seq2seq.js';
import type { Batch } from '../../engine/step/batch.js';
import { rng } from '../../engine/util/random.js';
import { trainingRunner } from './engine-case.js';
import { special } from './serve-models.js';
import { type BenchSuite, median, peakRssMb, runCaseChild } from './suite.js';
import { runTorchScript, torchPeer, torchUnavailable } from './torch-ref.js';

/**
 * `--only seq2seq`: a T5-small-shaped encoder-decoder (6 + 6 blocks, d_model 512, 8 heads of 64,
 * d_ff 2048 ReLU, vocab 32128, tied head, dropout 0.1) on random ids, side by side with the same
 * work in plain PyTorch (bench/torch/t5_step.py):
 *
 * - t5-small-train: one full fine-tuning step (AdamW, clipping at 1.0), sources of 128 tokens,
 *   targets of 64, batch 16; tokens/s counts source and target tokens;
 * - t5-small-greedy: decoding 16 sources of 128 tokens, 64 new tokens each with the KV cache
 *   (the engine's generate; random weights never produce EOS early, both sides run 64 steps);
 * - t5-small-beam4: the same with 4 beams (transformers' beam search, early_stopping false).
 *
 * Each engine measurement runs in its own process.
 */
const CONFIG = {
  architectures: ['T5ForConditionalGeneration'],
  model_type: 't5',
  d_model: 512,
  d_kv: 64,
  d_ff: 2048,
  num_layers: 6,
  num_decoder_layers: 6,
  num_heads: 8,
  vocab_size: 32128,
  relative_attention_num_buckets: 32,
  relative_attention_max_distance: 128,
  dropout_rate: 0.1,
  feed_forward_proj: 'relu',
  tie_word_embeddings: true,
  layer_norm_epsilon: 1e-6,
  decoder_start_token_id: 0,
  pad_token_id: 0,
  eos_token_id: 1,
};
const SOURCE = 128;
const TARGET = 64;
const BATCH = 16;
const NEW_TOKENS = 64;
const BEAMS = 4;
const THREADS = 2;
const WARMUP = 1;
const DEFAULT_STEPS = 3;

type Mode = 'train' | 'greedy' | 'beam';
export const SEQ2SEQ_CASES: readonly { name: string; mode: Mode }[] = [
  { name: 't5-small-train', mode: 'train' },
  { name: 't5-small-greedy', mode: 'greedy' },
  { name: 't5-small-beam4', mode: 'beam' },
];

export interface Seq2SeqResult {
  case: string;
  step_ms: number;
  /** train: source + target tokens per second. */
  tokens_per_s?: number;
  /** decoding: sources decoded per second. */
  sentences_per_s?: number;
  /** decoding: the mean generated length (64 unless a row produced EOS). */
  mean_new_tokens?: number;
  rss_mb: number;
}

const cfg = () => new HfConfigReader(CONFIG, 'bench:t5-small/config.json');

function sourceRows(rand: () => number): number[][] {
  return Array.from({ length: BATCH }, () => [
    ...Array.from({ length: SOURCE - 1 }, () => 2 + Math.floor(rand() * (CONFIG.vocab_size - 2))),
    CONFIG.eos_token_id,
  ]);
}

function trainBatch(): Batch {
  const rand = rng(1);
  const sources = sourceRows(rand);
  const labels = Array.from({ length: BATCH }, () =>
    Array.from({ length: TARGET }, () => 2 + Math.floor(rand() * (CONFIG.vocab_size - 2))),
  );
  return {
    input_ids: tensorOf('int64', [BATCH, SOURCE], sources.flat()),
    attention_mask: tensorOf('int64', [BATCH, SOURCE], new Array<number>(BATCH * SOURCE).fill(1)),
    decoder_input_ids: tensorOf(
      'int64',
      [BATCH, TARGET],
      labels.flatMap((l) => shiftRight(l, CONFIG.decoder_start_token_id, CONFIG.pad_token_id)),
    ),
    labels: tensorOf('int64', [BATCH, TARGET], labels.flat()),
  };
}

async function measureTrain(name: string, steps: number): Promise<Seq2SeqResult> {
  const model = seq2seqLmModel(seq2seqFamilyOf(cfg()), { config: cfg() });
  const weights = initWeights(model.params, 0);
  const runner = await trainingRunner(model, weights, new Set(model.params.map((p) => p.name)), THREADS);
  const batch = trainBatch();
  const times: number[] = [];
  try {
    for (let i = 0; i < WARMUP + steps; i++) {
      const t0 = performance.now();
      await runner.step(batch, 1e-4);
      if (i >= WARMUP) times.push(performance.now() - t0);
    }
  } finally {
    await runner.dispose();
  }
  const step = median(times);
  return {
    case: name,
    step_ms: step,
    tokens_per_s: (BATCH * (SOURCE + TARGET)) / (step / 1000),
    rss_mb: await peakRssMb(),
  };
}

/**
 * A model folder of random weights that loadSeq2Seq opens: config.json, model.safetensors and a
 * word-level tokenizer.json covering the vocabulary (generate decodes what it produced).
 */
function writeBenchFolder(dir: string): void {
  const model = seq2seqLmModel(seq2seqFamilyOf(cfg()), { config: cfg() });
  savePretrained(dir, initWeights(model.params, 0), CONFIG);
  const vocab: Record<string, number> = { '<pad>': 0, '</s>': 1, '<unk>': 2 };
  for (let i = 3; i < CONFIG.vocab_size; i++) vocab[`t${i}`] = i;
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(0, '<pad>'), special(1, '</s>'), special(2, '<unk>')],
    normalizer: null,
    pre_tokenizer: { type: 'WhitespaceSplit' },
    post_processor: null,
    decoder: null,
    model: { type: 'WordLevel', vocab, unk_token: '<unk>' },
  };
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
}

async function measureDecoding(name: string, mode: 'greedy' | 'beam', steps: number): Promise<Seq2SeqResult> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-t5-'));
  try {
    writeBenchFolder(dir);
    const model = await loadSeq2Seq(dir, { device: 'cpu', threads: THREADS });
    const options: Seq2SeqGenerationOptions = {
      maxNewTokens: NEW_TOKENS,
      ...(mode === 'beam' ? { numBeams: BEAMS } : {}),
    };
    const sources = sourceRows(rng(2));
    const times: number[] = [];
    let generated = 0;
    try {
      for (let i = 0; i < WARMUP + steps; i++) {
        const t0 = performance.now();
        const out = await model.generate(sources, options);
        if (i < WARMUP) continue;
        times.push(performance.now() - t0);
        generated = out.reduce((n, g) => n + g.ids.length + (g.finishReason === 'stop' ? 1 : 0), 0) / out.length;
      }
    } finally {
      await model.dispose();
    }
    const step = median(times);
    return {
      case: name,
      step_ms: step,
      sentences_per_s: BATCH / (step / 1000),
      mean_new_tokens: generated,
      rss_mb: await peakRssMb(),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One engine measurement in this process (`--case <name>`). */
export async function measureSeq2Seq(name: string, steps = DEFAULT_STEPS): Promise<Seq2SeqResult> {
  const c = SEQ2SEQ_CASES.find((x) => x.name === name);
  if (!c) throw new Error(`no seq2seq case '${name}'`);
  if (c.mode === 'train') return measureTrain(name, steps);
  return measureDecoding(name, c.mode, steps);
}

interface TorchSeq2Seq {
  step_ms_median: number;
  tokens_per_s?: number;
  sentences_per_s?: number;
}

async function torchSeq2Seq(mode: Mode, steps: number): Promise<TorchSeq2Seq> {
  const args = {
    mode,
    layers: CONFIG.num_layers,
    'd-model': CONFIG.d_model,
    heads: CONFIG.num_heads,
    'd-kv': CONFIG.d_kv,
    'd-ff': CONFIG.d_ff,
    vocab: CONFIG.vocab_size,
    source: SOURCE,
    target: TARGET,
    batch: BATCH,
    steps,
    'warmup-steps': WARMUP,
    threads: THREADS,
    'new-tokens': NEW_TOKENS,
    beams: BEAMS,
    dropout: CONFIG.dropout_rate,
  };
  const { objects } = await runTorchScript(torchPeer('t5_step.py'), args, 'PyTorch T5 peer');
  return objects[objects.length - 1] as unknown as TorchSeq2Seq;
}

const fix = (x: number | null | undefined, d = 0) => (x === null || x === undefined ? '-' : x.toFixed(d));

export const seq2seqSuite: BenchSuite = {
  name: 'seq2seq',
  comparesWithTorch: true,
  summary: `T5-small-shaped (6+6 blocks, d_model 512, vocab 32128), ${THREADS} threads: a training step (batch ${BATCH}, ${SOURCE}->${TARGET} tokens) and decoding (${BATCH} sources, ${NEW_TOKENS} new tokens; greedy, ${BEAMS} beams) vs PyTorch`,
  onRequest: true,
  async run(log, args) {
    const steps = args.steps ?? DEFAULT_STEPS;
    const noTorch = args.noTorch ? '--no-torch' : torchUnavailable();
    if (noTorch) log(`PyTorch peer skipped (${noTorch}): torch fields are null`);
    log('case              unit           engine      torch  ratio  RSS MiB');
    const out: Record<string, unknown>[] = [];
    for (const c of SEQ2SEQ_CASES) {
      const engine = await runCaseChild<Seq2SeqResult>(c.name, ['--steps', String(steps)]);
      const torch = noTorch ? null : await torchSeq2Seq(c.mode, steps);
      const unit = c.mode === 'train' ? 'tokens/s' : 'sentences/s';
      const mine = (c.mode === 'train' ? engine.tokens_per_s : engine.sentences_per_s) ?? null;
      const theirs = (c.mode === 'train' ? torch?.tokens_per_s : torch?.sentences_per_s) ?? null;
      const ratio = mine !== null && theirs !== null ? mine / theirs : null;
      const d = c.mode === 'train' ? 0 : 2;
      log(
        `${c.name.padEnd(17)} ${unit.padEnd(11)} ${fix(mine, d).padStart(10)} ${fix(theirs, d).padStart(10)} ${fix(ratio, 2).padStart(6)}  ${fix(engine.rss_mb)}`,
      );
      out.push({
        suite: 'seq2seq',
        ...engine,
        torch_step_ms: torch?.step_ms_median ?? null,
        [`torch_${c.mode === 'train' ? 'tokens' : 'sentences'}_per_s`]: theirs,
        speedup: ratio,
      });
    }
    return out;
  },
};
