/**
 * Graph <-> ONNX ModelProto bytes. A straight mapping: our Values/Nodes/Attrs mirror ONNX's, so
 * the only real work is dtype codes, shapes and tensor payloads.
 */
import { Graph } from './graph.js';
import {
  type AttributeMsg,
  AttributeType,
  type GraphMsg,
  type Int64Like,
  int64ToBigInt,
  int64ToNumber,
  type ModelMsg,
  ModelProto,
  type TensorMsg,
  type ValueInfoMsg,
} from './onnx-schema.js';
import type { Attr, Dim, DType, Node, Shape, TensorArray, TensorData, Value } from './types.js';
import { dtypeFromOnnxCode, numel, ONNX_DTYPE_CODE, typedArrayFor } from './types.js';

export interface EncodeOptions {
  /** Version of the default ('' / ai.onnx) opset. */
  opsetVersion?: number;
  producer?: string;
  docString?: string;
  metadata?: Record<string, string>;
}

export interface DecodedModel {
  graph: Graph;
  opsetVersion: number;
  metadata: Record<string, string>;
}

/** IR version 8 is the one that goes with opset 17 (ONNX 1.12); ORT 1.30 reads up to 11. */
const IR_VERSION = 8;
const DEFAULT_OPSET = 17;

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

// ------------------------------------------------------------------ encoding

function tensorToProto(name: string, t: TensorData): object {
  const d = t.data;
  // raw_data is the tensor's bytes as they sit in memory: little-endian on every platform Node
  // runs on, which is what ONNX specifies. bool is stored one byte per element (Uint8Array).
  return {
    name,
    dims: [...t.dims],
    dataType: ONNX_DTYPE_CODE[t.dtype],
    rawData: new Uint8Array(d.buffer, d.byteOffset, d.byteLength),
  };
}

function typeProto(dtype: DType, shape: Shape | undefined): object {
  const tensorType: { elemType: number; shape?: object } = { elemType: ONNX_DTYPE_CODE[dtype] };
  if (shape) {
    tensorType.shape = {
      dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })),
    };
  }
  return { tensorType };
}

const valueInfo = (v: Value): object => ({ name: v.name, type: typeProto(v.dtype, v.shape) });

function attrToProto(name: string, a: Attr): object {
  switch (a.type) {
    case 'int':
      return { name, type: AttributeType.INT, i: a.value };
    case 'float':
      return { name, type: AttributeType.FLOAT, f: a.value };
    case 'string':
      return { name, type: AttributeType.STRING, s: utf8Encoder.encode(a.value) };
    case 'ints':
      return { name, type: AttributeType.INTS, ints: [...a.value] };
    case 'floats':
      return { name, type: AttributeType.FLOATS, floats: [...a.value] };
    case 'strings':
      return { name, type: AttributeType.STRINGS, strings: a.value.map((s) => utf8Encoder.encode(s)) };
    case 'tensor':
      return { name, type: AttributeType.TENSOR, t: tensorToProto('', a.value) };
  }
}

export function encodeModel(graph: Graph, opts: EncodeOptions = {}): Uint8Array {
  const skip = new Set<string>([...graph.inputs, ...graph.outputs, ...graph.initializers.keys()]);
  // value_info for intermediates only when the shape is known: it lets ORT plan memory and catches
  // our own shape bugs early. Values with unknown shape (decoded graphs) carry a guessed dtype, and
  // a wrong guess written out would make ORT reject the model, so those are left for ORT to infer.
  const intermediates = [...graph.values.values()].filter((v) => !skip.has(v.name) && v.shape !== undefined);

  // Non-default domains used by nodes (e.g. com.microsoft contrib ops) need their own opset entry.
  const domains = new Set(graph.nodes.map((n) => n.domain).filter((d) => d !== '' && d !== 'ai.onnx'));
  const opsetImport = [
    { domain: '', version: opts.opsetVersion ?? DEFAULT_OPSET },
    ...[...domains].map((domain) => ({ domain, version: 1 })),
  ];

  const msg = ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport,
    producerName: opts.producer ?? 'finetune-workbench',
    docString: opts.docString ?? '',
    metadataProps: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: graph.name,
      node: graph.nodes.map((n) => ({
        name: n.name,
        opType: n.opType,
        domain: n.domain,
        input: [...n.inputs],
        output: [...n.outputs],
        attribute: Object.entries(n.attrs).map(([k, a]) => attrToProto(k, a)),
      })),
      initializer: [...graph.initializers].map(([name, t]) => tensorToProto(name, t)),
      input: graph.inputs.map((name) => valueInfo(graph.value(name))),
      output: graph.outputs.map((name) => valueInfo(graph.value(name))),
      valueInfo: intermediates.map(valueInfo),
    },
  });
  return ModelProto.encode(msg).finish();
}

