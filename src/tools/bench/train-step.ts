import {
  DEFAULT_STEPS,
  type EngineResult,
  REAL_SIZE_CASES,
  THROUGHPUT_CASES,
  type ThroughputCase,
  WARMUP,
} from './engine-case.js';
import { type BenchArgs, type BenchSuite, median, runCaseChild } from './suite.js';
import { runTorch, type TorchResult, torchUnavailable } from './torch-ref.js';

/**
 * Train-step throughput of the BERT-shaped classifier at the shapes of shared/bench/torch_reference.py,
 * and of XLNetForSequenceClassification at the same shapes (bench/torch/xlnet_reference.py), side by
 * side with those PyTorch peers when /usr/bin/python3 has torch. Each measurement runs
 * in its own child process (peak RSS per case and per implementation), engine and PyTorch
 * alternating round by round so that a busy machine slows both alike; figures are medians over
 * the rounds of each run's median step time.
 */
export const DEFAULT_ROUNDS = 2;

/** One engine measurement of a case, in its own Node process. */
function engineChild(c: ThroughputCase, steps: number): Promise<EngineResult> {
  return runCaseChild<EngineResult>(c.name, ['--steps', String(steps)]);
}

/** Column widths of the summary table. */
const WIDTHS = [7, 7, 5, 7, 7, 6, 5, 7, 7, 5];
const fmt = (x: number | null, digits = 0) => (x === null ? '-' : x.toFixed(digits));
const ratio = (a: number, b: number | null) => (b === null ? null : a / b);

/** A suite measuring `cases` as above, each against its PyTorch peer. */
function throughputSuite(
  name: string,
  summary: string,
  cases: readonly ThroughputCase[],
  onRequest: boolean,
): BenchSuite {
  return { name, summary, onRequest, comparesWithTorch: true, run: (log, args) => runCases(cases, log, args) };
}

export const trainStepSuite = throughputSuite(
  'throughput',
  'train step vs PyTorch: BERT and XLNet classifiers, 4 layers, seq 128, batch 16, vocab 30522 (XLNet 32000), 2 threads (engine/PyTorch ratios)',
  THROUGHPUT_CASES,
  false,
);

export const realSizeSuite = throughputSuite(
  'real-size',
  'train step vs PyTorch at real sizes, 12 layers, hidden 768, 2 threads: bert-base (seq 128, batch 8) in full and with LoRA r=8 on query/value, gpt2-small causal LM (seq 256, batch 4)',
  REAL_SIZE_CASES,
  true,
);

async function runCases(
  cases: readonly ThroughputCase[],
  log: (line: string) => void,
  args: BenchArgs,
): Promise<Record<string, unknown>[]> {
  const rounds = args.rounds ?? DEFAULT_ROUNDS;
  const steps = args.steps ?? DEFAULT_STEPS;
  const noTorch = args.noTorch ? '--no-torch' : torchUnavailable();
  log(
    noTorch
      ? `PyTorch reference skipped (${noTorch}): torch fields are null`
      : `PyTorch reference: ${rounds} round(s) alternating with the engine, ${steps} steps after ${WARMUP} warm-up`,
  );
  const out: Record<string, unknown>[] = [];
  const rows: string[] = [];
  for (const c of cases) {
    const engine: EngineResult[] = [];
    const torch: TorchResult[] = [];
    for (let r = 0; r < rounds; r++) {
      const e = await engineChild(c, steps);
      engine.push(e);
      let line = `${c.name} round ${r + 1}: engine step ${fmt(e.step_ms)} ms (cpu ${fmt(e.step_cpu_ms)} ms), forward ${fmt(e.forward_ms)} ms, RSS ${fmt(e.rss_mb)} MiB`;
      if (!noTorch) {
        const t = await runTorch(c, steps, WARMUP);
        torch.push(t);
        line += `; PyTorch ${t.torch} step ${fmt(t.step_ms)} ms, RSS ${fmt(t.rss_mb)} MiB; ratio ${fmt(t.step_ms / e.step_ms, 2)}`;
      }
      log(line);
    }
    const m = (xs: number[]) => (xs.length ? median(xs) : null);
    const eStep = m(engine.map((e) => e.step_ms)) as number;
    const eFwd = m(engine.map((e) => e.forward_ms)) as number;
    // Per run: its steps and forwards alternate, so their ratio is robust to the machine's load.
    const stepOverForward = median(engine.map((e) => e.step_ms / e.forward_ms));
    const eTok = (c.batch * c.seq) / (eStep / 1000);
    const eRss = m(engine.map((e) => e.rss_mb)) as number;
    const tStep = m(torch.map((t) => t.step_ms));
    const tTok = tStep === null ? null : (c.batch * c.seq) / (tStep / 1000);
    const tRss = m(torch.map((t) => t.rss_mb));
    const cells = [
      fmt(eTok),
      fmt(tTok),
      fmt(ratio(eTok, tTok), 2),
      fmt(eStep),
      fmt(tStep),
      fmt(eFwd),
      fmt(stepOverForward, 2),
      fmt(eRss),
      fmt(tRss),
      fmt(ratio(eRss, tRss), 2),
    ];
    rows.push([c.name.padEnd(14), ...cells.map((x, i) => x.padStart(WIDTHS[i] as number))].join('  '));
    const r2 = (x: number | null) => (x === null ? null : Number(x.toFixed(2)));
    out.push({
      case: c.name,
      engine_tokens_per_s: Math.round(eTok),
      torch_tokens_per_s: tTok === null ? null : Math.round(tTok),
      ratio: r2(ratio(eTok, tTok)),
      engine_rss_mb: Math.round(eRss),
      torch_rss_mb: tRss === null ? null : Math.round(tRss),
      step_over_forward: r2(stepOverForward),
      engine_step_ms: Math.round(eStep),
      torch_step_ms: tStep === null ? null : Math.round(tStep),
      engine_forward_ms: Math.round(eFwd),
      engine_step_cpu_ms: Math.round(median(engine.map((e) => e.step_cpu_ms))),
      rss_ratio: r2(ratio(eRss, tRss)),
      rounds,
      steps,
    });
  }
  log('');
  const header = (first: string, cells: string[]) =>
    [first.padEnd(14), ...cells.map((h, i) => h.padStart(WIDTHS[i] as number))].join('  ').trimEnd();
  log(header('case', ['engine', 'PyTorch', 'ratio', 'engine', 'PyTorch', 'eval', 'step/', 'engine', 'PyTorch', 'RSS']));
  log(header('', ['tok/s', 'tok/s', 'e/pt', 'ms/step', 'ms/step', 'fwd ms', 'fwd', 'RSS MiB', 'RSS MiB', 'e/pt']));
  for (const row of rows) log(row);
  return out;
}
