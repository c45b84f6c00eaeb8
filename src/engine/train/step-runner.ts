import type { EvalSample } from '../../shared/run-directory.js';
import { type Backend, disposeAll, type Session } from '../backend.js';
import type { Graph } from '../graph/graph.js';
import { encodeModel } from '../graph/onnx-codec.js';
import { type TensorData, tensorNumbers, typedArrayFor } from '../graph/types.js';
import { DROPOUT_SEED_INPUT } from '../models/layers.js';
import type { Weights } from '../models/model.js';
import { HostAdamW } from '../optim/host-adamw.js';
import { ADAMW_MOMENTS, adamwBetas, stateName } from '../optim/optimizer.js';
import { type DeviceChoice, ortBackend } from '../runtime.js';
import type { Batch, Evaluator } from '../step/batch.js';
import {
  buildAccumulateStep,
  buildForward,
  buildInference,
  buildTrainStep,
  type HostUpdate,
  type StepGraph,
  type StepGraphOptions,
} from '../step/step-graph.js';

/**
 * `weights`: the runner takes the trained entries over: after `create`, the map's trainable
 * entries are the runner's live buffers (updated by every step); frozen ones stay the caller's.
 */
export interface StepRunnerOptions extends Omit<StepGraphOptions, 'placeOptimizer' | 'frozenAsInputs'> {
  device: DeviceChoice;
  /** What runs the graphs and where optimizer state lives (default: ortBackend). */
  backend?: Backend;
  /** Run seed: with the micro-step count it decides every dropout mask. */
  seed?: number;
  threads?: number;
  log?: (line: string) => void;
  /**
   * Profile the train step under ORT's profiler, its trace written to `<prefix>_<date>.json` once
   * {@link StepRunner.endProfiling} is called (benchmarks); the other sessions are not profiled.
   */
  profilePrefix?: string;
}

/** Everything a checkpoint needs to continue exactly where a runner stopped. */
export interface RunnerState {
  /** Carried tensors by graph input name: parameters, optimizer moments, gradient sums. */
  tensors: Map<string, TensorData>;
  optimizerSteps: number;
  microSteps: number;
  pendingMicroSteps: number;
  /** Optimizer steps skipped for a non-finite loss or gradient norm (not counted in AdamW's bias correction). */
  skippedSteps?: number;
}

/** One micro-batch's outcome (see StepRunner.step). */
export interface StepResult {
  loss: number;
  /** Global gradient norm (before clipping); on optimizer steps only. */
  gradNorm?: number;
  /** An optimizer step ran (else the gradients were accumulated). */
  updated: boolean;
  /** The optimizer step had a non-finite loss or gradient norm and was not applied (skipNonFinite). */
  skipped?: boolean;
}

interface Compiled {
  session: Session;
  spec: StepGraph;
}

const scalar = (v: number): TensorData => ({ dtype: 'float32', dims: [], data: new Float32Array([v]) });

/**
 * Runs the step graphs and owns the state they carry: trained parameters, optimizer moments,
 * gradient sums. Each state tensor is one buffer for the runner's life.
 * - Parameters the backend places on the host (ortBackend: most AdamW ones, see HostAdamW): the
 *   buffers live in HostAdamW's WebAssembly memory; the graph writes their gradients there and
 *   HostAdamW updates them after the run.
 * - The others (in the graph: SGD, odd sizes): fed as the input and passed as the preallocated output of their
 *   in-graph update, so ORT writes the update in place. That is safe because every update depends
 *   on the loss and the gradient norm, which need the whole forward and backward pass.
 */
export class StepRunner implements Evaluator {
  /** Current value of every carried state input, by graph input name. */
  private readonly state = new Map<string, TensorData>();
  /** Frozen weights, fed as inputs to every graph (frozenAsInputs): the caller's buffers, read only. */
  private readonly frozen = new Map<string, TensorData>();
  private optimizerSteps = 0;
  /** Of those, the ones skipped: AdamW's step count (bias correction) is the difference. */
  private skippedSteps = 0;
  private pendingMicroSteps = 0;
  /** Micro-batches seen: with the run seed, the dropout seed of the next one. */
  private microSteps = 0;

