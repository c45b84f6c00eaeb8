import { type TensorData, tensorNumbers, tensorOf } from '../graph/types.js';
import type { DecoderArch } from '../models/decoder.js';
import type { Session } from '../runtime.js';
import {
  emptyPast,
  type Generation,
  type GenerationOptions,
  type LoadedCausalLm,
  pastName,
  presentAsPast,
} from './causal-lm-model.js';
import type { GenerationRow } from './generation-row.js';

/**
 * Continuous batching over the KV cache (what vLLM and TGI call it): generations at different
 * positions decode together, one token each per forward of the cached decoder graph, and the set
 * of rows changes between steps — a new request joins at the next step, a finished or cancelled
 * one leaves at once — so a long generation does not hold up short ones.
 *
 * - A request's prompt runs alone first (its prefill: the same batch-1 call `generate` makes),
 *   giving its first token and its keys/values.
 * - A decode step feeds each row's last token. The rows' caches have different lengths: they are
 *   stacked left-padded to the longest, [B, kv_heads, P, head_dim]; attention_mask is 0 over each
 *   row's padding (the decoder's additive mask then gives those keys weight exactly 0) and
 *   position_ids is each row's own position, so a row sees exactly what it sees alone.
 * - While the rows stay the same, a step's present keys/values are the next step's past as they
 *   are; when a row joins or leaves, the caches are repacked to the new longest row.
 * - Every per-token rule (sampling, EOS and stop ids, stop strings and streaming, max_new_tokens,
 *   the context, the abort signal) is the row's own (GenerationRow), as in `generate`.
 *
 * At most `maxBatch` rows decode at once; more requests wait in arrival order, and one whose
 * signal aborts while waiting never runs. An engine error fails the rows of that forward only.
 */
export interface ContinuousBatchOptions {
  /** Rows decoding together at most. */
  maxBatch: number;
  /** Called with the number of waiting requests whenever it changes (metrics). */
  onDepth?: (depth: number) => void;
  /** Called with the number of rows of each decode step (metrics, tests). */
  onStep?: (rows: number) => void;
  /** Called when a request's prompt runs (tests). */
  onPrefill?: () => void;
}

export type ContinuousDecoding = Pick<LoadedCausalLm, 'arch' | 'newRow' | 'decoderSession'>;

interface Request {
  row: GenerationRow;
  resolve: (g: Generation) => void;
  reject: (err: unknown) => void;
}

/** Where a row's cached keys/values are: its last `row.length - 1` positions of `past` at `index`. */
interface Active extends Request {
  past: Record<string, TensorData>;
  index: number;
}

const int64 = (dims: number[], values: ArrayLike<number>): TensorData => tensorOf('int64', dims, values);

export class ContinuousBatcher {
  private readonly waiting: Request[] = [];
  private active: Active[] = [];
  private running = false;
  /** The rows changed since the last step: their caches must be repacked. */
  private dirty = false;

  constructor(
    private readonly lm: ContinuousDecoding,
    private readonly o: ContinuousBatchOptions,
  ) {
    if (!(Number.isInteger(o.maxBatch) && o.maxBatch >= 1)) throw new Error(`maxBatch must be >= 1, got ${o.maxBatch}`);
  }

  /** Requests waiting for a row. */
  get depth(): number {
    return this.waiting.length;
  }

  /** Generates as `LoadedCausalLm.generate` does, decoding alongside the other requests. */
  generate(prompt: string | readonly number[], g: GenerationOptions = {}): Promise<Generation> {
    let row: GenerationRow;
    try {
      row = this.lm.newRow(prompt, g);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<Generation>((resolve, reject) => {
      this.waiting.push({ row, resolve, reject });
      this.o.onDepth?.(this.waiting.length);
      if (!this.running) void this.loop();
    });
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      const session = await this.lm.decoderSession();
      while (this.waiting.length > 0 || this.active.length > 0) {
        await this.admit(session);
        this.keep((a) => !this.endIfDone(a, a.row.abortIfAsked()));
        if (this.active.length > 0) await this.step(session);
      }
    } catch (err) {
      // The session could not be created: nothing can run.
      for (const r of [...this.active, ...this.waiting.splice(0)]) r.reject(err);
      this.active = [];
      this.o.onDepth?.(0);
    } finally {
      this.running = false;
    }
  }

