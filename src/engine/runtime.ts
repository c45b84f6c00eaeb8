/**
 * The engine's only door to onnxruntime-node: choosing the execution provider, creating sessions,
 * and moving tensors between our TensorData and ort.Tensor without copying. `ortBackend` is the
 * engine's Backend (backend.ts) built on it.
 *
 * Bundling note: onnxruntime-node must stay external (it loads its native binding with a computed
 * require path), and `ort.Tensor` must come from that same copy, because the binding builds result
 * tensors with it and onnxruntime-common checks feeds/fetches with `instanceof`.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { DeviceName } from '../shared/config.js';
import type { Backend, OptimizerPlacement, Session, SessionOptions } from './backend.js';
import type { DType, TensorArray, TensorData } from './graph/types.js';
import { hostAdamWCapacity } from './optim/host-adamw.js';
import { packageDir } from './util/package-path.js';

export type { Session, SessionOptions } from './backend.js';

/** The config's `device` (shared/config.ts): the engine takes the same choices. */
export type DeviceChoice = DeviceName;

export interface ProviderChoice {
  providers: string[];
  reason: string;
}

/** The exact commands that fetch the CUDA provider (the project .npmrc skips it by default). */
export const CUDA_INSTALL_HINT =
  'install the CUDA 12 provider with `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node` ' +
  '(or `npm install onnxruntime-node --onnxruntime-node-install=cuda12` on a fresh install); it downloads ' +
  'from api.nuget.org and needs the CUDA 12 runtime and cuDNN 9 on the library path';

/** Folder holding onnxruntime_binding.node, where install.js drops the CUDA provider libraries. */
export function ortBinaryDir(): string | undefined {
  const dir = packageDir('onnxruntime-node');
  return dir && path.join(dir, 'bin', 'napi-v6', process.platform, process.arch);
}

/** Whether the CUDA execution provider libraries are installed next to the binding. */
export function cudaProviderInstalled(): boolean {
  const dir = ortBinaryDir();
  if (!dir || process.platform !== 'linux') return false;
  // The CUDA provider is loaded through the shared-provider bridge; both files are needed.
  return ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'].every((f) =>
    existsSync(path.join(dir, f)),
  );
}

export function resolveExecutionProviders(device: DeviceName): ProviderChoice {
  if (device === 'cpu') return { providers: ['cpu'], reason: 'device: cpu requested' };
  const installed = cudaProviderInstalled();
  if (device === 'cuda') {
    if (process.platform !== 'linux') {
      throw new Error(`device: cuda is only supported on Linux x64 by onnxruntime-node (this is ${process.platform})`);
    }
    if (!installed) {
      throw new Error(
        `device: cuda requested, but the onnxruntime CUDA provider is not installed in ${ortBinaryDir() ?? 'onnxruntime-node'}; ${CUDA_INSTALL_HINT}`,
      );
    }
    return { providers: ['cuda', 'cpu'], reason: 'device: cuda requested' };
  }
  if (process.platform !== 'linux')
    return { providers: ['cpu'], reason: `auto: no CUDA provider on ${process.platform}` };
  if (!installed) return { providers: ['cpu'], reason: 'auto: CUDA provider not installed' };
  return { providers: ['cuda', 'cpu'], reason: 'auto: CUDA provider installed' };
}

// ------------------------------------------------------------------ tensors

export type Feed = TensorData | ort.Tensor;

/** ort.Tensor over the same typed array (no copy). bool and uint8 share Uint8Array storage. */
export function toOrt(t: TensorData): ort.Tensor {
  // bfloat16 lives only in exported files: no session graph the engine builds takes it.
  if (t.dtype === 'bfloat16')
    throw new Error('onnxruntime sessions take no bfloat16 tensors (the engine computes in float32)');
  return new ort.Tensor(t.dtype, t.data as ort.Tensor['data'], [...t.dims]);
}

const ORT_DTYPES: ReadonlySet<string> = new Set<DType>([
  'float32',
  'float64',
  'float16',
  'int64',
  'int32',
  'bool',
  'uint8',
  'int8',
]);

/** TensorData view of an ort.Tensor's buffer (no copy). */
export function fromOrt(t: ort.Tensor): TensorData {
  if (!ORT_DTYPES.has(t.type))
    throw new Error(`onnxruntime returned a '${t.type}' tensor, which the engine does not use`);
  let data = t.data as TensorArray;
  // Where the JS engine has Float16Array, ORT hands float16 back in one; we store the raw bits.
  if (t.type === 'float16' && !(data instanceof Uint16Array)) {
    const v = data as unknown as ArrayBufferView;
    data = new Uint16Array(v.buffer, v.byteOffset, v.byteLength / 2);
  }
  return { dtype: t.type as DType, dims: [...t.dims], data };
}

const isOrtTensor = (x: Feed): x is ort.Tensor => x instanceof ort.Tensor;

// ------------------------------------------------------------------ sessions

/**
 * An InferenceSession with TensorData in and out. Results are views on the buffers ORT returns,
 * so the caller owns them outright; nothing needs freeing except the session itself.
 */
class OrtSession implements Session {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  private disposed = false;

  constructor(
    private readonly session: ort.InferenceSession,
    readonly provider: string,
  ) {
    this.inputNames = session.inputNames;
    this.outputNames = session.outputNames;
  }

