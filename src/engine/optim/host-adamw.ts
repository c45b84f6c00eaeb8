import type { TensorData } from '../graph/types.js';
import { op, Type, type WasmFunction, wasmModule } from './wasm-module.js';

/**
 * AdamW outside the graph, as one fused WebAssembly SIMD pass per parameter.
 *
 * In the graph, AdamW is ten elementwise ONNX kernels per parameter, each reading and writing whole
 * arrays: for BERT's 30522 × 256 word embeddings alone about 680 MB of memory traffic and 50 ms of a
 * 300 ms step, measured. ONNX Runtime's CPU build in onnxruntime-node has no fused optimizer kernel
 * and loads no custom ops, so the update runs here instead, reading p, m, v and the gradient once
 * and writing p, m, v once. The step graph still computes the gradients, the clip norm and the
 * optimizer's scalars; this pass applies the same float32 operations in the same order as the
 * graph's AdamW, so the results are bit-identical (tested).
 *
 * Two kinds of parameters: tables with a row-sparse gradient (embeddings: the graph outputs the
 * distinct rows and their gradient rows, copied in here), and dense ones (the graph writes the
 * gradient straight into this memory, as a preallocated output). Parameters, moments and gradients
 * live in this object's WebAssembly memory; their TensorData views are what the runner feeds to ORT
 * (no copies). Growing the memory detaches views, so views are refreshed in place.
 */

/** The part of the WebAssembly JS API used here (declared by the DOM lib, which the engine does not load). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
declare const WebAssembly: {
  Memory: new (descriptor: { initial: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
};

/** The AdamW scalars of one step as the graph computes them (float32). */
export interface AdamWStepScalars {
  b1: number;
  b2: number;
  /** Multiplies g (the clip coefficient and 1/accumulation folded in). */
  gradCoef: number;
  /** Multiplies g². */
  squareCoef: number;
  stepSize: number;
  scaledEps: number;
  /** 1 − lr · weight decay; 1 for a table without decay. */
  decayFactor: number;
}

// Parameters and locals of the kernel, by index.
const [P, M, V, ROWS, ROW_BYTES, G_ROWS, G_COUNT, G_VALS] = [0, 1, 2, 3, 4, 5, 6, 7];
const SCALARS = [8, 9, 10, 11, 12, 13, 14]; // b1 b2 gradCoef squareCoef scaledEps stepSize decay
const [R, J, I, BASE, GP, HAS] = [15, 16, 17, 18, 19, 20];
const [B1, B2, C1, C2, EPS, STEP, DEC, M2, V2, G] = [21, 22, 23, 24, 25, 26, 27, 28, 29, 30];

/** Address of element block `i` of row `r` in the array at local `array`. */
const at = (array: number) => [...op.get(array), ...op.get(BASE), ...op.i32Add, ...op.get(I), ...op.i32Add];

/** One row's loop over its 4-float blocks; `moments` leaves M2 and V2 set. */
function rowLoop(moments: number[]): number[] {
  return [
    ...op.i32(0),
    ...op.set(I),
    ...op.block,
    ...op.loop,
    ...op.get(I),
    ...op.get(ROW_BYTES),
    ...op.i32GeU,
    ...op.brIf(1),
    ...moments,
    ...at(M),
    ...op.get(M2),
    ...op.v128Store(),
    ...at(V),
    ...op.get(V2),
    ...op.v128Store(),
    // p ← p·decay − (m / (sqrt(v) + eps)) · step_size
    ...at(P),
    ...at(P),
    ...op.v128Load(),
    ...op.get(DEC),
    ...op.f32x4Mul,
    ...op.get(M2),
    ...op.get(V2),
    ...op.f32x4Sqrt,
    ...op.get(EPS),
    ...op.f32x4Add,
    ...op.f32x4Div,
    ...op.get(STEP),
    ...op.f32x4Mul,
    ...op.f32x4Sub,
    ...op.v128Store(),
    ...op.get(I),
    ...op.i32(16),
    ...op.i32Add,
    ...op.set(I),
    ...op.br(0),
    ...op.end,
    ...op.end,
  ];
}

/** m·b1 (+ g·gradCoef) and v·b2 (+ (g·g)·squareCoef) into M2 and V2. */
function moments(withGradient: boolean): number[] {
  const grad = withGradient
    ? {
        m: [...op.get(G), ...op.get(C1), ...op.f32x4Mul, ...op.f32x4Add],
        v: [...op.get(G), ...op.get(G), ...op.f32x4Mul, ...op.get(C2), ...op.f32x4Mul, ...op.f32x4Add],
      }
    : { m: [], v: [] };
  return [
    ...(withGradient ? [...op.get(GP), ...op.get(I), ...op.i32Add, ...op.v128Load(), ...op.set(G)] : []),
    ...at(M),
    ...op.v128Load(),
    ...op.get(B1),
    ...op.f32x4Mul,
    ...grad.m,
    ...op.set(M2),
    ...at(V),
    ...op.v128Load(),
    ...op.get(B2),
    ...op.f32x4Mul,
    ...grad.v,
    ...op.set(V2),
  ];
}