// ------------------------------------------------------------------ decoding

/** Copies raw bytes into a fresh buffer: raw_data is a view into the model at any byte offset. */
function fromRaw(dtype: DType, raw: Uint8Array, count: number, name: string): TensorArray {
  const out = typedArrayFor(dtype, count);
  if (raw.byteLength !== out.byteLength) {
    throw new Error(`onnx: tensor '${name}' has ${raw.byteLength} raw bytes, expected ${out.byteLength}`);
  }
  new Uint8Array(out.buffer).set(raw);
  return out;
}

export function tensorFromProto(t: TensorMsg): TensorData {
  const dtype = dtypeFromOnnxCode(t.dataType, `tensor '${t.name}'`);
  const dims = t.dims.map(int64ToNumber);
  const count = numel(dims);
  if (t.rawData.byteLength > 0 || count === 0) return { dtype, dims, data: fromRaw(dtype, t.rawData, count, t.name) };

  // Typed fields, per the ONNX rules: int32_data also carries int8/uint8/bool/float16 (as bits).
  const data = typedArrayFor(dtype, count);
  const typedField: Partial<Record<DType, ArrayLike<unknown>>> = {
    float32: t.floatData,
    float64: t.doubleData,
    int64: t.int64Data,
  };
  const src = typedField[dtype] ?? t.int32Data;
  if (src.length !== count) {
    throw new Error(`onnx: tensor '${t.name}' has ${src.length} values for shape [${dims.join(', ')}]`);
  }
  if (data instanceof BigInt64Array) {
    for (let i = 0; i < count; i++) data[i] = int64ToBigInt(src[i] as Int64Like);
  } else {
    (data as Float64Array).set(src as ArrayLike<number>);
  }
  return { dtype, dims, data };
}

let unknownDims = 0;

/** dtype/shape of a ValueInfo; unnamed unknown dims get unique symbols so they never compare equal. */
function valueFromInfo(info: ValueInfoMsg): Value {
  const tt = info.type?.tensorType;
  if (!tt) throw new Error(`onnx: value '${info.name}' is not a tensor (sequences/maps are not supported)`);
  const dtype = dtypeFromOnnxCode(tt.elemType, `value '${info.name}'`);
  const shape = tt.shape?.dim.map((d): Dim => {
    if (d.value === 'dimValue') return int64ToNumber(d.dimValue ?? 0);
    if (d.value === 'dimParam' && d.dimParam) return d.dimParam;
    return `unk__${unknownDims++}`;
  });
  return { name: info.name, dtype, shape };
}

function attrFromProto(a: AttributeMsg, where: string): Attr {
  switch (a.type) {
    // f/floats are float32 on the wire: 0.1 comes back as 0.10000000149011612.
    case AttributeType.FLOAT:
      return { type: 'float', value: a.f };
    case AttributeType.INT:
      return { type: 'int', value: int64ToNumber(a.i) };
    case AttributeType.STRING:
      return { type: 'string', value: utf8Decoder.decode(a.s) };
    case AttributeType.TENSOR:
      if (!a.t) throw new Error(`onnx: ${where}: tensor attribute '${a.name}' has no tensor`);
      return { type: 'tensor', value: tensorFromProto(a.t) };
    case AttributeType.FLOATS:
      return { type: 'floats', value: [...a.floats] };
    case AttributeType.INTS:
      return { type: 'ints', value: a.ints.map(int64ToNumber) };
    case AttributeType.STRINGS:
      return { type: 'strings', value: a.strings.map((s) => utf8Decoder.decode(s)) };
    default:
      throw new Error(`onnx: ${where}: attribute '${a.name}' has type ${a.type} (graphs/sparse tensors unsupported)`);
  }
}