  /** Keeps the active rows that pass `test`; a row that leaves marks the caches for repacking. */
  private keep(test: (a: Active) => boolean): void {
    const before = this.active.length;
    this.active = this.active.filter(test);
    if (this.active.length !== before) this.dirty = true;
  }

  /** Runs the prompts of waiting requests while rows are free. */
  private async admit(session: Session): Promise<void> {
    while (this.waiting.length > 0 && this.active.length < this.o.maxBatch) {
      const request = this.waiting.shift() as Request;
      this.o.onDepth?.(this.waiting.length);
      const { row } = request;
      if (this.endIfDone(request, row.abortIfAsked())) continue;
      try {
        this.o.onPrefill?.();
        const ids = row.prompt;
        const out = await session.run({
          input_ids: int64([1, ids.length], ids),
          attention_mask: int64([1, ids.length], new Array<number>(ids.length).fill(1)),
          position_ids: int64(
            [1, ids.length],
            ids.map((_, t) => t),
          ),
          ...emptyPast(this.lm.arch, 1),
        });
        row.accept(tensorNumbers(out.logits as TensorData));
        if (this.endIfDone(request, row.done)) continue;
        this.active.push({ ...request, past: presentAsPast(this.lm.arch, out), index: 0 });
        this.dirty = true;
      } catch (err) {
        request.reject(err);
      }
    }
  }

  /** Resolves a finished request; returns `done` (for filtering). */
  private endIfDone(request: Request, done: boolean): boolean {
    if (done) request.resolve(request.row.finish());
    return done;
  }

  /** One decode step of every active row. */
  private async step(session: Session): Promise<void> {
    const rows = this.active;
    const repack = this.dirty;
    this.dirty = false;
    const B = rows.length;
    const cached = rows.map((a) => a.row.length - 1); // the pending token is not cached yet
    const P = repack ? Math.max(...cached) : (rows[0]?.past[pastName(0, 'key')]?.dims[2] as number);
    const past = repack ? packCaches(this.lm.arch, rows, cached, P) : (rows[0] as Active).past;
    const mask = new Array<number>(B * (P + 1)).fill(0);
    rows.forEach((_, b) => {
      mask.fill(1, b * (P + 1) + P - (cached[b] as number), (b + 1) * (P + 1));
    });
    this.o.onStep?.(B);
    let out: Record<string, TensorData>;
    try {
      out = await session.run({
        input_ids: int64(
          [B, 1],
          rows.map((a) => a.row.generated.at(-1) as number),
        ),
        attention_mask: int64([B, P + 1], mask),
        position_ids: int64([B, 1], cached),
        ...past,
      });
    } catch (err) {
      for (const a of rows) a.reject(err);
      this.active = [];
      return;
    }
    const logits = (out.logits as TensorData).data as Float32Array;
    const vocab = logits.length / B;
    const present = presentAsPast(this.lm.arch, out);
    rows.forEach((a, b) => {
      a.row.accept(logits.subarray(b * vocab, (b + 1) * vocab));
      a.past = present;
      a.index = b;
    });
    this.keep((a) => !this.endIfDone(a, a.row.done));
  }
}

/**
 * The rows' caches stacked into [B, kv_heads, P, head_dim] per layer and kind, each row's
 * `cached[b]` positions at the end of its P (left padding of zeros before them).
 */
function packCaches(arch: DecoderArch, rows: readonly Active[], cached: readonly number[], P: number) {
  const B = rows.length;
  const { kvHeads, headDim } = arch;
  const packed: Record<string, TensorData> = {};
  for (let i = 0; i < arch.layers; i++)
    for (const kind of ['key', 'value'] as const) {
      const name = pastName(i, kind);
      const data = new Float32Array(B * kvHeads * P * headDim);
      rows.forEach((a, b) => {
        const source = a.past[name] as TensorData;
        const src = source.data as Float32Array;
        const sourceP = source.dims[2] as number;
        const n = cached[b] as number;
        for (let h = 0; h < kvHeads; h++) {
          const from = ((a.index * kvHeads + h) * sourceP + sourceP - n) * headDim;
          data.set(src.subarray(from, from + n * headDim), ((b * kvHeads + h) * P + P - n) * headDim);
        }
      });
      packed[name] = { dtype: 'float32', dims: [B, kvHeads, P, headDim], data };
    }
  return packed;
}
