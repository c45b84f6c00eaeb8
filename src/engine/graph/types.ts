/**
 * The graph IR: a small typed graph of ONNX operators.
 *
 * Values are named edges with a dtype and a (possibly symbolic) shape. Nodes reference values by
 * name, exactly as ONNX does, so encoding and decoding are a straight mapping.
 */

/** Element types we use. Names follow the ONNX TensorProto.DataType spelling in lower case. */
/**
 * Element types. float16 and bfloat16 data are their raw 16-bit patterns (Uint16Array); the engine
 * computes in float32 and meets bfloat16 only in files it writes (safetensors export).
 */
export type DType = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'bool' | 'uint8' | 'int8';

/** A dimension: a fixed size, or a symbol such as "batch" or "batch*seq". */
export type Dim = number | string;

/** A shape; `undefined` where the rank itself is unknown (only for decoded graphs). */
export type Shape = Dim[];

export interface Value {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: Shape | undefined;
}

/** Typed storage per dtype. int64 uses BigInt64Array, as onnxruntime-node does. */
export type TensorArray =
  | Float32Array
  | Float64Array
  | Uint16Array
  | BigInt64Array
  | Int32Array
  | Uint8Array
  | Int8Array;

/** A constant tensor: initializers, Constant nodes and tensor attributes. */
export interface TensorData {
  readonly dtype: DType;
  readonly dims: readonly number[];
  readonly data: TensorArray;
}

export type Attr =
  | { readonly type: 'int'; readonly value: number }
  | { readonly type: 'float'; readonly value: number }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'ints'; readonly value: readonly number[] }
  | { readonly type: 'floats'; readonly value: readonly number[] }
  | { readonly type: 'strings'; readonly value: readonly string[] }
  | { readonly type: 'tensor'; readonly value: TensorData };

export interface Node {
  readonly name: string;
  readonly opType: string;
  /** Empty string marks an omitted optional input, as in ONNX. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs: Readonly<Record<string, Attr>>;
  /** '' is the default ONNX domain. */
  readonly domain: string;
}

export const isFloat = (dtype: DType): boolean =>
  dtype === 'float32' || dtype === 'float64' || dtype === 'float16' || dtype === 'bfloat16';

export function typedArrayFor(dtype: DType, size: number): TensorArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(size);
    case 'float64':
      return new Float64Array(size);
    case 'float16':
    case 'bfloat16':
      return new Uint16Array(size);
    case 'int64':
      return new BigInt64Array(size);
    case 'int32':
      return new Int32Array(size);
    case 'bool':
    case 'uint8':
      return new Uint8Array(size);
    case 'int8':
      return new Int8Array(size);
  }
}

export const numel = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

/** Builds a TensorData from plain numbers (bigint conversion for int64 handled here). */
export function tensorOf(dtype: DType, dims: readonly number[], values: ArrayLike<number>): TensorData {
  const data = typedArrayFor(dtype, values.length);
  if (data instanceof BigInt64Array) {
    for (let i = 0; i < values.length; i++) data[i] = BigInt(Math.trunc(values[i] as number));
  } else {
    (data as Float32Array).set(values);
  }
  if (numel(dims) !== values.length) {
    throw new Error(`tensorOf: ${values.length} values do not fill shape [${dims.join(', ')}]`);
  }
  return { dtype, dims: [...dims], data };
}

/** Reads a tensor's elements as JS numbers (int64 converted). */
export function tensorNumbers(t: TensorData): number[] {
  return Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v));
}

export const formatShape = (shape: Shape | undefined): string => (shape ? `[${shape.join(', ')}]` : '[?]');

/** ONNX TensorProto.DataType codes: used by the codec and by Cast's `to` attribute. */
export const ONNX_DTYPE_CODE: Readonly<Record<DType, number>> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
  bfloat16: 16,
};

const DTYPE_OF_CODE = new Map<number, DType>(Object.entries(ONNX_DTYPE_CODE).map(([k, v]) => [v, k as DType]));

/** The dtype of an ONNX element type code; `what` names the tensor, value or node for the error. */
export function dtypeFromOnnxCode(code: number, what = 'a tensor'): DType {
  const dtype = DTYPE_OF_CODE.get(code);
  if (!dtype) throw new Error(`onnx: ${what} has element type ${code}, which the engine does not support`);
  return dtype;
}
