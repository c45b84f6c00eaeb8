/**
 * The subset of the ONNX protobuf schema that the codec reads and writes, written here by hand
 * (field numbers are the ONNX wire format; names and layout are ours). Parsed once at load time
 * with protobufjs, so there is no generated code and no .proto file to ship.
 *
 * Written as proto3 for brevity. ONNX itself is proto2, but the wire format is the same: proto3
 * packs repeated scalars by default and every protobuf parser (ONNX Runtime's included) must accept
 * both packed and unpacked encodings, so models we write load anywhere and models written by
 * others decode here.
 */

// Default import on purpose: protobufjs is CommonJS without an __esModule marker, so the default
// import is `module.exports` under tsx, esbuild (cjs or esm output) and native Node ESM alike,
// whereas `import * as` loses `parse` under native Node ESM (its exports are not statically
// detectable).
import protobuf from 'protobufjs';

const SCHEMA = `
syntax = "proto3";
package onnx;

message ModelProto {
  int64 ir_version = 1;
  repeated OperatorSetIdProto opset_import = 8;
  string producer_name = 2;
  string producer_version = 3;
  string domain = 4;
  int64 model_version = 5;
  string doc_string = 6;
  GraphProto graph = 7;
  repeated StringStringEntryProto metadata_props = 14;
}

message OperatorSetIdProto {
  string domain = 1;
  int64 version = 2;
}

message StringStringEntryProto {
  string key = 1;
  string value = 2;
}

message GraphProto {
  repeated NodeProto node = 1;
  string name = 2;
  repeated TensorProto initializer = 5;
  string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  string name = 3;
  string op_type = 4;
  string domain = 7;
  repeated AttributeProto attribute = 5;
  string doc_string = 6;
}

message AttributeProto {
  enum AttributeType {
    UNDEFINED = 0; FLOAT = 1; INT = 2; STRING = 3; TENSOR = 4; GRAPH = 5; FLOATS = 6; INTS = 7;
    STRINGS = 8; TENSORS = 9; GRAPHS = 10; SPARSE_TENSOR = 11; SPARSE_TENSORS = 12;
  }
  string name = 1;
  string doc_string = 13;
  AttributeType type = 20;
  float f = 2;
  int64 i = 3;
  bytes s = 4;
  TensorProto t = 5;
  GraphProto g = 6;
  repeated float floats = 7;
  repeated int64 ints = 8;
  repeated bytes strings = 9;
  repeated TensorProto tensors = 10;
  repeated GraphProto graphs = 11;
}

message ValueInfoProto {
  string name = 1;
  TypeProto type = 2;
  string doc_string = 3;
}

message TypeProto {
  message Tensor {
    int32 elem_type = 1;
    TensorShapeProto shape = 2;
  }
  oneof value {
    Tensor tensor_type = 1;
  }
  string denotation = 6;
}

message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    }
    string denotation = 3;
  }
  repeated Dimension dim = 1;
}

message TensorProto {
  enum DataType {
    UNDEFINED = 0; FLOAT = 1; UINT8 = 2; INT8 = 3; UINT16 = 4; INT16 = 5; INT32 = 6; INT64 = 7;
    STRING = 8; BOOL = 9; FLOAT16 = 10; DOUBLE = 11; UINT32 = 12; UINT64 = 13; BFLOAT16 = 16;
  }
  repeated int64 dims = 1;
  int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  repeated int32 int32_data = 5 [packed = true];
  repeated bytes string_data = 6;
  repeated int64 int64_data = 7 [packed = true];
  string name = 8;
  string doc_string = 12;
  bytes raw_data = 9;
  repeated double double_data = 10 [packed = true];
  repeated uint64 uint64_data = 11 [packed = true];
}
`;

/** Parsed once; field names are camelCased by protobufjs (raw_data -> rawData). */
const root = protobuf.parse(SCHEMA).root;

export const ModelProto: protobuf.Type = root.lookupType('onnx.ModelProto');

/** AttributeProto.AttributeType values we map (others are rejected by the decoder). */
export const AttributeType = {
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
} as const;

/**
 * An int64/uint64 as protobufjs hands it back: a Long when the `long` package is loadable (it is a
 * dependency of protobufjs, but bundlers or a different install may drop it), otherwise a number;
 * strings and bigints accepted too so callers never need to care.
 */
export type Int64Like = number | string | bigint | { low: number; high: number; unsigned?: boolean };

/** Exact conversion to bigint (two's complement for signed values). */
export function int64ToBigInt(v: Int64Like, unsigned = false): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  if (typeof v === 'string') return BigInt(v);
  const bits = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
  return unsigned || v.unsigned ? bits : BigInt.asIntN(64, bits);
}

/** Conversion to a JS number; throws rather than silently losing precision (dims, attribute ints). */
export function int64ToNumber(v: Int64Like): number {
  if (typeof v === 'number') return v;
  const n = Number(int64ToBigInt(v));
  if (!Number.isSafeInteger(n))
    throw new Error(`onnx: int64 value ${String(int64ToBigInt(v))} is not a safe JS integer`);
  return n;
}

// ---- Shapes of the decoded messages, for the fields the codec reads. ----

export interface TensorMsg {
  dims: Int64Like[];
  dataType: number;
  floatData: number[];
  int32Data: number[];
  int64Data: Int64Like[];
  doubleData: number[];
  uint64Data: Int64Like[];
  stringData: Uint8Array[];
  name: string;
  rawData: Uint8Array;
}

export interface DimensionMsg {
  dimValue?: Int64Like | null;
  dimParam?: string | null;
  /** Which oneof member is set ('dimValue' | 'dimParam'), undefined when neither. */
  value?: string;
}

export interface ValueInfoMsg {
  name: string;
  type?: { tensorType?: { elemType: number; shape?: { dim: DimensionMsg[] } | null } | null } | null;
}

export interface AttributeMsg {
  name: string;
  type: number;
  f: number;
  i: Int64Like;
  s: Uint8Array;
  t?: TensorMsg | null;
  floats: number[];
  ints: Int64Like[];
  strings: Uint8Array[];
}

export interface NodeMsg {
  input: string[];
  output: string[];
  name: string;
  opType: string;
  domain: string;
  attribute: AttributeMsg[];
}

export interface GraphMsg {
  node: NodeMsg[];
  name: string;
  initializer: TensorMsg[];
  input: ValueInfoMsg[];
  output: ValueInfoMsg[];
  valueInfo: ValueInfoMsg[];
}

export interface ModelMsg {
  irVersion: Int64Like;
  opsetImport: { domain: string; version: Int64Like }[];
  producerName: string;
  graph?: GraphMsg | null;
  metadataProps: { key: string; value: string }[];
}
