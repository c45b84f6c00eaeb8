import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Graph } from '../graph/graph.js';
import { encodeModel } from '../graph/onnx-codec.js';
import type { SavedFloatDtype } from '../io/half.js';
import { readHfConfig } from '../io/hf-config.js';
import { loadPretrained, savePretrained } from '../io/pretrained.js';
import { HfConfigReader } from '../models/hf-config.js';
import type { TrainableModel, Weights } from '../models/model.js';
import { encoderFamilyOf, seq2seqFamilyOf } from '../models/registry.js';
import { seq2seqLmModel } from '../models/seq2seq.js';
import { buildInference } from '../step/step-graph.js';
import { maskedLmModel } from '../tasks/masked-lm/model.js';

/**
 * What `finetune export` writes for any model: the weights as a model folder in `dtype` (with the
 * source's tokenizer and config), and for onnx also model.onnx: the inference graph in float32, or
 * `graph` when given (the int8 rewrite of it).
 */
export function writeExport(
  o: {
    folder: string;
    out: string;
    format: 'onnx' | 'safetensors';
    dtype: SavedFloatDtype;
    architecture?: string;
    graph?: Graph;
  },
  model: TrainableModel,
  weights: Weights,
): number {
  mkdirSync(o.out, { recursive: true });
  savePretrained(o.out, weights, readHfConfig(o.folder), {
    tokenizerFrom: o.folder,
    dtype: o.dtype,
    ...(o.architecture ? { architectures: [o.architecture] } : {}),
  });
  if (o.format === 'onnx') {
    const onnx = encodeModel(o.graph ?? buildInference(model, weights), { producer: 'finetune-workbench' });
    writeFileSync(join(o.out, 'model.onnx'), onnx);
  }
  process.stdout.write(`exported ${o.format}${o.graph ? ' (int8)' : ''} to ${o.out}\n`);
  return 0;
}

/** `finetune export` of a masked-LM folder (task masked-lm's final/): model.onnx gives the vocabulary logits [B, T, V]. */
export function exportMaskedLm(o: {
  folder: string;
  out: string;
  format: 'onnx' | 'safetensors';
  dtype: SavedFloatDtype;
}): number {
  const cfg = new HfConfigReader(readHfConfig(o.folder), join(o.folder, 'config.json'));
  const model = maskedLmModel({ family: encoderFamilyOf(cfg), config: cfg });
  const { weights } = loadPretrained(o.folder, model.params);
  return writeExport({ ...o, architecture: model.head.architecture }, model, weights);
}

/**
 * `finetune export` of an encoder-decoder folder (translation, summarization): model.onnx takes
 * input_ids, attention_mask and decoder_input_ids and gives the vocabulary logits [B, T, V].
 */
export function exportSeq2Seq(o: {
  folder: string;
  out: string;
  format: 'onnx' | 'safetensors';
  dtype: SavedFloatDtype;
}) {
  const cfg = new HfConfigReader(readHfConfig(o.folder), join(o.folder, 'config.json'));
  const family = seq2seqFamilyOf(cfg);
  const model = seq2seqLmModel(family, { config: cfg });
  const { weights } = loadPretrained(o.folder, model.params, {
    basePrefix: family.basePrefix,
    tiedNames: model.seq2seq.tiedNames,
  });
  const architecture = family.conditionalGenerationArchitecture(cfg.str('model_type', ''));
  return writeExport({ ...o, architecture }, model, weights);
}
