import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { ThroughputCase } from './engine-case.js';

/**
 * The PyTorch peer: shared/bench/torch_reference.py (bench/torch/xlnet_reference.py for the XLNet
 * case) run with Debian's python3-torch, when the script sits beside the repository
 * (../shared/bench) and /usr/bin/python3 can import torch.
 */
const PYTHON = '/usr/bin/python3';

export interface TorchResult {
  step_ms: number;
  tokens_per_s: number;
  rss_mb: number;
  torch: string;
}

/** The repository root: the nearest folder above the running script (or the cwd) with our package.json. */
export function repoRoot(): string {
  for (const start of [dirname(resolve(process.argv[1] ?? '.')), process.cwd()]) {
    for (let dir = start; ; dir = dirname(dir)) {
      const pkg = join(dir, 'package.json');
      if (existsSync(pkg) && /"name":\s*"finetune-workbench"/.test(readFileSync(pkg, 'utf8'))) return dir;
      if (dirname(dir) === dir) break;
    }
  }
  return process.cwd();
}

/** Why the reference cannot run here, or undefined when it can. */
export function torchUnavailable(): string | undefined {
  const script = torchScript();
  if (!existsSync(script)) return `no ${script}`;
  if (!existsSync(PYTHON)) return `no ${PYTHON}`;
  const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) return `${PYTHON} cannot import torch (apt-get install -y python3-torch)`;
  return undefined;
}

/**
 * A warning when Debian's PyTorch would multiply matrices with the reference BLAS (libblas3, about
 * 30× slower here than OpenBLAS): a peer that slow makes every ratio meaningless.
 */
export function torchBlasWarning(): string | undefined {
  const maps = "import torch; torch.ones(2, 2) @ torch.ones(2, 2); print(open('/proc/self/maps').read())";
  const probe = spawnSync(PYTHON, ['-c', maps], { encoding: 'utf8', env: torchEnv(), maxBuffer: 1 << 26 });
  if (probe.status !== 0) return undefined;
  // Debian's reference libblas lives in .../blas/; OpenBLAS's libblas.so.3 in .../openblas-pthread/.
  if (!/\/blas\/libblas\.so/.test(probe.stdout) && /openblas|mkl/i.test(probe.stdout)) return undefined;
  return 'PyTorch multiplies with the reference BLAS (libblas3): apt-get install -y libopenblas0-pthread for a fair peer';
}

/** This process's environment less the OpenBLAS tuning variables that slow Debian's PyTorch (see WRAPPER). */
export function torchEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  return env;
}

/** The path of a PyTorch peer in the project's bench/torch/. */
export const torchPeer = (file: string): string => join(repoRoot(), 'bench', 'torch', file);

/** The case's PyTorch peer: the shared BERT reference, or the project's own (bench/torch) for XLNet, GPT-2 and LoRA. */

export function torchScript(c?: Pick<ThroughputCase, 'family' | 'lora'>): string {
  const own = torchPeer;
  if (c?.lora) return own('bert_lora_reference.py');
  if (c?.family === 'xlnet') return own('xlnet_reference.py');
  if (c?.family === 'gpt2') return own('gpt2_reference.py');
  return join(repoRoot(), '..', 'shared', 'bench', 'torch_reference.py');
}

/**
 * Runs the script in a Python that reports its own peak RSS afterwards (the script prints only
 * throughput). The OpenBLAS tuning variables some machines set are removed for this command only:
 * they slow the OpenBLAS that Debian's PyTorch uses.
 */
const WRAPPER = [
  'import json, resource, runpy, sys',
  'sys.argv = sys.argv[1:]',
  "runpy.run_path(sys.argv[0], run_name='__main__')",
  "print(json.dumps({'maxrss_kb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))",
].join('\n');

/**
 * Runs a PyTorch peer script (a path, e.g. `torchPeer('t5_step.py')`) with `--key value` arguments (and `extra` as given) under
 * /usr/bin/python3, wrapped so that its peak RSS is printed last, and returns the JSON objects it
 * printed (its lines starting with '{') and that peak in MiB. `what` names the peer in errors.
 */
export async function runTorchScript(
  script: string,
  args: Record<string, string | number>,
  what: string,
  extra: readonly string[] = [],
): Promise<{ objects: Record<string, unknown>[]; rssMb: number }> {
  const argv = ['-c', WRAPPER, script, ...Object.entries(args).flatMap(([k, v]) => [`--${k}`, String(v)]), ...extra];
  const stdout = await new Promise<string>((ok, fail) =>
    execFile(PYTHON, argv, { env: torchEnv(), maxBuffer: 1 << 24 }, (err, out, errOut) =>
      err ? fail(new Error(`${what} failed: ${err.message}\n${errOut}`)) : ok(out),
    ),
  );
  const objects = stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const rss = objects.find((o) => typeof o.maxrss_kb === 'number');
  const results = objects.filter((o) => o !== rss);
  if (!rss || results.length === 0) throw new Error(`${what} printed no result:\n${stdout}`);
  return { objects: results, rssMb: Number(rss.maxrss_kb) / 1024 };
}

export async function runTorch(c: ThroughputCase, steps: number, warmup: number): Promise<TorchResult> {
  const args = {
    layers: c.layers,
    hidden: c.hidden,
    heads: c.heads,
    intermediate: c.intermediate,
    vocab: c.vocab,
    seq: c.seq,
    batch: c.batch,
    steps,
    'warmup-steps': warmup,
    threads: c.threads,
    ...(c.lora ? { 'lora-r': c.lora.r, 'lora-alpha': c.lora.alpha } : {}),
  };
  const { objects, rssMb } = await runTorchScript(torchScript(c), args, 'PyTorch reference');
  const result = objects.find((o) => o.impl === 'pytorch');
  if (!result) throw new Error(`PyTorch reference printed no result: ${JSON.stringify(objects)}`);
  return {
    step_ms: Number(result.step_ms_median),
    tokens_per_s: Number(result.tokens_per_s),
    rss_mb: rssMb,
    torch: String(result.torch),
  };
}
