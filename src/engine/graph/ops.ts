/**
 * The op types the engine can build: the one list every per-op table is keyed by.
 *
 * Adding an op means adding its name here; the type checker then refuses to compile until the
 * shape-inference table (shape-inference.ts) and the gradient table (gradients.ts) each have an
 * entry for it, because both are typed `Record<OpType, ...>`. GraphBuilder.op accepts only an
 * OpType, so no code can emit a node whose shape rule or gradient was never declared.
 * test/engine/graph-ops.test.ts checks the same at run time (tables match the list exactly, and
 * every node the builder's methods emit is in it).
 *
 * Decoded ONNX graphs may hold other op types: Node.opType stays a string, and lookups by a
 * node's op type go through isOpType.
 */
export const OP_TYPES = [
  // Elementwise, one input.
  'Identity',
  'Neg',
  'Abs',
  'Sqrt',
  'Reciprocal',
  'Exp',
  'Log',
  'Tanh',
  'Sin',
  'Cos',
  'Erf',
  'Gelu', // com.microsoft contrib op
  'QuickGelu', // com.microsoft contrib op: x·sigmoid(alpha·x), SiLU at alpha 1
  'Sigmoid',
  'Relu',
  'Not',
  'Cast',
  // Elementwise with numpy broadcasting.
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Pow',
  'Max',
  'Min',
  'Sum',
  'Mod',
  'Where',
  // Comparisons and logic (bool results).
  'Equal',
  'Greater',
  'Less',
  'GreaterOrEqual',
  'LessOrEqual',
  'And',
  'Or',
  // Linear algebra, normalisation and activations over an axis.
  'MatMul',
  'Gemm',
  'Softmax',
  'LogSoftmax',
  'LayerNormalization',
  'SimplifiedLayerNormalization', // ONNX Runtime's RMSNorm (its own schema in the default domain)
  // Reductions and scans.
  'ReduceSum',
  'ReduceMean',
  'ReduceMax',
  'ArgMax',
  'CumSum',
  'TopK',
  'Unique',
  // Layout and indexing.
  'Reshape',
  'Transpose',
  'Unsqueeze',
  'Squeeze',
  'Flatten',
  'Slice',
  'Concat',
  'Split',
  'Expand',
  'Pad',
  'Gather',
  'ScatterND',
  'ScatterElements',
  // Shapes and constants.
  'Shape',
  'Size',
  'Constant',
  'ConstantOfShape',
  'Range',
  // Training.
  'Dropout',
  'SoftmaxCrossEntropyLoss',
  // Inference only: int8 dynamic quantization (quantize-int8.ts), as ONNX Runtime's quantizer emits it.
  'DynamicQuantizeLinear',
  'MatMulInteger',
] as const;

export type OpType = (typeof OP_TYPES)[number];

const KNOWN: ReadonlySet<string> = new Set(OP_TYPES);

/** Whether a (possibly decoded) node's op type is one the engine's tables cover. */
export const isOpType = (opType: string): opType is OpType => KNOWN.has(opType);

/** Ops ONNX Runtime runs as views of their input (no copy): a value through them is the same buffer. */
export const VIEW_OPS: ReadonlySet<string> = new Set<OpType>([
  'Reshape',
  'Unsqueeze',
  'Squeeze',
  'Flatten',
  'Identity',
]);