  /**
   * Runs the model. `outputs` is either the names to fetch (default: all), or a record by output
   * name of preallocated tensors to fill in place (their dtype and dims must match exactly, or ORT
   * throws), with `null` for outputs ORT should allocate. ORT writes a preallocated output straight
   * into its buffer, which may be the buffer of an input that only the output's own ancestors read
   * (a state update in place). onnxruntime-node 1.30 still copies every output into a fresh buffer
   * for its own result object; the copy of a preallocated one is dropped here.
   */
  async run(
    feeds: Record<string, Feed>,
    outputs?: readonly string[] | Record<string, TensorData | null>,
  ): Promise<Record<string, TensorData>> {
    if (this.disposed) throw new Error('onnxruntime session used after dispose()');
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, value] of Object.entries(feeds)) ortFeeds[name] = isOrtTensor(value) ? value : toOrt(value);

    let fetches: Record<string, ort.Tensor | null> | undefined;
    const preallocated =
      outputs && !Array.isArray(outputs) ? (outputs as Record<string, TensorData | null>) : undefined;
    if (preallocated) {
      fetches = {};
      for (const [name, t] of Object.entries(preallocated)) fetches[name] = t ? toOrt(t) : null;
    } else if (outputs) {
      fetches = {};
      for (const name of outputs as readonly string[]) fetches[name] = null;
    }

    // onnxruntime-common treats a fetches object with no known output name as run *options*, which
    // would silently fetch everything and leave preallocated buffers untouched; refuse instead.
    for (const name of Object.keys(fetches ?? {})) {
      if (!this.outputNames.includes(name)) throw new Error(`onnxruntime: model has no output '${name}'`);
    }
    const result = fetches ? await this.session.run(ortFeeds, fetches) : await this.session.run(ortFeeds);
    const out: Record<string, TensorData> = {};
    for (const [name, value] of Object.entries(result)) {
      out[name] = preallocated?.[name] ?? fromOrt(value);
    }
    return out;
  }

  /** Ends profiling (sessions created with `profilePrefix`) and flushes the trace file. */
  endProfiling(): void {
    this.session.endProfiling();
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.session.release();
  }
}

async function createOrtSession(
  modelBytes: Uint8Array,
  providers: string[],
  opts: SessionOptions,
): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: providers,
    // Our graphs are one long chain of dependent ops; parallel branches gain little and an extra
    // pool of threads would compete with the intra-op pool.
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    // The memory pattern lays all intermediates of a run out in one block planned after the first
    // run; the arena keeps the first run's chunks as well, so a train step's peak RSS was 1.12 GB
    // with it and 0.77 GB without (BERT h256 bench), at the same speed (in-process A/B, medians).
    enableMemPattern: false,
    extra: {
      session: { intra_op: { allow_spinning: opts.spin ? '1' : '0' } },
      ...(opts.keepDuplicateNodes
        ? { optimization: { disable_specified_optimizers: 'CommonSubexpressionElimination' } }
        : {}),
    },
  };
  if (opts.optimizedModelPath) options.optimizedModelFilePath = opts.optimizedModelPath;
  if (opts.threads !== undefined) options.intraOpNumThreads = opts.threads;
  if (opts.profilePrefix) {
    options.enableProfiling = true;
    options.profileFilePrefix = opts.profilePrefix;
  }
  return ort.InferenceSession.create(modelBytes, options);
}

/**
 * Creates a session on the chosen device. With 'auto', a CUDA provider that is installed but
 * cannot start (no GPU, no driver, missing cuDNN) falls back to CPU instead of failing the run.
 */
export async function createSession(modelBytes: Uint8Array, opts: SessionOptions): Promise<Session> {
  const choice = resolveExecutionProviders(opts.device);
  const primary = choice.providers[0] ?? 'cpu';
  try {
    const session = await createOrtSession(modelBytes, choice.providers, opts);
    opts.logLine?.(`onnxruntime: using ${primary} (${choice.reason})`);
    return new OrtSession(session, primary);
  } catch (err) {
    if (opts.device !== 'auto' || primary === 'cpu') throw err;
    const msg = err instanceof Error ? err.message : String(err);
    const session = await createOrtSession(modelBytes, ['cpu'], opts);
    opts.logLine?.(`onnxruntime: using cpu (auto: CUDA provider failed to start: ${msg.split('\n')[0]})`);
    return new OrtSession(session, 'cpu');
  }
}

// ------------------------------------------------------------------ backend

/**
 * The onnxruntime-node backend: sessions on the execution provider `device` resolves to, every
 * tensor in host memory (ORT copies to and from a GPU within each run). Its optimizer policy: AdamW
 * updates run in HostAdamW (one fused WebAssembly SIMD pass, after the step graph) for the
 * parameters it can take (sizes in whole 4-float blocks, within wasm32 memory), since ORT's CPU
 * build has no fused optimizer kernel; SGD and the rest stay in the graph.
 */
export const ortBackend: Backend = {
  name: 'onnxruntime-node',
  createSession,
  placeOptimizer(params, optimizer): OptimizerPlacement[] {
    if (optimizer.kind !== 'adamw') return params.map(() => 'graph');
    return hostAdamWCapacity(params).map((host) => (host ? 'host' : 'graph'));
  },
};
