import { parseArgs } from 'node:util';
import { dataSuite } from './data.js';
import { DECODER_CASES, decoderLiveness, decodersSuite, measureDecoder } from './decoders.js';
import { distillSuite } from './distill.js';
import { findCase, measureEngine, REAL_SIZE_CASES, THROUGHPUT_CASES } from './engine-case.js';
import { estimateSuite } from './estimate.js';
import { MEMORY_CASE, measureMemory, memorySuite } from './memory.js';
import { ngramSuite } from './ngram.js';
import { paddingSuite } from './padding.js';
import { pretrainSuite } from './pretrain.js';
import { formatProfile, profileTrainStep } from './profile.js';
import { rooflineSuite } from './roofline.js';
import { scalingSuite } from './scaling.js';
import { measureSeq2Seq, SEQ2SEQ_CASES, seq2seqSuite } from './seq2seq.js';
import { serveSuite } from './serve.js';
import type { BenchArgs, BenchSuite } from './suite.js';
import { tokenizeCorpusSuite } from './tokenize-corpus.js';
import { tokenizerSuite } from './tokenizer.js';
import { torchBlasWarning, torchUnavailable } from './torch-ref.js';
import { realSizeSuite, trainStepSuite } from './train-step.js';

/**
 * `npm run bench [-- --only <suite>]`: speed and memory figures, printed, never asserted (targets
 * are read by people from the printed numbers). Each suite prints a table; the JSON lines of all
 * suites come last, one object per case.
 *
 * Options: `--rounds N` and `--steps N` (throughput), `--no-torch` (skip the PyTorch reference),
 * `--mb N` (the corpus the tokenize-corpus suite generates, default 200 MB),
 * `--case <name> [--json] [--profile]` (one engine throughput case in this process: what the
 * throughput, real-size, scaling and roofline suites spawn per measurement; names as in
 * engine-case.ts, `bert-h256-s<seq>-b<batch>` for a scaling shape; `--profile` adds ORT's per-op profile of its train step;
 * `--case memory-small` is the memory suite's child; `--quick`: the pretrain and distill suites' short runs;
 * `--case smollm2-full --liveness [--order ort|index] [--top N]` prints a decoder case's static peak
 * live set instead of measuring it, see liveness.ts).
 */
const SUITES: readonly BenchSuite[] = [
  trainStepSuite,
  realSizeSuite,
  rooflineSuite,
  scalingSuite,
  decodersSuite,
  paddingSuite,
  memorySuite,
  dataSuite,
  ngramSuite,
  serveSuite,
  tokenizerSuite,
  tokenizeCorpusSuite,
  pretrainSuite,
  distillSuite,
  estimateSuite,
  seq2seqSuite,
];

async function runCase(name: string, args: BenchArgs, json: boolean): Promise<void> {
  if (name === MEMORY_CASE.name) {
    process.stdout.write(`${JSON.stringify(await measureMemory())}\n`);
    return;
  }
  if (DECODER_CASES.some((d) => d.name === name)) {
    if (args.liveness) {
      for (const line of decoderLiveness(name, args.liveness.order, args.liveness.top))
        process.stdout.write(`${line}\n`);
      return;
    }
    process.stdout.write(`${JSON.stringify(await measureDecoder(name, args.steps))}\n`);
    return;
  }
  if (SEQ2SEQ_CASES.some((s) => s.name === name)) {
    process.stdout.write(`${JSON.stringify(await measureSeq2Seq(name, args.steps))}\n`);
    return;
  }
  const c = findCase(name);
  if (!c) {
    const names = [...THROUGHPUT_CASES, ...REAL_SIZE_CASES].map((x) => x.name).join(', ');
    throw new Error(`--case: no case '${name}' (cases: ${names}, bert-h256-s<seq>-b<batch>)`);
  }
  const result = await measureEngine(c, args.steps);
  if (!json) {
    process.stdout.write(
      `${c.name}: step ${result.step_ms.toFixed(0)} ms (cpu ${result.step_cpu_ms.toFixed(0)} ms), forward ${result.forward_ms.toFixed(0)} ms, ${result.tokens_per_s.toFixed(0)} tokens/s, peak RSS ${result.rss_mb.toFixed(0)} MiB\n`,
    );
  }
  if (args.profile) {
    for (const line of formatProfile(await profileTrainStep(c, args.steps ?? 5))) process.stdout.write(`${line}\n`);
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      case: { type: 'string' },
      json: { type: 'boolean' },
      rounds: { type: 'string' },
      steps: { type: 'string' },
      'no-torch': { type: 'boolean' },
      profile: { type: 'boolean' },
      mb: { type: 'string' },
      quick: { type: 'boolean' },
      liveness: { type: 'boolean' },
      order: { type: 'string' },
      top: { type: 'string' },
    },
    strict: true,
  });
  const int = (v: string | undefined, what: string): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${what}: expected a positive integer, got '${v}'`);
    return n;
  };
  const args: BenchArgs = {
    rounds: int(values.rounds, 'rounds'),
    steps: int(values.steps, 'steps'),
    noTorch: values['no-torch'],
    profile: values.profile,
    mb: int(values.mb, 'mb'),
    quick: values.quick,
  };
  if (values.liveness) {
    const order = values.order ?? 'ort';
    if (order !== 'ort' && order !== 'index') throw new Error(`--order: expected 'ort' or 'index', got '${order}'`);
    args.liveness = { order, top: int(values.top, 'top') ?? 20 };
  }
  if (values.case) return runCase(values.case, args, values.json === true);
  const selected = values.only ? SUITES.filter((s) => s.name === values.only) : SUITES.filter((s) => !s.onRequest);
  if (selected.length === 0) {
    throw new Error(`--only: no suite named '${values.only}' (suites: ${SUITES.map((s) => s.name).join(', ')})`);
  }
  const torchCompared = !args.noTorch && selected.some((s) => s.comparesWithTorch);
  const blas = !torchCompared || torchUnavailable() ? undefined : torchBlasWarning();
  if (blas) process.stdout.write(`warning: ${blas}\n`);
  const lines: Record<string, unknown>[] = [];
  for (const suite of selected) {
    process.stdout.write(`\n== ${suite.name}: ${suite.summary}\n`);
    lines.push(...(await suite.run((line) => process.stdout.write(`${line}\n`), args)));
  }
  process.stdout.write('\n');
  for (const line of lines) process.stdout.write(`${JSON.stringify(line)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
