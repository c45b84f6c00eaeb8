import type { DeviceName } from '../shared/config.js';
import type { TensorData } from './graph/types.js';
import type { HostParam } from './optim/host-adamw.js';
import type { OptimizerConfig } from './optim/optimizer.js';

/**
 * The seam between the training code and what runs the graphs. A backend creates sessions (ONNX
 * model bytes in, TensorData in and out) and decides where each trained parameter's optimizer
 * update runs, and so where its state lives. The one implementation is `ortBackend` in runtime.ts
 * (onnxruntime-node; every tensor in host memory, whichever execution provider runs the kernels).
 * A backend that keeps tensors on a device (CUDA with I/O binding, WebGPU's gpu-buffer outputs)
 * would implement this interface, place every update in the graph and keep the state on the device.
 */
export interface Backend {
  /** For log lines and error messages. */
  readonly name: string;
  /** A session of one ONNX model on the device `opts.device` resolves to. */
  createSession(model: Uint8Array, opts: SessionOptions): Promise<Session>;
  /**
   * Where the optimizer update of each trained parameter runs, in the order given (the train step's
   * trained parameters, with their gradient's form): `host` = HostAdamW after the step graph (the
   * graph outputs the gradient; parameter and moments live in HostAdamW's WebAssembly memory),
   * `graph` = in the step graph (parameter and state carried as its inputs and outputs). A backend
   * may answer `host` only for AdamW and for parameters `hostable` accepts.
   */
  placeOptimizer(params: readonly HostParam[], optimizer: OptimizerConfig): OptimizerPlacement[];
}

export type OptimizerPlacement = 'host' | 'graph';

export interface SessionOptions {
  device: DeviceName;
  /** Intra-op threads; omitted means the backend's default (ORT: one per physical core). */
  threads?: number;
  logLine?: (msg: string) => void;
  /**
   * Let idle pool threads spin between ops (ORT's default) instead of sleeping. Off by default: on a
   * shared machine (the editor, other runs) spinning threads steal the cores the working ones need;
   * measured on the 2-core bench machine, a train step took 1.2-1.4 s without spinning against
   * 2.0-2.5 s with it, and 35% less CPU time.
   */
  spin?: boolean;
  /** Write a profile (ORT: JSON trace, per-node times) to `<prefix>_<date>.json`; see `Session.endProfiling`. */
  profilePrefix?: string;
  /**
   * Keep nodes that compute the same thing from the same inputs. Train-step graphs need it: autodiff
   * recomputes some forward outputs in the backward pass (see graph/autodiff.ts RECOMPUTED) so the
   * forward ones can be freed early, and ORT's common-subexpression elimination would merge each
   * copy back into its forward node (measured: every recomputed RMSNorm was merged).
   */
  keepDuplicateNodes?: boolean;
  /** Write the model as ORT optimised it to this path (tests and tools inspect it). */
  optimizedModelPath?: string;
}

/**
 * One model ready to run, with TensorData in and out. Results are owned by the caller outright;
 * nothing needs freeing except the session itself.
 */
export interface Session {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** The execution provider that runs it ('cpu', 'cuda'). */
  readonly provider: string;
  /**
   * Runs the model. `outputs` is either the names to fetch (default: all), or a record by output
   * name of preallocated tensors to fill in place (their dtype and dims must match exactly), with
   * `null` for outputs the backend should allocate. A preallocated output may be the buffer of an
   * input that only the output's own ancestors read (a state update in place).
   */
  run(
    feeds: Record<string, TensorData>,
    outputs?: readonly string[] | Record<string, TensorData | null>,
  ): Promise<Record<string, TensorData>>;
  /** Ends profiling (sessions created with `profilePrefix`) and flushes the trace file. */
  endProfiling(): void;
  dispose(): Promise<void>;
}

/** Disposes sessions, ignoring ones already disposed; errors from the others are collected. */
export async function disposeAll(sessions: Iterable<Session | undefined>): Promise<void> {
  const results = await Promise.allSettled([...sessions].map((s) => s?.dispose()));
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  const first = failed[0];
  if (first) throw new Error(`${failed.length} session(s) failed to dispose`, { cause: first.reason });
}
