import { type ChildProcess, spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { repoRoot } from './torch-ref.js';

/**
 * The HTTP side of `--only serve`: a `finetune serve` child process (dist/cli.js, the product's
 * own command line) and a closed-loop load generator in this process: `concurrency` clients,
 * each sending its next request when the previous answer arrives, over keep-alive connections.
 */
export interface LoadResult {
  concurrency: number;
  requests: number;
  requests_per_s: number;
  p50_ms: number;
  p99_ms: number;
}

export interface ServerChild {
  url: string;
  stop(): Promise<void>;
}

/** Starts `finetune serve --port 0 ...args` and resolves once it prints its listening line. */
export function startServe(args: readonly string[]): Promise<ServerChild> {
  const child: ChildProcess = spawn(
    process.execPath,
    [join(repoRoot(), 'dist', 'cli.js'), 'serve', '--port', '0', ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((ok, fail) => {
    child.once('exit', (code) => fail(new Error(`finetune serve exited with ${code} before listening:\n${stderr}`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      const event = JSON.parse(line) as { event?: string; url?: string };
      if (event.event !== 'listening' || !event.url) return;
      child.removeAllListeners('exit');
      ok({
        url: event.url,
        stop: () =>
          new Promise<void>((done) => {
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}

/** POST `body` as JSON; resolves with the status and the parsed reply. */
export function postJson(url: string, body: unknown, agent: Agent): Promise<{ status: number; body: unknown }> {
  const payload = Buffer.from(JSON.stringify(body));
  return new Promise((ok, fail) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'Content-Type': 'application/json', 'Content-Length': payload.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => ok({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) }));
        res.on('error', fail);
      },
    );
    req.on('error', fail);
    req.end(payload);
  });
}

/** The p-th percentile (nearest rank) of the values. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

/**
 * `concurrency` clients POSTing `bodyOf(i)` (request i) to `url` for `warmupS` + `seconds`;
 * the answers that arrive in the last `seconds` count (requests/s) and give the latencies. A non-200 answer is an error: a benchmark of
 * failures would be meaningless.
 */
export async function closedLoop(
  url: string,
  bodyOf: (i: number) => unknown,
  o: { concurrency: number; seconds: number; warmupS: number },
): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: o.concurrency });
  const start = performance.now();
  const measureFrom = start + o.warmupS * 1000;
  const end = measureFrom + o.seconds * 1000;
  const latencies: number[] = [];
  let next = 0;
  const client = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      const r = await postJson(url, bodyOf(next++), agent);
      if (r.status !== 200) throw new Error(`${url}: status ${r.status}: ${JSON.stringify(r.body)}`);
      const t1 = performance.now();
      // Steady state: every answer that arrives inside the measured window counts, whenever sent.
      if (t1 >= measureFrom && t1 <= end) latencies.push(t1 - t0);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, client));
  agent.destroy();
  return {
    concurrency: o.concurrency,
    requests: latencies.length,
    requests_per_s: latencies.length / o.seconds,
    p50_ms: percentile(latencies, 50),
    p99_ms: percentile(latencies, 99),
  };
}
