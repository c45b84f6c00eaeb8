import { spawn } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigText } from '../../shared/config-tree.js';
import { type EstimateRecord, epochSeconds } from '../../shared/cost-estimate.js';
import { estimateForConfig } from '../../shared/node/model-memory.js';
import type { RunEvent } from '../../shared/run-directory.js';
import { classifierText, writeBenchClassifier } from './serve-models.js';
import type { BenchSuite } from './suite.js';
import { repoRoot } from './torch-ref.js';

/**
 * `--only estimate`: the cost estimate against what a run really takes, on two models: the bundled
 * example (examples/sentiment: a tiny BERT, 400 reviews) and the h256 BERT of the serve suite
 * (4 layers, vocab 30522) on 512 generated rows of 100 words. For each: the memory formula
 * (src/shared/memory-estimate.ts), `finetune estimate`'s peak RSS and time per epoch, and
 * `finetune train`'s peak RSS (VmHWM of the child, polled) and time per epoch (first to last step
 * event of epoch 1, evaluation excluded). One thread, CPU. Printed, never asserted.
 */
interface Case {
  name: string;
  /** Writes the model, the data and `<name>.finetune.yaml` into `dir`. */
  write(dir: string): void;
}

const ONE_EPOCH = 'epochs: 1';

const CASES: readonly Case[] = [
  {
    name: 'example-tiny-bert',
    write(dir) {
      cpSync(join(repoRoot(), 'examples', 'sentiment'), dir, { recursive: true });
      const text = readFileSync(join(dir, 'sentiment.finetune.yaml'), 'utf8').replace(/epochs: \d+/, ONE_EPOCH);
      writeFileSync(join(dir, 'example-tiny-bert.finetune.yaml'), text);
    },
  },
  {
    name: 'bert-h256',
    write(dir) {
      writeBenchClassifier(dir);
      const rows = Array.from({ length: 512 }, (_, i) =>
        JSON.stringify({ text: classifierText(100, i * 7), label: i % 2 ? 'POS' : 'NEG' }),
      );
      writeFileSync(join(dir, 'train.jsonl'), `${rows.join('\n')}\n`);
      writeFileSync(
        join(dir, 'bert-h256.finetune.yaml'),
        `model: ./base
task: text-classification
data: {train: train.jsonl, max_length: 128}
training: {${ONE_EPOCH}, batch_size: 16, learning_rate: 3.0e-5}
eval: {metrics: []}
device: cpu
`,
      );
    },
  },
];

/** `node dist/cli.js ...args` in `cwd` with its peak RSS (VmHWM, polled every 50 ms) and stdout. */
function cliPeak(args: readonly string[], cwd: string): Promise<{ stdout: string; peakBytes: number }> {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, [join(repoRoot(), 'dist', 'cli.js'), ...args], { cwd });
    let stdout = '';
    let stderr = '';
    let peakKb = 0;
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakKb = Math.max(peakKb, Number(m[1]));
      } catch {} // exited between polls
    }, 50);
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('error', fail);
    child.on('close', (code) => {
      clearInterval(poll);
      if (code === 0) ok({ stdout, peakBytes: peakKb * 1024 });
      else fail(new Error(`finetune ${args.join(' ')} exited with ${code}: ${stderr.trim()}`));
    });
  });
}

/** Seconds from the first to the last step event of epoch 1, scaled to all its steps. */
function trainEpochSeconds(runDir: string): number {
  const steps = readFileSync(join(runDir, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as RunEvent)
    .filter((e): e is Extract<RunEvent, { type: 'step' }> => e.type === 'step');
  const first = steps[0];
  const last = steps.at(-1);
  if (!first || !last || steps.length < 2) return Number.NaN;
  // The first step's own time is not in the span: scale the span over n - 1 steps to n.
  return ((last.t - first.t) / 1000) * (steps.length / (steps.length - 1));
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

export const estimateSuite: BenchSuite = {
  name: 'estimate',
  onRequest: true,
  summary: 'the cost estimate (formula, finetune estimate) against finetune train: peak memory and time per epoch',
  async run(log) {
    const results: Record<string, unknown>[] = [];
    log('case               formula   estimate   train      epoch: estimate   train');
    for (const c of CASES) {
      const dir = await mkdtemp(join(tmpdir(), `bench-estimate-${c.name}-`));
      try {
        c.write(dir);
        const config = `${c.name}.finetune.yaml`;
        const formula = await estimateForConfig(parseConfigText(readFileSync(join(dir, config), 'utf8'), 'yaml'), dir);
        const est = await cliPeak(['estimate', config, '--format', 'json', '--threads', '1', '--no-cache'], dir);
        const record = JSON.parse(est.stdout) as EstimateRecord;
        const predicted = epochSeconds(
          record.stepSeconds,
          record.trainRows,
          record.batchSize,
          record.gradientAccumulationSteps,
        );
        const train = await cliPeak(['train', config, '--run-dir', 'run', '--threads', '1'], dir);
        const actual = trainEpochSeconds(join(dir, 'run'));
        log(
          `${c.name.padEnd(18)} ${mib(formula?.total ?? Number.NaN).padStart(8)} ${mib(record.peakRssBytes).padStart(10)} ${mib(train.peakBytes).padStart(8)}` +
            `   ${predicted.toFixed(1).padStart(8)} s ${actual.toFixed(1).padStart(7)} s`,
        );
        results.push({
          case: `estimate-${c.name}`,
          formula_mib: Math.round((formula?.total ?? Number.NaN) / 2 ** 20),
          estimate_peak_mib: Math.round(record.peakRssBytes / 2 ** 20),
          train_peak_mib: Math.round(train.peakBytes / 2 ** 20),
          estimate_epoch_s: Number(predicted.toFixed(2)),
          train_epoch_s: Number(actual.toFixed(2)),
          step_s: Number(record.stepSeconds.toFixed(3)),
        });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    return results;
  },
};
