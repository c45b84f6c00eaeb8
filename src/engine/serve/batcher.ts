/**
 * Dynamic batching: inputs submitted one by one wait in a queue and run through the engine
 * together, a batch starting as soon as `maxBatch` inputs wait or the oldest has waited
 * `maxWaitMs`. One batch runs at a time (the model has one session; ONNX Runtime already uses
 * every core inside a run), and inputs that arrive meanwhile form the next one. A failed batch
 * fails each of its inputs, not the server.
 */
export interface BatcherOptions {
  maxBatch: number;
  maxWaitMs: number;
  /** Called with each batch's size as it starts (metrics). */
  onBatch?: (size: number) => void;
  /** Called with the number of queued inputs whenever it changes (metrics). */
  onDepth?: (depth: number) => void;
}

interface Waiting<I, O> {
  input: I;
  since: number;
  resolve: (out: O) => void;
  reject: (err: unknown) => void;
}

export class DynamicBatcher<I, O> {
  private readonly queue: Waiting<I, O>[] = [];
  private running = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    /** Runs one batch; returns one output per input, in order. */
    private readonly run: (inputs: I[]) => Promise<O[]>,
    private readonly o: BatcherOptions,
  ) {
    if (!(Number.isInteger(o.maxBatch) && o.maxBatch >= 1)) throw new Error(`maxBatch must be >= 1, got ${o.maxBatch}`);
    if (!(o.maxWaitMs >= 0)) throw new Error(`maxWaitMs must be >= 0, got ${o.maxWaitMs}`);
  }

  get depth(): number {
    return this.queue.length;
  }

  submit(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ input, since: Date.now(), resolve, reject });
      this.o.onDepth?.(this.queue.length);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.running || this.queue.length === 0) return;
    const oldest = this.queue[0] as Waiting<I, O>;
    const wait = this.o.maxWaitMs - (Date.now() - oldest.since);
    if (this.queue.length >= this.o.maxBatch || wait <= 0) {
      this.start();
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.schedule();
    }, wait);
  }

  private start(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue.splice(0, this.o.maxBatch);
    this.o.onDepth?.(this.queue.length);
    this.o.onBatch?.(batch.length);
    this.running = true;
    void this.runBatch(batch).finally(() => {
      this.running = false;
      this.schedule();
    });
  }

  private async runBatch(batch: Waiting<I, O>[]): Promise<void> {
    try {
      const outputs = await this.run(batch.map((w) => w.input));
      if (outputs.length !== batch.length)
        throw new Error(`a batch of ${batch.length} inputs gave ${outputs.length} outputs`);
      for (const [i, w] of batch.entries()) w.resolve(outputs[i] as O);
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  }
}