/**
 * dtype of a node output that has no value_info. Mostly "same as the first input", which holds for
 * elementwise ops, MatMul, Reshape, Transpose... plus the common ops where it does not. Shape stays
 * undefined: we do not run shape inference on decoded graphs.
 */
const BOOL_OPS = new Set([
  'Equal',
  'Less',
  'LessOrEqual',
  'Greater',
  'GreaterOrEqual',
  'Not',
  'And',
  'Or',
  'Xor',
  'IsNaN',
  'IsInf',
]);

function guessOutputDtype(g: Graph, n: Node): DType {
  const attr = (k: string) => n.attrs[k];
  const to = attr('to');
  if (n.opType === 'Cast' && to?.type === 'int') return dtypeFromOnnxCode(to.value, `Cast '${n.name}'`);
  const value = attr('value');
  if ((n.opType === 'Constant' || n.opType === 'ConstantOfShape') && value?.type === 'tensor') return value.value.dtype;
  if (n.opType === 'ConstantOfShape') return 'float32';
  if (['Shape', 'Size', 'ArgMax', 'ArgMin', 'NonZero'].includes(n.opType)) return 'int64';
  if (BOOL_OPS.has(n.opType)) return 'bool';
  const first = n.inputs.find((i) => i !== '');
  return first !== undefined ? g.value(first).dtype : 'float32';
}

function graphFromProto(gm: GraphMsg): Graph {
  const g = new Graph(gm.name || 'graph');
  // IR<4 models list initializers among the inputs too; they are constants, not feeds.
  const initNames = new Set(gm.initializer.map((t) => t.name));
  for (const info of gm.input) {
    if (initNames.has(info.name)) continue;
    g.addValue(valueFromInfo(info));
    g.inputs.push(info.name);
  }
  for (const t of gm.initializer) {
    const tensor = tensorFromProto(t);
    g.addValue({ name: t.name, dtype: tensor.dtype, shape: [...tensor.dims] });
    g.addInitializer(t.name, tensor);
  }
  const known = new Map<string, ValueInfoMsg>();
  for (const info of [...gm.valueInfo, ...gm.output]) known.set(info.name, info);

  for (const [index, nm] of gm.node.entries()) {
    const name = nm.name || g.uniqueName(`${nm.opType}_${index}`);
    const attrs: Record<string, Attr> = {};
    for (const a of nm.attribute) attrs[a.name] = attrFromProto(a, `node '${name}' (${nm.opType})`);
    const node = g.addNode({
      name,
      opType: nm.opType,
      domain: nm.domain,
      inputs: [...nm.input],
      outputs: [...nm.output],
      attrs,
    });
    for (const out of nm.output) {
      if (out === '' || g.values.has(out)) continue;
      const info = known.get(out);
      g.addValue(
        info?.type?.tensorType
          ? valueFromInfo(info)
          : { name: out, dtype: guessOutputDtype(g, node), shape: undefined },
      );
    }
  }
  for (const info of gm.output) {
    if (!g.values.has(info.name)) throw new Error(`onnx: graph output '${info.name}' is never produced`);
    g.outputs.push(info.name);
  }
  return g;
}

export function decodeModel(bytes: Uint8Array): DecodedModel {
  const model = ModelProto.decode(bytes) as unknown as ModelMsg;
  if (!model.graph) throw new Error('onnx: model has no graph');
  const defaultOpset = model.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  const metadata: Record<string, string> = {};
  for (const { key, value } of model.metadataProps) metadata[key] = value;
  return {
    graph: graphFromProto(model.graph),
    opsetVersion: defaultOpset ? int64ToNumber(defaultOpset.version) : 1,
    metadata,
  };
}
