import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GraphBuilder } from '../graph/builder.js';
import { Graph, pruneToOutputs } from '../graph/graph.js';
import { encodeModel } from '../graph/onnx-codec.js';
import type { TensorData, Value } from '../graph/types.js';
import { modelFolderOf } from '../inference/finetuned-model.js';
import { readHfConfig } from '../io/hf-config.js';
import { loadPretrained } from '../io/pretrained.js';
import { causalLmModel } from '../models/decoder.js';
import { HfConfigReader } from '../models/hf-config.js';
import { frozenParams } from '../models/model.js';
import { decoderFamilyOf } from '../models/registry.js';
import { createSession, type DeviceChoice } from '../runtime.js';
import type { Batch } from '../step/batch.js';

/**
 * The teacher of a causal-LM distillation: a decoder (a run's final/ or a Hugging Face folder)
 * opened as an inference session in the training process, whose next-token logits over the whole
 * vocabulary are computed for each training batch as it is drawn (no cache: a vocabulary-sized
 * row per token would be far larger than the data). It must share the student's tokenizer and
 * vocabulary size, since the KL term compares distributions over the same token ids.
 */
export interface LmTeacher {
  folder: string;
  vocabSize: number;
  /** Logits [B, T, V] for a training batch's input_ids and attention_mask. */
  logits(batch: Batch): Promise<TensorData>;
  dispose(): Promise<void>;
}

export async function openLmTeacher(
  path: string,
  student: { folder: string; vocabSize: number },
  o: { device?: DeviceChoice; threads?: number } = {},
): Promise<LmTeacher> {
  const folder = modelFolderOf(path);
  checkSameTokenizer(folder, student.folder);
  const cfg = new HfConfigReader(readHfConfig(folder), `${folder}/config.json`);
  const family = decoderFamilyOf(cfg);
  const model = causalLmModel(family, { config: cfg });
  const vocabSize = model.decoder.arch.vocabSize;
  if (vocabSize !== student.vocabSize)
    throw new Error(
      `the teacher ${folder}/config.json has vocab_size ${vocabSize}, the student ${student.folder}/config.json ${student.vocabSize}: causal-LM distillation needs one vocabulary`,
    );
  const loaded = loadPretrained(folder, model.params, { basePrefix: family.basePrefix });
  if (loaded.missing.length > 0)
    throw new Error(`teacher ${folder}: the checkpoint lacks ${loaded.missing.join(', ')}: not a complete model`);
  const g = new GraphBuilder(new Graph('causal_lm_teacher'));
  const ids = g.input('input_ids', 'int64', ['batch', 'seq']);
  const mask = g.input('attention_mask', 'int64', ['batch', 'seq']);
  const ctx = model.decoder.context(g, frozenParams(g, loaded.weights), 'eval');
  const out = model.decoder.forward(ctx, { inputIds: ids, attentionMask: mask });
  const logits = model.decoder.lmHead(ctx, out.hidden);
  g.output(g.op('Identity', [logits], {}, { outputNames: ['logits'] })[0] as Value);
  const session = await createSession(encodeModel(pruneToOutputs(g.graph)), {
    device: o.device ?? 'cpu',
    ...(o.threads ? { threads: o.threads } : {}),
  });
  return {
    folder,
    vocabSize,
    async logits(batch) {
      const feeds = { input_ids: batch.input_ids as TensorData, attention_mask: batch.attention_mask as TensorData };
      return (await session.run(feeds, ['logits'])).logits as TensorData;
    },
    dispose: () => session.dispose(),
  };
}

/** The parts of tokenizer.json that decide the token ids of a text. */
function tokenizerIdentity(folder: string): { file: string; key: string; describe: string } {
  const file = join(folder, 'tokenizer.json');
  if (!existsSync(file)) return { file: `${folder} (no tokenizer.json)`, key: '', describe: 'no tokenizer.json' };
  const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const model = (json.model ?? {}) as { type?: string; vocab?: object };
  const size = model.vocab ? Object.keys(model.vocab).length : 0;
  const key = JSON.stringify([json.model, json.added_tokens, json.normalizer, json.pre_tokenizer]);
  return { file, key, describe: `${model.type ?? 'unknown model'}, ${size} tokens` };
}

/** An error naming both tokenizers unless the teacher's and the student's tokenizer.json agree. */
export function checkSameTokenizer(teacherFolder: string, studentFolder: string): void {
  const t = tokenizerIdentity(teacherFolder);
  const s = tokenizerIdentity(studentFolder);
  if (t.key !== '' && t.key === s.key) return;
  throw new Error(
    `the teacher's tokenizer ${t.file} (${t.describe}) is not the student's ${s.file} (${s.describe}): causal-LM distillation compares next-token distributions, so both need the same tokenizer`,
  );
}