  private readonly trainFetches: Record<string, TensorData | null>;
  private readonly accumulateFetches: Record<string, TensorData | null>;

  private constructor(
    private readonly opts: StepRunnerOptions,
    private readonly train: Compiled,
    private readonly forward: Compiled,
    private readonly accumulate: Compiled | undefined,
    /** Parameters updated outside the graph (see HostAdamW): they and their moments live there. */
    private readonly host: HostAdamW | undefined,
  ) {
    for (const h of train.spec.host ?? []) {
      const [param, m, v] = (host as HostAdamW).views(h.param);
      (param.data as Float32Array).set(opts.weights.get(h.param)?.data as Float32Array);
      this.state.set(h.param, param);
      this.state.set(stateName(h.param, ADAMW_MOMENTS[0]), m);
      this.state.set(stateName(h.param, ADAMW_MOMENTS[1]), v);
    }
    for (const s of [...train.spec.state, ...(accumulate?.spec.state ?? [])]) {
      if (this.state.has(s.input)) continue;
      const weights = opts.weights.get(s.param) as TensorData;
      // Own buffers: updates land in place (the caller's map then points here, see below).
      const data = typedArrayFor('float32', weights.data.length) as Float32Array;
      if (s.init === 'param') data.set(weights.data as Float32Array);
      this.state.set(s.input, { dtype: 'float32', dims: weights.dims, data });
    }
    for (const [name, t] of opts.weights) if (!opts.trainable.has(name)) this.frozen.set(name, t);
    // The runner owns the trained weights from here: the caller's map points at the live buffers,
    // so the loaded copies can be collected (a 135M-parameter full fine-tune held 513 MiB less).
    for (const name of opts.trainable) {
      const live = this.state.get(name);
      if (live && opts.weights.has(name)) opts.weights.set(name, live);
    }
    this.trainFetches = this.fetchesOf(train.spec);
    this.accumulateFetches = accumulate ? this.fetchesOf(accumulate.spec) : {};
  }

  static async create(opts: StepRunnerOptions, restore?: RunnerState): Promise<StepRunner> {
    // One copy of the frozen weights (the caller's), fed to every session: see frozenAsInputs.
    const graphOpts: StepGraphOptions = { ...opts, frozenAsInputs: true };
    const backend = opts.backend ?? ortBackend;
    const compile = async (spec: StepGraph): Promise<Compiled> => {
      const isTrain = spec.graph.name === 'train_step';
      return {
        spec,
        session: await backend.createSession(encodeModel(spec.graph), {
          device: opts.device,
          threads: opts.threads,
          // The provider line is logged once: every session of a runner uses the same choice.
          logLine: isTrain ? opts.log : undefined,
          // The gradient graphs hold autodiff's recomputed copies: ORT must not merge them back.
          keepDuplicateNodes: spec.graph.name !== 'forward',
          ...(isTrain && opts.profilePrefix ? { profilePrefix: opts.profilePrefix } : {}),
        }),
      };
    };
    const accumulation = opts.gradientAccumulationSteps ?? 1;
    let trainSpec = buildTrainStep({ ...graphOpts, placeOptimizer: (p, o) => backend.placeOptimizer(p, o) });
    let host: HostAdamW | undefined;
    try {
      const dims = (name: string) => (opts.weights.get(name) as TensorData).dims;
      const params = (trainSpec.host ?? []).map((h) => ({ name: h.param, dims: dims(h.param), kind: h.kind }));
      host = params.length ? new HostAdamW(params) : undefined;
    } catch (err) {
      // No WebAssembly memory of that size here (a full machine): the updates stay in the graph.
      opts.log?.(`AdamW runs in the graph: ${err instanceof Error ? err.message : String(err)}`);
      trainSpec = buildTrainStep(graphOpts);
    }
    const sessions: Compiled[] = [];
    try {
      sessions.push(await compile(trainSpec));
      sessions.push(await compile(buildForward(graphOpts)));
      if (accumulation > 1) sessions.push(await compile(buildAccumulateStep(graphOpts)));
    } catch (err) {
      await Promise.allSettled(sessions.map((s) => s.session.dispose()));
      throw err;
    }
    const runner = new StepRunner(opts, sessions[0] as Compiled, sessions[1] as Compiled, sessions[2], host);
    if (restore) runner.restore(restore);
    return runner;
  }

