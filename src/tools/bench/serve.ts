import { mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedLoop, type LoadResult, postJson, type ServerChild, startServe } from './http-load.js';
import { CLASSIFIER, classifierText, GPT2, writeBenchClassifier, writeBenchGpt2 } from './serve-models.js';
import type { BenchSuite } from './suite.js';
import { median } from './suite.js';
import { runTorchScript, torchPeer, torchScript, torchUnavailable } from './torch-ref.js';

/**
 * `--only serve`: `finetune serve` over HTTP on 127.0.0.1. A BERT h256 classifier (random
 * weights, sequence 128) in float32 and with --quantize int8: requests/s and p50/p99 latency of
 * POST /predict at concurrency 1, 8 and 32 (closed loop, clients in this process, the server a
 * child process), beside the PyTorch peer (bench/torch/serve_reference.py: the same model and
 * batch policy in torch.inference_mode, without HTTP). Then greedy decoding of a GPT-2-small-shaped
 * LM through POST /v1/completions: generated tokens per second.
 */
const CONCURRENCY = [1, 8, 32];
const SEQ = 128;
const THREADS = 2;
const MAX_BATCH = 16;
const MAX_WAIT_MS = 5;
const SECONDS = 8;
const WARMUP_S = 2;
const DECODE = { promptBytes: 32, maxTokens: 64, runs: 3 };
const TEXTS = Array.from({ length: 64 }, (_, i) => classifierText(SEQ - 2, i));
const SERVE_ARGS = [
  '--threads',
  String(THREADS),
  '--max-batch',
  String(MAX_BATCH),
  '--max-wait-ms',
  String(MAX_WAIT_MS),
];

interface TorchServe extends LoadResult {
  torch: string;
}

async function torchServe(concurrency: number): Promise<TorchServe> {
  const args = {
    reference: torchScript(),
    concurrency,
    seconds: SECONDS,
    'warmup-seconds': WARMUP_S,
    threads: THREADS,
    'max-batch': MAX_BATCH,
    'max-wait-ms': MAX_WAIT_MS,
    seq: SEQ,
    ...CLASSIFIER,
  };
  const { objects } = await runTorchScript(torchPeer('serve_reference.py'), args, 'PyTorch serve peer');
  return objects[0] as unknown as TorchServe;
}

const load = (server: ServerChild, concurrency: number) =>
  closedLoop(`${server.url}/predict`, (i) => ({ inputs: TEXTS[i % TEXTS.length] }), {
    concurrency,
    seconds: SECONDS,
    warmupS: WARMUP_S,
  });

/** Greedy /v1/completions of DECODE.maxTokens tokens: completion tokens per second, median of runs after one warm-up. */
async function decodeTokensPerS(model: string): Promise<{ tokens_per_s: number; completion_tokens: number }> {
  const server = await startServe(['--model', model, '--threads', String(THREADS)]);
  const agent = new Agent({ keepAlive: true });
  try {
    const prompt = 'The quick brown fox jumps over t'.slice(0, DECODE.promptBytes);
    const rates: number[] = [];
    let tokens = 0;
    for (let run = 0; run <= DECODE.runs; run++) {
      const t0 = performance.now();
      const r = await postJson(
        `${server.url}/v1/completions`,
        { model: 'gpt2', prompt, max_tokens: DECODE.maxTokens, temperature: 0 },
        agent,
      );
      const seconds = (performance.now() - t0) / 1000;
      if (r.status !== 200) throw new Error(`/v1/completions: status ${r.status}: ${JSON.stringify(r.body)}`);
      tokens = (r.body as { usage: { completion_tokens: number } }).usage.completion_tokens;
      if (run > 0) rates.push(tokens / seconds);
    }
    return { tokens_per_s: median(rates), completion_tokens: tokens };
  } finally {
    agent.destroy();
    await server.stop();
  }
}

const fix = (x: number | null | undefined, d = 1) => (x === null || x === undefined ? '-' : x.toFixed(d));

export const serveSuite: BenchSuite = {
  name: 'serve',
  comparesWithTorch: true,
  summary: `finetune serve over HTTP: BERT h256 classifier (seq ${SEQ}, ${THREADS} threads, max-batch ${MAX_BATCH}, max-wait ${MAX_WAIT_MS} ms) float32 vs int8 vs PyTorch; GPT-2-small greedy decode`,
  async run(log, args) {
    const dir = mkdtempSync(join(tmpdir(), 'bench-serve-'));
    const out: Record<string, unknown>[] = [];
    try {
      log(
        `load average at start: ${loadavg()
          .map((x) => x.toFixed(1))
          .join(' ')}`,
      );
      const classifier = writeBenchClassifier(join(dir, 'classifier'));
      const noTorch = args.noTorch ? '--no-torch' : torchUnavailable();
      if (noTorch) log(`PyTorch peer skipped (${noTorch}): torch fields are null`);
      // Both servers up at once and measured in turn at each concurrency (then the peer), so a
      // change in the machine's load hits the three alike rather than one of them.
      const servers = await Promise.all([
        startServe(['--model', classifier, ...SERVE_ARGS]),
        startServe(['--model', classifier, ...SERVE_ARGS, '--quantize', 'int8']),
      ]);
      const [f32Server, int8Server] = servers as [ServerChild, ServerChild];
      log(
        'concurrency  f32 req/s  p50/p99 ms      int8 req/s  p50/p99 ms      torch req/s  p50/p99 ms      int8/f32  f32/torch  load',
      );
      try {
        for (const c of CONCURRENCY) {
          const f = await load(f32Server, c);
          const q = await load(int8Server, c);
          const t = noTorch ? null : await torchServe(c);
          const lat = (r: LoadResult | null) => `${fix(r?.p50_ms, 0)}/${fix(r?.p99_ms, 0)}`.padEnd(14);
          const vsTorch = t?.requests_per_s ? f.requests_per_s / t.requests_per_s : null;
          const loadAvg = loadavg()[0] as number;
          log(
            `${String(c).padStart(11)}  ${fix(f.requests_per_s).padStart(9)}  ${lat(f)}  ${fix(q.requests_per_s).padStart(10)}  ${lat(q)}  ${fix(t?.requests_per_s).padStart(11)}  ${lat(t)}  ${fix(q.requests_per_s / f.requests_per_s, 2).padStart(8)}  ${fix(vsTorch, 2).padStart(9)}  ${fix(loadAvg)}`,
          );
          out.push({
            suite: 'serve',
            case: `bert-h256-c${c}`,
            concurrency: c,
            float32: f,
            int8: q,
            torch: t,
            int8_over_float32: q.requests_per_s / f.requests_per_s,
            float32_over_torch: vsTorch,
            int8_over_torch: t?.requests_per_s ? q.requests_per_s / t.requests_per_s : null,
            load_average: loadAvg,
          });
        }
      } finally {
        await Promise.all(servers.map((x) => x.stop()));
      }
      const gpt2 = writeBenchGpt2(join(dir, 'gpt2'));
      const decode = await decodeTokensPerS(gpt2);
      log(
        `gpt2 (${GPT2.layers} layers, ${GPT2.hidden} hidden, vocab ${GPT2.vocab}) greedy: ${fix(decode.tokens_per_s)} tokens/s (${decode.completion_tokens} tokens per completion, ${DECODE.promptBytes}-token prompt)`,
      );
      out.push({ suite: 'serve', case: 'gpt2-greedy-decode', ...decode, threads: THREADS });
      log(
        `load average at end: ${loadavg()
          .map((x) => x.toFixed(1))
          .join(' ')}`,
      );
      return out;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
