import type { TensorData } from '../graph/types.js';
import { op, Type, type WasmFunction, wasmModule } from './wasm-module.js';

/**
 * AdamW for embedding tables with a row-sparse gradient, as one fused WebAssembly SIMD pass.
 *
 * Exact AdamW moves every row of a table every step (moments decay, weight decay applies), so the
 * in-graph update of BERT's 30522 × 256 table is ten elementwise ONNX kernels over 31 MB arrays:
 * about 680 MB of memory traffic and 50 ms of a 300 ms step, measured. ONNX Runtime's CPU build in
 * onnxruntime-node has no fused optimizer kernel and loads no custom ops, so the table's update runs
 * here instead, reading and writing p, m and v once (190 MB). The step graph still computes the
 * sparse gradient, the clip norm and the optimizer's scalars; this pass applies the same float32
 * operations in the same order as the graph's sparse path, so the results are bit-identical.
 *
 * The tables live in this object's WebAssembly memory; their TensorData views are what the runner
 * feeds to ORT (no copies). Growing the memory detaches views, so views are refreshed in place.
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
const [R, J, I, BASE, GP] = [15, 16, 17, 18, 19];
const [B1, B2, C1, C2, EPS, STEP, DEC, M2, V2, G] = [20, 21, 22, 23, 24, 25, 26, 27, 28, 29];

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
  locals: [...Array(5).fill(Type.i32), ...Array(10).fill(Type.v128)],
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

type Kernel = (
  p: number,
  m: number,
  v: number,
  rows: number,
  rowBytes: number,
  gRows: number,
  gCount: number,
  gVals: number,
  b1: number,
  b2: number,
  gradCoef: number,
  squareCoef: number,
  scaledEps: number,
  stepSize: number,
  decay: number,
) => void;

const PAGE = 65536;
const align16 = (n: number) => Math.ceil(n / 16) * 16;

interface Table {
  rows: number;
  rowBytes: number;
  /** Byte offsets of p, m, v in memory. */
  offsets: [number, number, number];
  /** The views handed out: their `data` is replaced when the memory grows. */
  views: [TensorData, TensorData, TensorData];
}

export class TableAdamW {
  private readonly memory: WasmMemory;
  private readonly kernel: Kernel;
  private readonly tables = new Map<string, Table>();
  private scratch = 0;
  private scratchBytes = 0;

  /** `shapes`: each table's [rows, columns...]; a row must be a multiple of 4 floats. */
  constructor(shapes: ReadonlyMap<string, readonly number[]>) {
    let offset = 0;
    const layout: [string, readonly number[], number, number][] = [];
    for (const [name, dims] of shapes) {
      const [rows = 0, ...rest] = dims;
      const width = rest.reduce((a, b) => a * b, 1);
      if (width % 4 !== 0) throw new Error(`table '${name}': rows of ${width} floats are not a multiple of 4`);
      layout.push([name, dims, rows, width * 4]);
      offset += 3 * align16(rows * width * 4);
    }
    this.scratch = offset;
    // Room for 4096 gradient rows of the widest table; more grows the memory (and refreshes the views).
    this.scratchBytes = align16(4096 * 4) + 4096 * Math.max(16, ...layout.map((l) => l[3]));
    this.memory = new WebAssembly.Memory({ initial: Math.ceil((offset + this.scratchBytes) / PAGE) });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(wasmModule([KERNEL])), {
      env: { memory: this.memory },
    });
    this.kernel = instance.exports.adamw_rows as Kernel;
    offset = 0;
    for (const [name, dims, rows, rowBytes] of layout) {
      const bytes = align16(rows * rowBytes);
      const offsets: [number, number, number] = [offset, offset + bytes, offset + 2 * bytes];
      offset += 3 * bytes;
      const view = (at: number): TensorData => ({
        dtype: 'float32',
        dims,
        data: new Float32Array(this.memory.buffer, at, (rows * rowBytes) / 4),
      });
      this.tables.set(name, { rows, rowBytes, offsets, views: [view(offsets[0]), view(offsets[1]), view(offsets[2])] });
    }
  }

  /** The parameter, first and second moment of a table, as views into this object's memory. */
  views(name: string): [TensorData, TensorData, TensorData] {
    const t = this.tables.get(name);
    if (!t) throw new Error(`no table '${name}'`);
    return t.views;
  }

  /**
   * One AdamW step of a table: `rows` the sorted distinct rows with a gradient, `values` their
   * gradient rows ([rows.length, ...]).
   */
  update(name: string, rows: Int32Array, values: Float32Array, s: AdamWStepScalars): void {
    const t = this.tables.get(name);
    if (!t) throw new Error(`no table '${name}'`);
    if (values.length * 4 !== rows.length * t.rowBytes)
      throw new Error(`table '${name}': ${rows.length} gradient rows but ${values.length} values`);
    const need = align16(rows.length * 4) + values.length * 4;
    if (need > this.scratchBytes) this.grow(need);
    const gRows = this.scratch;
    const gVals = this.scratch + align16(rows.length * 4);
    new Int32Array(this.memory.buffer, gRows, rows.length).set(rows);
    new Float32Array(this.memory.buffer, gVals, values.length).set(values);
    const [p, m, v] = t.offsets;
    this.kernel(
      p,
      m,
      v,
      t.rows,
      t.rowBytes,
      gRows,
      rows.length,
      gVals,
      s.b1,
      s.b2,
      s.gradCoef,
      s.squareCoef,
      s.scaledEps,
      s.stepSize,
      s.decayFactor,
    );
  }

  private grow(bytes: number): void {
    const pages = Math.ceil((this.scratch + bytes) / PAGE) - this.memory.buffer.byteLength / PAGE;
    if (pages > 0) this.memory.grow(pages);
    this.scratchBytes = this.memory.buffer.byteLength - this.scratch;
    // The old ArrayBuffer is detached: point every view at the new one.
    for (const t of this.tables.values()) {
      t.views.forEach((view, k) => {
        (view as { data: TensorData['data'] }).data = new Float32Array(
          this.memory.buffer,
          t.offsets[k],
          (t.rows * t.rowBytes) / 4,
        );
      });
    }
  }
}