const KERNEL: WasmFunction = {
  name: 'adamw_rows',
  params: [...Array(8).fill(Type.i32), ...Array(7).fill(Type.f32)],
  locals: [...Array(6).fill(Type.i32), ...Array(10).fill(Type.v128)],
  body: [
    ...SCALARS.flatMap((s, k) => [...op.get(s), ...op.f32x4Splat, ...op.set(B1 + k)]),
    ...op.block,
    ...op.loop,
    ...op.get(R),
    ...op.get(ROWS),
    ...op.i32GeU,
    ...op.brIf(1),
    ...op.get(R),
    ...op.get(ROW_BYTES),
    ...op.i32Mul,
    ...op.set(BASE),
    // Does row r have a gradient row? The gradient's rows are sorted: compare with the next one.
    ...op.i32(0),
    ...op.set(HAS),
    ...op.get(J),
    ...op.get(G_COUNT),
    ...op.i32LtU,
    ...op.if,
    ...op.get(G_ROWS),
    ...op.get(J),
    ...op.i32(4),
    ...op.i32Mul,
    ...op.i32Add,
    ...op.i32Load(),
    ...op.get(R),
    ...op.i32Eq,
    ...op.set(HAS),
    ...op.end,
    ...op.get(HAS),
    ...op.if,
    ...op.get(G_VALS),
    ...op.get(J),
    ...op.get(ROW_BYTES),
    ...op.i32Mul,
    ...op.i32Add,
    ...op.set(GP),
    ...rowLoop(moments(true)),
    ...op.get(J),
    ...op.i32(1),
    ...op.i32Add,
    ...op.set(J),
    ...op.else,
    ...rowLoop(moments(false)),
    ...op.end,
    ...op.get(R),
    ...op.i32(1),
    ...op.i32Add,
    ...op.set(R),
    ...op.br(0),
    ...op.end,
    ...op.end,
  ],
};

/** The kernel's integer arguments: byte offsets of p, m, v, the table's row count and row size, the gradient's rows. */
type KernelArgs = [number, number, number, number, number, number, number, number];
/** KernelArgs, then b1, b2, gradCoef, squareCoef, scaledEps, stepSize, decay. */
type Kernel = (...args: [...KernelArgs, number, number, number, number, number, number, number]) => void;

const PAGE = 65536;
const align16 = (n: number) => Math.ceil(n / 16) * 16;
/** wasm32 memory tops out at 4 GiB; parameters beyond this budget stay in the graph. */
export const HOST_ADAMW_MAX_BYTES = 3.5 * 2 ** 30;

/** A parameter updated here: `rows` for a table with a row-sparse gradient, `dense` otherwise. */
export interface HostParam {
  name: string;
  dims: readonly number[];
  kind: 'rows' | 'dense';
}

interface Slot {
  kind: 'rows' | 'dense';
  rows: number;
  rowBytes: number;
  /** Byte offsets of p, m, v (and the gradient, dense only) in memory. */
  offsets: number[];
  /** The views handed out: their `data` is replaced when the memory grows. */
  views: TensorData[];
}

/** Bytes a parameter takes here: p, m, v, and the gradient of a dense one. */
export const hostBytes = (p: HostParam): number =>
  (p.kind === 'dense' ? 4 : 3) * align16(p.dims.reduce((a, b) => a * b, 1) * 4);

/** Whether the fused kernel can take a parameter: its rows (the whole of a dense one) are whole 4-float blocks. */
export function hostable(dims: readonly number[], kind: 'rows' | 'dense'): boolean {
  const floats = (kind === 'rows' ? dims.slice(1) : dims).reduce((a, b) => a * b, 1);
  return floats > 0 && floats % 4 === 0;
}

/**
 * Which of a train step's parameters (in order) HostAdamW can take: those `hostable` accepts, while
 * HOST_ADAMW_MAX_BYTES of WebAssembly memory lasts. The rest keep the in-graph update.
 */
export function hostAdamWCapacity(params: readonly HostParam[]): boolean[] {
  let budget = HOST_ADAMW_MAX_BYTES;
  return params.map((p) => {
    if (!hostable(p.dims, p.kind) || hostBytes(p) > budget) return false;
    budget -= hostBytes(p);
    return true;
  });
}

export class HostAdamW {
  private readonly memory: WasmMemory;
  private readonly kernel: Kernel;
  private readonly slots = new Map<string, Slot>();
  /** Offset of the scratch area: one int32 0 (a dense parameter's only row: new wasm memory is zeroed), then the sparse rows. */
  private readonly scratch: number;
  private scratchBytes: number;

