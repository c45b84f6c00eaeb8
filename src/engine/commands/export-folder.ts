import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Graph } from '../graph/graph.js';
import { encodeModel } from '../graph/onnx-codec.js';
import { runConfigOf } from '../inference/finetuned-model.js';
import { SEQ2SEQ_ONNX_FILES, writeSeq2SeqOnnxLayout } from '../inference/seq2seq-onnx-layout.js';
import type { SavedFloatDtype } from '../io/half.js';
import { pythonJson, readHfConfig, writeHfConfig } from '../io/hf-config.js';
import { loadPretrained, savePretrained } from '../io/pretrained.js';
import { HfConfigReader } from '../models/hf-config.js';
import type { TrainableModel, Weights } from '../models/model.js';
import { encoderFamilyOf, seq2seqFamilyOf } from '../models/registry.js';
import { type Seq2SeqArch, seq2seqLmModel } from '../models/seq2seq.js';
import { buildInference } from '../step/step-graph.js';
import { maskedLmModel } from '../tasks/masked-lm/model.js';

const GENERATION_CONFIG = 'generation_config.json';

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
 * `finetune export` of an encoder-decoder folder (translation, summarization): the model folder,
 * model.onnx (input_ids, attention_mask and decoder_input_ids -> the vocabulary logits [B, T, V],
 * teacher forcing) and, for onnx, Optimum's seq2seq layout (encoder_model.onnx, decoder_model.onnx,
 * decoder_with_past_model.onnx: seq2seq-onnx-layout.ts) with generation_config.json, which predict
 * and serve load. A run's task and `data.source_prefix` go into config.json as transformers'
 * `finetuning_task` and `prefix` (what its text2text pipelines prepend), so the export predicts as
 * the run's final/ does.
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
  writeExport({ ...o, architecture }, model, weights);
  const run = runConfigOf(o.folder);
  if (run) {
    const config = readHfConfig(o.out);
    writeHfConfig(o.out, { ...config, finetuning_task: run.task, prefix: run.data.source_prefix ?? '' });
  }
  if (o.format === 'onnx') {
    const seq2seq = family.seq2seq(cfg);
    writeSeq2SeqOnnxLayout(o.out, seq2seq, weights);
    writeGenerationConfig(o.folder, o.out, seq2seq.arch);
    process.stdout.write(`wrote ${Object.values(SEQ2SEQ_ONNX_FILES).join(', ')} (Optimum's seq2seq layout)\n`);
  }
  return 0;
}

/** The source's generation_config.json, else the one transformers derives from config.json (GenerationConfig.from_model_config). */
function writeGenerationConfig(folder: string, out: string, arch: Seq2SeqArch): void {
  const source = join(folder, GENERATION_CONFIG);
  if (existsSync(source)) {
    copyFileSync(source, join(out, GENERATION_CONFIG));
    return;
  }
  const config: Record<string, unknown> = {
    _from_model_config: true,
    decoder_start_token_id: arch.decoderStartTokenId,
    pad_token_id: arch.padTokenId,
    transformers_version: readHfConfig(folder).transformers_version ?? '4.46.3',
  };
  if (arch.eosTokenId !== null) config.eos_token_id = arch.eosTokenId;
  writeFileSync(join(out, GENERATION_CONFIG), pythonJson(config));
}