  /** The carried state, for a checkpoint. The tensors are the live buffers: write them out before the next step. */
  exportState(): RunnerState {
    return {
      tensors: new Map(this.state),
      optimizerSteps: this.optimizerSteps,
      microSteps: this.microSteps,
      pendingMicroSteps: this.pendingMicroSteps,
      skippedSteps: this.skippedSteps,
    };
  }

  private restore(saved: RunnerState): void {
    for (const [name, current] of this.state) {
      const t = saved.tensors.get(name);
      if (!t) throw new Error(`checkpoint has no tensor '${name}'`);
      if (t.dims.join(',') !== current.dims.join(',')) {
        throw new Error(
          `checkpoint tensor '${name}' has shape [${t.dims.join(', ')}], the model expects [${current.dims.join(', ')}]`,
        );
      }
      // Copied into the runner's buffers: the saved tensors stay as they are while training goes on.
      (current.data as Float32Array).set(t.data as Float32Array);
    }
    this.optimizerSteps = saved.optimizerSteps;
    this.microSteps = saved.microSteps;
    this.pendingMicroSteps = saved.pendingMicroSteps;
    this.skippedSteps = saved.skippedSteps ?? 0;
  }

  /** Optimizer steps taken so far. */
  get steps(): number {
    return this.optimizerSteps;
  }

  private feeds(batch: Batch, names: readonly string[]): Record<string, TensorData> {
    const feeds: Record<string, TensorData> = {};
    if (names.includes(DROPOUT_SEED_INPUT)) {
      // A distinct, reproducible seed per micro-batch (mixed so that nearby runs do not share masks).
      const seed = ((this.opts.seed ?? 0) * 1000003 + this.microSteps * 7919 + 17) % 2147483647;
      feeds[DROPOUT_SEED_INPUT] = { dtype: 'int64', dims: [], data: new BigInt64Array([BigInt(seed)]) };
    }
    for (const name of names) {
      const v = batch[name] ?? this.state.get(name) ?? this.frozen.get(name);
      if (v) feeds[name] = v;
    }
    return feeds;
  }

  /**
   * Fetches of a step graph, the same every run: state updates into the state buffers, dense
   * gradients into HostAdamW's memory (the same TensorData objects for the runner's life, their
   * views refreshed in place), the other outputs allocated by ORT.
   */
  private fetchesOf(spec: StepGraph): Record<string, TensorData | null> {
    const host = spec.host ?? [];
    const fetches: Record<string, TensorData | null> = {};
    for (const name of [spec.loss, spec.gradNorm, spec.hostScalars]) if (name) fetches[name] = null;
    for (const s of spec.state) fetches[s.output] = this.state.get(s.input) as TensorData;
    for (const h of host) {
      if (h.kind === 'rows') fetches[h.rows] = fetches[h.values] = null;
      else fetches[h.grad] = this.host?.gradient(h.param) as TensorData;
    }
    return fetches;
  }

  /**
   * One micro-batch. With gradient accumulation k, every k-th call (or a `flush`) updates the
   * weights; the others add to the gradient sums. Returns the micro-batch loss (and the grad norm on updates).
   * With `skipNonFinite`, an optimizer step whose loss or gradient norm is NaN or infinite changes no
   * parameter or optimizer state (it still counts as a step, and the gradient sums are cleared).
   */
  async step(batch: Batch, lr: number, flush = false): Promise<StepResult> {
    const k = this.opts.gradientAccumulationSteps ?? 1;
    // `flush` updates early (an epoch's last, partial accumulation); the sum is still divided by k.
    if (this.accumulate && this.pendingMicroSteps < k - 1 && !flush) {
      const acc = this.accumulate;
      const out = await acc.session.run(this.feeds(batch, acc.session.inputNames), this.accumulateFetches);
      this.pendingMicroSteps++;
      this.microSteps++;
      return { loss: tensorNumbers(out[this.accumulate.spec.loss] as TensorData)[0] as number, updated: false };
    }
    const feeds = this.feeds(batch, this.train.session.inputNames);
    feeds.lr = scalar(lr);
    feeds.step = scalar(this.optimizerSteps - this.skippedSteps + 1);
    const spec = this.train.spec;
    const out = await this.train.session.run(feeds, this.trainFetches);
    const num = (name: string | undefined) => tensorNumbers(out[name as string] as TensorData)[0] as number;
    const loss = num(spec.loss);
    const gradNorm = num(spec.gradNorm);
    // The two scalars already fetched decide; the graph held its own updates back on the same test.
    const skipped = this.opts.skipNonFinite === true && !(Number.isFinite(loss) && Number.isFinite(gradNorm));
    if (spec.host?.length && !skipped) this.updateOnHost(spec.host, out[spec.hostScalars as string] as TensorData, out);
    if (this.accumulate) {
      for (const s of this.accumulate.spec.state) {
        const sum = this.state.get(s.input);
        if (sum) (sum.data as Float32Array).fill(0);
      }
      this.pendingMicroSteps = 0;
    }
    this.optimizerSteps++;
    if (skipped) this.skippedSteps++;
    this.microSteps++;
    return { loss, gradNorm, updated: true, ...(skipped ? { skipped } : {}) };
  }

