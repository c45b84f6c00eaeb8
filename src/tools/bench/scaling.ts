import { freemem } from 'node:os';
import { ortBackend } from '../../engine/runtime.js';
import { buildTrainStep } from '../../engine/step/step-graph.js';
import {
  CASE_OPTIMIZER,
  caseSetup,
  DEFAULT_STEPS,
  type EngineResult,
  SCALING_BATCHES,
  SCALING_SEQS,
  scalingCase,
  type ThroughputCase,
} from './engine-case.js';
import { liveness } from './liveness.js';
import { type BenchSuite, runCaseChild } from './suite.js';

/**
 * `--only scaling`: tokens/s and peak RSS of the bert-h256 train step at every sequence length ×
 * batch size, each in its own process, so that the growth (attention's T² included) is a table.
 * A combination whose static peak live set (liveness.ts: the floor under ORT's arena) exceeds half
 * of the memory free when the suite starts is skipped and says so, rather than swapping the machine.
 */
function staticPeakMb(c: ThroughputCase): number {
  const step = buildTrainStep({
    ...caseSetup(c),
    ...CASE_OPTIMIZER,
    frozenAsInputs: true,
    placeOptimizer: (p, o) => ortBackend.placeOptimizer(p, o),
  });
  return liveness(step.graph, { batch: c.batch, seq: c.seq }).peakBytes / 2 ** 20;
}

export const scalingSuite: BenchSuite = {
  name: 'scaling',
  onRequest: true,
  summary: `bert-h256 train step at seq ${SCALING_SEQS.join('/')} × batch ${SCALING_BATCHES.join('/')}: tokens/s and peak RSS, 2 threads`,
  async run(log, args) {
    const steps = args.steps ?? DEFAULT_STEPS;
    const budgetMb = freemem() / 2 ** 20 / 2;
    log(`skipping combinations whose static peak live set exceeds ${budgetMb.toFixed(0)} MiB (half the free memory)`);
    const out: Record<string, unknown>[] = [];
    const rows: string[] = [];
    for (const seq of SCALING_SEQS) {
      for (const batch of SCALING_BATCHES) {
        const c = scalingCase(seq, batch);
        const peak = staticPeakMb(c);
        const row = { case: c.name, seq, batch, static_peak_mb: Math.round(peak), steps };
        if (peak > budgetMb) {
          log(`${c.name}: skipped, static peak live set ${peak.toFixed(0)} MiB > ${budgetMb.toFixed(0)} MiB`);
          rows.push(
            `${String(seq).padStart(5)}  ${String(batch).padStart(5)}  skipped (static peak ${peak.toFixed(0)} MiB)`,
          );
          out.push({ ...row, skipped: 'memory' });
          continue;
        }
        const e = await runCaseChild<EngineResult>(c.name, ['--steps', String(steps)]);
        log(
          `${c.name}: step ${e.step_ms.toFixed(0)} ms, ${e.tokens_per_s.toFixed(0)} tokens/s, RSS ${e.rss_mb.toFixed(0)} MiB`,
        );
        rows.push(
          [seq, batch, e.tokens_per_s.toFixed(0), e.step_ms.toFixed(0), e.rss_mb.toFixed(0), peak.toFixed(0)]
            .map((x) => String(x).padStart(x === seq || x === batch ? 5 : 8))
            .join('  '),
        );
        out.push({
          ...row,
          tokens_per_s: Math.round(e.tokens_per_s),
          step_ms: Math.round(e.step_ms),
          forward_ms: Math.round(e.forward_ms),
          rss_mb: Math.round(e.rss_mb),
        });
      }
    }
    log('');
    log(['  seq', 'batch', '   tok/s', ' ms/step', 'RSS MiB', 'static peak MiB'].join('  '));
    for (const r of rows) log(r);
    return out;
  },
};