  constructor(params: readonly HostParam[]) {
    const layout = params.map((p) => {
      if (!hostable(p.dims, p.kind)) throw new Error(`'${p.name}': rows must be whole blocks of 4 floats`);
      const [first = 0, ...rest] = p.dims;
      const rows = p.kind === 'rows' ? first : 1;
      const rowBytes = (p.kind === 'rows' ? rest : p.dims).reduce((a, b) => a * b, 1) * 4;
      return { p, rows, rowBytes };
    });
    this.scratch = layout.reduce((n, l) => n + hostBytes(l.p), 0);
    // Room for 4096 gradient rows of the widest table; more grows the memory (and refreshes the views).
    const widest = Math.max(16, ...layout.filter((l) => l.p.kind === 'rows').map((l) => l.rowBytes));
    this.scratchBytes = 16 + align16(4096 * 4) + 4096 * widest;
    this.memory = new WebAssembly.Memory({ initial: Math.ceil((this.scratch + this.scratchBytes) / PAGE) });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(wasmModule([KERNEL])), {
      env: { memory: this.memory },
    });
    this.kernel = instance.exports.adamw_rows as Kernel;
    let offset = 0;
    for (const { p, rows, rowBytes } of layout) {
      const bytes = align16(rows * rowBytes);
      const offsets = Array.from({ length: p.kind === 'dense' ? 4 : 3 }, (_, k) => offset + k * bytes);
      offset += offsets.length * bytes;
      const views = offsets.map(
        (at): TensorData => ({
          dtype: 'float32',
          dims: p.dims,
          data: new Float32Array(this.memory.buffer, at, (rows * rowBytes) / 4),
        }),
      );
      this.slots.set(p.name, { kind: p.kind, rows, rowBytes, offsets, views });
    }
  }

  private slot(name: string): Slot {
    const s = this.slots.get(name);
    if (!s) throw new Error(`HostAdamW: no parameter '${name}'`);
    return s;
  }

  /** The parameter, first and second moment, as views into this object's memory. */
  views(name: string): [TensorData, TensorData, TensorData] {
    const [p, m, v] = this.slot(name).views as [TensorData, TensorData, TensorData];
    return [p, m, v];
  }

  /** Where the graph writes a dense parameter's gradient (a preallocated output). */
  gradient(name: string): TensorData {
    const s = this.slot(name);
    if (s.kind !== 'dense') throw new Error(`'${name}' has a row-sparse gradient`);
    return s.views[3] as TensorData;
  }

  /** One AdamW step of a dense parameter, from the gradient the graph wrote into gradient(name). */
  updateDense(name: string, s: AdamWStepScalars): void {
    const t = this.slot(name);
    const [p, m, v, g] = t.offsets as [number, number, number, number];
    this.run([p, m, v, 1, t.rowBytes, this.scratch, 1, g], s);
  }

  /**
   * One AdamW step of a table: `rows` the sorted distinct rows with a gradient, `values` their
   * gradient rows ([rows.length, ...]).
   */
  updateRows(name: string, rows: Int32Array, values: Float32Array, s: AdamWStepScalars): void {
    const t = this.slot(name);
    if (t.kind !== 'rows') throw new Error(`'${name}' has a dense gradient`);
    if (values.length * 4 !== rows.length * t.rowBytes)
      throw new Error(`table '${name}': ${rows.length} gradient rows but ${values.length} values`);
    // The kernel walks the table and the gradient rows together: they must be sorted and in range.
    for (let j = 0; j < rows.length; j++) {
      const r = rows[j] as number;
      if (r < 0 || r >= t.rows || (j > 0 && r <= (rows[j - 1] as number)))
        throw new Error(
          `table '${name}': gradient rows must be distinct, sorted and below ${t.rows}; got ${r} at ${j}`,
        );
    }
    const need = 16 + align16(rows.length * 4) + values.length * 4;
    if (need > this.scratchBytes) this.grow(need);
    const gRows = this.scratch + 16;
    const gVals = gRows + align16(rows.length * 4);
    new Int32Array(this.memory.buffer, gRows, rows.length).set(rows);
    new Float32Array(this.memory.buffer, gVals, values.length).set(values);
    const [p, m, v] = t.offsets as [number, number, number];
    this.run([p, m, v, t.rows, t.rowBytes, gRows, rows.length, gVals], s);
  }

  private run(args: KernelArgs, s: AdamWStepScalars): void {
    this.kernel(...args, s.b1, s.b2, s.gradCoef, s.squareCoef, s.scaledEps, s.stepSize, s.decayFactor);
  }

  private grow(bytes: number): void {
    const pages = Math.ceil((this.scratch + bytes) / PAGE) - this.memory.buffer.byteLength / PAGE;
    try {
      if (pages > 0) this.memory.grow(pages);
    } catch (err) {
      throw new Error(
        `AdamW: no memory for ${((this.scratch + bytes) / 2 ** 30).toFixed(2)} GiB of parameters, moments and gradient rows (WebAssembly memory tops out at 4 GiB): lower training.batch_size (${err instanceof Error ? err.message : String(err)})`,
      );
    }
    this.scratchBytes = this.memory.buffer.byteLength - this.scratch;
    // The old ArrayBuffer is detached: point every view at the new one.
    for (const t of this.slots.values()) {
      t.views.forEach((view, k) => {
        (view as { data: TensorData['data'] }).data = new Float32Array(
          this.memory.buffer,
          t.offsets[k] as number,
          (t.rows * t.rowBytes) / 4,
        );
      });
    }
  }
}