  private updateOnHost(host: readonly HostUpdate[], scalars: TensorData, out: Record<string, TensorData>): void {
    const [gradCoef, squareCoef, stepSize, scaledEps, decayFactor] = Array.from(scalars.data as Float32Array);
    const { b1, b2 } = adamwBetas(this.opts.optimizer);
    const s = {
      b1,
      b2,
      gradCoef: gradCoef as number,
      squareCoef: squareCoef as number,
      stepSize: stepSize as number,
      scaledEps: scaledEps as number,
    };
    for (const h of host) {
      const step = { ...s, decayFactor: h.decays ? (decayFactor as number) : 1 };
      if (h.kind === 'dense') this.host?.updateDense(h.param, step);
      else this.host?.updateRows(h.param, out[h.rows]?.data as Int32Array, out[h.values]?.data as Float32Array, step);
    }
  }

  /** Eval-mode forward: loss and logits of one batch with the current weights. */
  async evaluate(batch: Batch): Promise<{ loss: number; logits: TensorData }> {
    const out = await this.forward.session.run(this.feeds(batch, this.forward.session.inputNames));
    return {
      loss: tensorNumbers(out[this.forward.spec.loss] as TensorData)[0] as number,
      logits: out[this.forward.spec.logits as string] as TensorData,
    };
  }

  /** Evaluator.openSession: an eval graph over the current weights (trained and frozen), same device and threads. */
  async openSession(build: (weights: Weights) => Graph): Promise<Session> {
    return (this.opts.backend ?? ortBackend).createSession(encodeModel(build(this.weights())), {
      device: this.opts.device,
      ...(this.opts.threads === undefined ? {} : { threads: this.opts.threads }),
    });
  }

  /** Where reportSamples sends an evaluation's samples (the trainer: the run's samples event). */
  sampleSink: ((samples: EvalSample[]) => void) | undefined;

  reportSamples(samples: EvalSample[]): void {
    this.sampleSink?.(samples);
  }

  /** Eval-mode loss of one batch: the logits stay inside ORT (GPT-2's are 400 MB for 16 × 128 tokens). */
  async evaluateLoss(batch: Batch): Promise<number> {
    const spec = this.forward.spec;
    const out = await this.forward.session.run(this.feeds(batch, this.forward.session.inputNames), {
      [spec.loss]: null,
    });
    return tensorNumbers(out[spec.loss] as TensorData)[0] as number;
  }

  /**
   * Current weights: the caller's map already points the trained names at the live state buffers
   * (the constructor took them over), so a copy of the map is the current model.
   */
  weights(): Weights {
    return new Map(this.opts.weights);
  }

  /** The inference ONNX model with the current weights baked in. */
  exportInference(): Uint8Array {
    return encodeModel(buildInference(this.opts.model, this.weights()), { producer: 'finetune-workbench' });
  }

  /** Ends the train step's profiling (a runner created with `profilePrefix`) and writes its trace file. */
  endProfiling(): void {
    this.train.session.endProfiling();
  }

  async dispose(): Promise<void> {
    await disposeAll([this.train, this.forward, this.accumulate].map((c) => c?.session));
  }
}
